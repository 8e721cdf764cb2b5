"""Two `reminders send` runs at the same moment send each reminder once (real concurrency)."""

import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from portal.audiences.services import AudienceSpec
from portal.extensions import db
from portal.library import services as library
from portal.mail.models import OutboxMessage
from portal.partners.models import Partner
from portal.people.models import User
from portal.reminders import sending, services
from portal.reminders.models import ReminderSent

PUBLISHED = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
DUE = date(2026, 3, 16)  # PUBLISHED + 14 days


@pytest.fixture
def clock(monkeypatch):
    """Documents are published at PUBLISHED."""
    monkeypatch.setattr(library, "utcnow", lambda: PUBLISHED)


def test_two_runs_at_once_send_each_reminder_once(shared_app, clock):
    """Two runs planning the same reminders at the same moment queue one digest per person."""
    app = shared_app
    with app.app_context():
        partner = Partner(slug="atlas", name="Atlas", timezone="UTC")
        db.session.add(partner)
        db.session.flush()
        people = [
            User(
                email=f"agent{n}@example.com",
                name=f"Agent {n}",
                role="agent",
                partner_id=partner.id,
                created_at=datetime(2025, 6, 1, tzinfo=UTC),
            )
            for n in range(30)
        ]
        db.session.add_all(people)
        for title in ("Refunds", "Escalations"):
            doc = library.create_document(
                None,
                library.DocumentDetails(
                    title=title, kind="playbook", audience=AudienceSpec(), requires_ack=True
                ),
                body="Read me.",
            )
            library.publish(None, doc)
        db.session.commit()

    barrier = threading.Barrier(2)
    results, errors = [], []

    def one_run():
        try:
            with app.app_context():
                plan = sending.plan(services.reminders_due(DUE))
                db.session.commit()
                barrier.wait(timeout=30)
                summary = sending.Summary()
                for batch in plan.batches(7):
                    summary.add(sending.send_batch(batch))
                    db.session.commit()
                results.append(summary)
        except Exception as exc:  # a thread's exception would otherwise vanish
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=one_run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(results) == 2
    # Between them the runs sent each of the 60 reminders once and skipped the other's 60.
    assert sum(s.people for s in results) == 30
    assert sum(s.items for s in results) == 60
    assert sum(s.skipped for s in results) == 60
    with app.app_context():
        per_person = db.session.execute(
            select(OutboxMessage.user_id, db.func.count())
            .where(OutboxMessage.template == sending.PERSON_TEMPLATE)
            .group_by(OutboxMessage.user_id)
        ).all()
        reminders = db.session.scalar(select(db.func.count()).select_from(ReminderSent))
    assert len(per_person) == 30 and all(count == 1 for _, count in per_person)
    assert reminders == 60

"""Reminders: `flask --app wsgi reminders send` and the due-items query behind it."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.acknowledgements import services as acks
from portal.extensions import db
from portal.library import services as library
from portal.library.models import Document
from portal.mail.models import OutboxMessage
from portal.mail.outbox import render
from portal.notifications.models import Notification
from portal.partners.models import Partner
from portal.people.models import User
from portal.reminders import sending, services
from portal.reminders.cli import reminders_cli
from portal.reminders.models import ReminderSent
from tests.helpers import count_queries

LONG_AGO = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)  # when most test people joined
PUBLISHED = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
DUE = date(2026, 3, 16)  # PUBLISHED + ACKNOWLEDGE_WITHIN_DAYS (14), in UTC
AGENTS = {"roles": ["agent"]}


@pytest.fixture(autouse=True)
def cli(app):
    """The reminders command on the test app (create_app registers it in the portal)."""
    if "reminders" not in app.cli.commands:
        app.cli.add_command(reminders_cli)


@pytest.fixture
def clock(monkeypatch):
    """Sets when documents are published: ``clock.at(datetime)``."""

    class Clock:
        now = PUBLISHED

        def at(self, when):
            self.now = when

    value = Clock()
    monkeypatch.setattr(library, "utcnow", lambda: value.now)
    return value


@pytest.fixture
def agent_at(make_user):
    def make(partner=None, *, joined=LONG_AGO, **kwargs):
        return make_user("agent", partner=partner, created_at=joined, **kwargs)

    return make


@pytest.fixture
def document(make_document, clock):
    """A published document asking agents to acknowledge it (published at ``published``)."""

    def make(title=None, *, published=PUBLISHED, **kwargs):
        clock.at(published)
        kwargs.setdefault("audience", AGENTS)
        return make_document(title, requires_ack=True, **kwargs)

    return make


def run(runner, today, *extra):
    result = runner.invoke(args=["reminders", "send", "--today", today.isoformat(), *extra])
    assert result.exit_code == 0, result.output
    return result


def digests(app, template=sending.PERSON_TEMPLATE):
    """Queued digest mails as (user id, context), oldest first."""
    with app.app_context():
        rows = db.session.execute(
            select(OutboxMessage.user_id, OutboxMessage.context)
            .where(OutboxMessage.template == template)
            .order_by(OutboxMessage.id)
        ).all()
    return [tuple(row) for row in rows]


def titles(context):
    return [item["title"] for item in context["items"]]


def publish_version(app, document_id, level, when, clock):
    clock.at(when)
    with app.app_context():
        doc = db.session.get(Document, document_id)
        library.save_draft(
            None,
            doc,
            title=doc.title,
            body=f"Text at {when}",
            summary="Changed",
            change_level=level,
        )
        library.publish(None, doc)
        db.session.commit()


def acknowledge(app, person, document_id):
    with app.app_context():
        doc = db.session.get(Document, document_id)
        acks.acknowledge(db.session.get(User, person.id), doc, doc.current_version_id)
        db.session.commit()


def test_reminders_follow_the_cadence_and_nothing_else(app, runner, agent_at, document):
    """7 days before, 1 day before, on the due date, then every 3 days overdue; silent otherwise."""
    agent = agent_at()
    document("Refund playbook")
    reminded = {}
    for offset in range(-9, 11):
        day = DUE + timedelta(days=offset)
        before = len(digests(app))
        run(runner, day)
        new = digests(app)[before:]
        if new:
            assert [user for user, _ in new] == [agent.id]
            reminded[offset] = new[0][1]["items"][0]
    assert sorted(reminded) == [-7, -1, 0, 3, 6, 9]
    assert reminded[-7]["days_left"] == 7 and not reminded[-7]["overdue"]
    assert reminded[0]["days_left"] == 0 and reminded[0]["due_on"] == DUE.isoformat()
    assert reminded[6]["overdue"] and reminded[6]["days_overdue"] == 6
    with app.app_context():
        stages = db.session.scalars(select(ReminderSent.stage).order_by(ReminderSent.id)).all()
    assert stages == ["before-7", "before-1", "due", "overdue-3", "overdue-6", "overdue-9"]


def test_the_cadence_is_configurable(app, runner, agent_at, document):
    """REMINDER_CADENCE and REMINDER_OVERDUE_EVERY_DAYS change the days reminders go out."""
    app.config.update(REMINDER_CADENCE="2", REMINDER_OVERDUE_EVERY_DAYS=1)
    agent_at()
    document()
    sent_on = []
    for offset in range(-3, 3):
        before = len(digests(app))
        run(runner, DUE + timedelta(days=offset))
        if len(digests(app)) > before:
            sent_on.append(offset)
    assert sent_on == [-2, 1, 2]


@pytest.mark.parametrize(
    "setting, value", [("REMINDER_CADENCE", "seven"), ("REMINDER_OVERDUE_EVERY_DAYS", 0)]
)
def test_a_bad_cadence_setting_gets_a_clear_message(
    app, runner, agent_at, document, setting, value
):
    """A cadence setting that makes no sense stops the command with a message, sending nothing."""
    app.config[setting] = value
    agent_at()
    document()
    result = runner.invoke(args=["reminders", "send", "--today", DUE.isoformat()])
    assert result.exit_code == 1
    assert f"The setting {setting} “{value}”" in result.output
    assert digests(app) == []


def test_a_bad_date_gets_a_clear_message(runner):
    """--today must be a date."""
    result = runner.invoke(args=["reminders", "send", "--today", "next tuesday"])
    assert result.exit_code == 1
    assert "“next tuesday” is not a date; use YYYY-MM-DD." in result.output


def test_a_late_joiner_gets_their_own_deadline(app, runner, agent_at, document):
    """Someone who joins after publication is due 14 days after joining, not on the old date."""
    early = agent_at()
    partner_id = early.partner_id
    with app.app_context():
        partner = db.session.get(Partner, partner_id)
        db.session.expunge(partner)
    late = agent_at(partner, joined=datetime(2026, 3, 20, 15, 0, tzinfo=UTC))
    document()
    run(runner, DUE)
    assert [user for user, _ in digests(app)] == [early.id]
    run(runner, date(2026, 3, 27))  # 7 days before the late joiner's own due date (3 April)
    (user, context) = digests(app)[-1]
    assert user == late.id
    assert context["items"][0]["due_on"] == "2026-04-03"
    assert context["items"][0]["days_left"] == 7


def test_acknowledging_stops_the_reminders(app, runner, agent_at, document):
    """Once acknowledged, a document is never mentioned again."""
    agent = agent_at()
    doc = document()
    run(runner, DUE - timedelta(days=7))
    acknowledge(app, agent, doc.id)
    for offset in (-1, 0, 3):
        run(runner, DUE + timedelta(days=offset))
    assert len(digests(app)) == 1


def test_a_minor_version_keeps_the_deadline_and_a_material_one_starts_a_new_one(
    app, runner, agent_at, document, clock
):
    """A minor change does not restart reminders; a material change asks again with a new date."""
    waiting, done = agent_at(), agent_at()
    doc = document()
    acknowledge(app, done, doc.id)
    publish_version(app, doc.id, "minor", datetime(2026, 3, 5, 10, 0, tzinfo=UTC), clock)
    run(runner, DUE - timedelta(days=7))  # the first deadline still holds for the waiting one
    assert [user for user, _ in digests(app)] == [waiting.id]
    run(runner, date(2026, 3, 12))  # would be 7 days before a deadline moved by the minor version
    assert len(digests(app)) == 1

    publish_version(app, doc.id, "material", datetime(2026, 3, 12, 10, 0, tzinfo=UTC), clock)
    run(runner, date(2026, 3, 19))  # 7 days before 26 March, the new deadline
    new = digests(app)[1:]
    assert sorted(user for user, _ in new) == sorted([waiting.id, done.id])
    assert {ctx["items"][0]["due_on"] for _, ctx in new} == {"2026-03-26"}


def test_one_digest_lists_all_of_a_persons_items(app, runner, agent_at, document):
    """Several items due the same day arrive in one email, overdue ones first."""
    agent = agent_at(language="en", name="Maria Santos")
    document("Old policy", published=PUBLISHED - timedelta(days=3))  # due 13 March
    document("New playbook", published=PUBLISHED + timedelta(days=7))  # due 23 March
    document("Not today", published=PUBLISHED + timedelta(days=5))  # due 21 March
    run(runner, DUE)  # 3 days after the first, 7 days before the second
    [(user, context)] = digests(app)
    assert user == agent.id
    assert titles(context) == ["Old policy", "New playbook"]
    assert context["overdue_count"] == 1
    with app.app_context():
        notes = db.session.scalars(
            select(Notification).where(Notification.user_id == agent.id, Notification.url == "/")
        ).all()
        message = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.template == sending.PERSON_TEMPLATE)
        ).one()
        email = render(message, db.session.get(User, agent.id))
    assert [(n.category, n.title) for n in notes] == [
        ("overdue", "Reminder: 1 overdue, 1 due soon")
    ]
    body = email.get_content()
    assert email["Subject"] == "Overdue: 1 of 2 items waiting for you"
    assert "Hello Maria Santos" in body
    assert "Overdue by 3 days (it was due on 2026-03-13)" in body
    assert "Due in 7 days, on 2026-03-23" in body
    assert f"/library/{_document_id(app, 'New playbook')}" in body


def _document_id(app, title):
    with app.app_context():
        return db.session.scalar(select(Document.id).where(Document.title == title))


def test_running_twice_sends_nothing_new(app, runner, agent_at, document, monkeypatch):
    """A second run the same day queues nothing and says what it skipped; batches show progress."""
    monkeypatch.setattr("portal.reminders.cli.BATCH_SIZE", 1)
    agent_at(), agent_at()
    document()
    first = run(runner, DUE)
    second = run(runner, DUE)
    assert "Reminded 2 people of 2 items; 0 already sent" in first.stdout
    assert "Processed 1 of 2 people." in first.stderr
    assert "Reminded 0 people of 0 items; 2 already sent" in second.stdout
    assert len(digests(app)) == 2
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(ReminderSent)) == 2


def test_a_dry_run_counts_and_writes_nothing(app, runner, agent_at, document):
    """--dry-run prints what would be sent and records nothing, so the real run still sends."""
    agent_at()
    document()
    result = run(runner, DUE, "--dry-run")
    assert "Reminded 1 person of 1 item" in result.output and "Dry run" in result.output
    assert digests(app) == []
    assert "Reminded 1 person of 1 item" in run(runner, DUE).output
    assert len(digests(app)) == 1


def test_deactivated_people_and_paused_partners_get_nothing(app, runner, agent_at, document):
    """Only active people of active partners are reminded."""
    active = agent_at()
    agent_at(active=False)
    paused = agent_at()
    with app.app_context():
        db.session.get(Partner, paused.partner_id).active = False
        db.session.commit()
    document()
    run(runner, DUE)
    assert [user for user, _ in digests(app)] == [active.id]


def test_trainers_get_a_daily_digest_of_their_own_partners_overdue_people(
    app, runner, make_partner, make_user, agent_at, document
):
    """Active trainers hear about their own partner's overdue, active people, once a day."""
    north, south = make_partner(), make_partner()
    trainer = make_user("trainer", partner=north, created_at=LONG_AGO)
    make_user("trainer", partner=north, created_at=LONG_AGO, active=False)
    south_trainer = make_user("trainer", partner=south, created_at=LONG_AGO)
    late = agent_at(north, name="Ana Late")
    agent_at(north, name="Ben Recent", joined=datetime(2026, 3, 10, tzinfo=UTC))  # due 24 March
    agent_at(north, name="Cy Gone", active=False)
    agent_at(south, name="Dee South")
    document("Refunds")
    run(runner, DUE + timedelta(days=2))
    trainer_mail = digests(app, sending.TRAINER_TEMPLATE)
    assert sorted(user for user, _ in trainer_mail) == sorted([trainer.id, south_trainer.id])
    by_trainer = dict(trainer_mail)
    north_digest = by_trainer[trainer.id]
    assert [(p["name"], p["url"]) for p in north_digest["people"]] == [
        ("Ana Late", f"/people/{late.id}")
    ]
    assert north_digest["people"][0]["items"][0]["days_overdue"] == 2
    assert [p["name"] for p in by_trainer[south_trainer.id]["people"]] == ["Dee South"]

    again = run(runner, DUE + timedelta(days=2))
    assert "0 trainer digests (2 already sent today)" in again.output
    run(runner, DUE + timedelta(days=3))
    assert len(digests(app, sending.TRAINER_TEMPLATE)) == 4
    with app.app_context():
        message = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.user_id == trainer.id)
        ).first()
        body = render(message, db.session.get(User, trainer.id)).get_content()
    assert "Ana Late" in body and "Refunds: 2 days overdue (due on 2026-03-16)" in body


def test_each_person_is_reminded_on_their_own_local_date(app, agent_at, document):
    """At one UTC instant Manila is a day ahead of Costa Rica: each is reminded on their own day."""
    manila = agent_at(timezone="Asia/Manila")
    costa_rica = agent_at(timezone="America/Costa_Rica")
    document("Late evening in Manila", published=datetime(2026, 3, 2, 20, 0, tzinfo=UTC))

    def due_now(now):
        with app.app_context():
            items = services.reminders_due(now=now)
            summary = sending.send_batch(sending.plan(items).by_person)
            db.session.commit()
            return {i.user_id: (i.due_on, i.local_today) for i in items}, summary

    # Published on 3 March in Manila (04:00) but on 2 March in Costa Rica (14:00).
    # 2026-03-09 20:00 UTC is 10 March 04:00 in Manila and 9 March 14:00 in Costa Rica.
    due, summary = due_now(datetime(2026, 3, 9, 20, 0, tzinfo=UTC))
    assert due == {
        manila.id: (date(2026, 3, 17), date(2026, 3, 10)),
        costa_rica.id: (date(2026, 3, 16), date(2026, 3, 9)),
    }
    assert summary.people == 2
    # Twelve hours later it is still 10 March in Manila (already sent); 10 March in Costa Rica
    # is nobody's stage.
    due, summary = due_now(datetime(2026, 3, 10, 8, 0, tzinfo=UTC))
    assert due == {manila.id: (date(2026, 3, 17), date(2026, 3, 10))}
    assert summary.people == 0 and summary.skipped == 1
    keys = _dedupe_keys(app)
    assert keys == {f"reminder:{manila.id}:2026-03-10", f"reminder:{costa_rica.id}:2026-03-09"}


def _dedupe_keys(app):
    with app.app_context():
        return set(
            db.session.scalars(
                select(OutboxMessage.dedupe_key).where(
                    OutboxMessage.template == sending.PERSON_TEMPLATE
                )
            )
        )


def test_finding_due_items_costs_the_same_queries_for_more_people(app, agent_at, document):
    """The due-items query count does not grow with people or documents."""

    def count():
        with count_queries(app) as n, app.app_context():
            items = services.reminders_due(DUE)
        return n(), len(items)

    first = agent_at()
    with app.app_context():
        partner = db.session.get(Partner, first.partner_id)
        db.session.expunge(partner)
    document()
    small = count()
    for zone in ("Asia/Manila", "Europe/Vilnius", "America/Costa_Rica", "UTC"):
        agent_at(partner, timezone=zone)
    document()
    large = count()
    assert small == (2, 1)
    assert large == (2, 10)

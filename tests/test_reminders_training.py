"""Training requirements in the reminders: required courses and documents' own due dates."""

from datetime import UTC, date, datetime, timedelta

from portal.extensions import db
from portal.people.models import User
from portal.reminders import services
from portal.reminders.localdays import day_number
from portal.training import taking
from portal.training.requirements import RequirementDetails, create_requirement
from portal.training.services import active_lessons, add_lesson
from portal.training.services import publish_course as publish
from tests.training_helpers import course_by

JOINED = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
MADE = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # when the requirements are made


def _items(today, **kw):
    return {
        (row.user_id, row.source, row.item_id): row.due_day
        for row in db.session.execute(services.overdue_items(today, **kw))
    }


def _pending(today):
    """Every pending item (not only those whose reminder stage falls today)."""
    stmt, _ = services._items_of_reachable_people(today, None)
    return {(r.user_id, r.source, r.item_id): r.due_day for r in db.session.execute(stmt)}


def _require(prm, kind, target_id, days, **kw):
    details = RequirementDetails(
        kind=kind, target_id=target_id, due_rule="after_required", due_days=days, **kw
    )
    requirement = create_requirement(prm, details, now=MADE)
    db.session.commit()
    return requirement


def _course(prm, **kw):
    course = course_by(prm, "Refunds 101", **kw)
    add_lesson(prm, course, title="Only lesson", body="Refund kindly.")
    publish(prm, course)
    db.session.commit()
    return course


def test_a_required_course_is_due_by_its_rule_until_completed(app, make_user):
    prm = make_user("prm")
    agent = make_user("agent", created_at=JOINED)
    with app.app_context():
        prm, agent = db.session.get(User, prm.id), db.session.get(User, agent.id)
        course = _course(prm)
        _require(prm, "course", course.id, 7)
        key = (agent.id, "course", course.id)
        due = day_number(date(2026, 3, 9))
        assert _pending(date(2026, 3, 5))[key] == due
        # The reminder stage "one week before" falls on the day the requirement is made.
        staged = db.session.execute(services.due_items(date(2026, 3, 2))).all()
        assert [(r.source, r.item_id, r.title) for r in staged] == [
            ("course", course.id, "Refunds 101")
        ]
        assert key in _items(date(2026, 3, 12))
        (lesson,) = active_lessons(course)
        taking.complete_lesson(agent, course, lesson, now=MADE + timedelta(days=9))
        db.session.commit()
        assert key not in _pending(date(2026, 3, 12))


def test_an_expiring_completion_is_due_again_on_its_expiry_day(app, make_user):
    prm = make_user("prm")
    agent = make_user("agent", created_at=JOINED)
    with app.app_context():
        prm, agent = db.session.get(User, prm.id), db.session.get(User, agent.id)
        course = _course(prm, validity_days=365)
        _require(prm, "course", course.id, 7, warning_days=30)
        taking.complete_lesson(agent, course, active_lessons(course)[0], now=MADE)
        db.session.commit()
        key = (agent.id, "course", course.id)
        expires = date(2027, 3, 2)
        assert key not in _pending(expires - timedelta(days=31))
        assert _pending(expires - timedelta(days=10))[key] == day_number(expires)
        assert key in _items(expires + timedelta(days=1))


def test_a_document_requirement_sets_the_acknowledgement_due_date(
    app, make_user, make_document, monkeypatch
):
    from portal.library import services as library

    monkeypatch.setattr(library, "utcnow", lambda: MADE)
    prm = make_user("prm")
    agent = make_user("agent", created_at=JOINED)
    other_doc = make_document("Holiday returns", requires_ack=True)
    document = make_document("Refund playbook", requires_ack=True)
    with app.app_context():
        prm = db.session.get(User, prm.id)
        _require(prm, "document", document.id, 30)
        pending = _pending(date(2026, 3, 5))
        # ACKNOWLEDGE_WITHIN_DAYS (14) for the document nobody required; 30 days for the other.
        assert pending[(agent.id, "document", other_doc.id)] == day_number(date(2026, 3, 16))
        assert pending[(agent.id, "document", document.id)] == day_number(date(2026, 4, 1))
        assert len([k for k in pending if k[0] == agent.id]) == 2


def test_the_reminder_email_links_to_the_required_course(app, runner, make_user):
    """The digest names the course, says when it is due and links to its page."""
    from sqlalchemy import select

    from portal.mail.models import OutboxMessage
    from portal.mail.outbox import render
    from portal.reminders import sending

    prm = make_user("prm")
    agent = make_user("agent", created_at=JOINED, timezone="UTC")
    with app.app_context():
        prm = db.session.get(User, prm.id)
        course_id = _course(prm).id
        _require(prm, "course", course_id, 7)
    result = runner.invoke(args=["reminders", "send", "--today", "2026-03-09"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        message = db.session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.template == sending.PERSON_TEMPLATE,
                OutboxMessage.user_id == agent.id,
            )
        ).one()
        body = render(message, db.session.get(User, agent.id)).get_content()
    assert "Refunds 101" in body
    assert "on 2026-03-09" in body or "today" in body.lower()
    assert f"/training/courses/{course_id}" in body

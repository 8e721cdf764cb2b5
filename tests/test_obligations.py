"""Obligations: every person × required item with its due day, done time and status."""

from datetime import UTC, date, datetime, timedelta

from portal.acknowledgements.services import acknowledge
from portal.announcements import services as announcements
from portal.compliance.obligations import obligation_rows, obligations
from portal.extensions import db
from portal.library.models import Document
from portal.onboarding.enrolment import enrol_by_hand
from portal.people.models import User
from portal.reminders.localdays import day_number, from_day_number
from portal.training.requirements import RequirementDetails, create_requirement
from portal.training.services import active_lessons, add_lesson, publish_course
from portal.training.taking import complete_lesson
from tests.onboarding_helpers import path_with_steps
from tests.training_helpers import course_by


def _get(user):
    return db.session.get(User, user.id)


def _by_key(rows):
    return {(r.kind, r.item_id, r.user_id): r for r in rows}


def test_each_kind_gives_due_days_done_times_and_statuses(
    app, make_user, make_partner, make_document
):
    partner = make_partner()
    trainer = make_user("trainer", partner=partner)
    done, late = (make_user("agent", partner=partner) for _ in range(2))
    gone = make_user("agent", partner=partner, active=False)
    other = make_user("agent")  # another partner's agent, for the partner filter
    prm = make_user("prm")
    document = make_document("Escalation playbook", requires_ack=True)
    make_document("Just reading", requires_ack=False)
    with app.app_context():
        today = datetime.now(UTC).date()
        doc = db.session.get(Document, document.id)
        acknowledge(_get(done), doc, doc.current_version_id)
        course = course_by(_get(prm), "Brand basics")
        add_lesson(_get(prm), course, title="Only lesson", body="Be kind.")
        publish_course(_get(prm), course)
        create_requirement(
            _get(prm),
            RequirementDetails(
                kind="course", target_id=course.id, due_rule="after_required", due_days=7
            ),
        )
        complete_lesson(_get(done), course, active_lessons(course)[0])
        note = announcements.create_announcement(
            _get(prm),
            announcements.AnnouncementDetails(
                title="New refund limit",
                body="Refunds up to 150 USD need no approval.",
                requires_ack=True,
            ),
        )
        announcements.publish(_get(prm), note)
        path = path_with_steps(
            trainer, [{"kind": "task", "title": "Shadow five calls", "due_day": 1}]
        )
        enrol_by_hand(
            _get(trainer),
            _get(late),
            path,
            start=today - timedelta(days=3),
            reason="New on the floor",
        )
        db.session.commit()

        rows = _by_key(obligation_rows(today=today))
        people = {key[2] for key in rows}
        assert gone.id not in people and prm.id not in people
        assert {other.id, done.id, late.id, trainer.id} <= people

        assert rows["document", document.id, done.id].status == "done"
        assert rows["document", document.id, done.id].done_at is not None
        pending = rows["document", document.id, late.id]
        assert (pending.status, pending.done_at) == ("pending", None)
        assert from_day_number(pending.due_day) == today + timedelta(days=14)
        assert pending.partner_id == partner.id

        assert rows["course", course.id, done.id].status == "done"
        assert rows["course", course.id, late.id].status == "pending"
        assert from_day_number(rows["course", course.id, late.id].due_day) == today + timedelta(
            days=7
        )

        asked = rows["announcement", note.id, late.id]
        assert asked.status == "pending"
        assert from_day_number(asked.due_day) == today + timedelta(days=14)
        later = _by_key(obligation_rows(today=today + timedelta(days=15), kinds=["announcement"]))
        assert later["announcement", note.id, late.id].status == "overdue"
        assert rows["announcement", note.id, late.id].title == "New refund limit"

        on_path = rows["path", path.id, late.id]
        assert on_path.status == "overdue"  # the day-1 task is three days late
        assert on_path.due_day == day_number(today - timedelta(days=3)) + 89
        assert ("path", path.id, done.id) not in rows

        mine = _by_key(obligation_rows(today=today, partner_ids=[partner.id]))
        assert other.id not in {key[2] for key in mine}
        assert set(mine) == {key for key in rows if key[2] != other.id}
        courses_only = obligation_rows(today=today, kinds=["course"])
        assert {r.kind for r in courses_only} == {"course"}


def test_it_is_one_statement_usable_as_a_subquery(app, make_user, make_document):
    from sqlalchemy import func, select

    make_user("agent")
    make_document("Policy", requires_ack=True)
    with app.app_context():
        sub = obligations(today=date(2026, 12, 1)).subquery()
        counts = dict(
            db.session.execute(select(sub.c.kind, func.count()).group_by(sub.c.kind)).all()
        )
        assert counts == {"document": 1}


def test_items_are_filtered_at_the_source(app, make_user, make_document):
    make_user("agent")
    first = make_document("Policy", requires_ack=True)
    make_document("Playbook", requires_ack=True)
    with app.app_context():
        rows = obligation_rows(today=date(2026, 12, 1), kinds=["document"], item_ids=[first.id])
        assert [r.item_id for r in rows] == [first.id]
        assert obligation_rows(today=date(2026, 12, 1), kinds=["course"], item_ids=[first.id]) == []

"""Enrolment on onboarding paths and progress derived from records (services, no pages)."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.acknowledgements.services import acknowledge
from portal.audiences.models import Audience
from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.library.models import Document
from portal.onboarding import enrolment as enrolling
from portal.onboarding import progress
from portal.onboarding.models import (
    Enrolment,
    OnboardingPath,
    PathStatus,
    PathStep,
    PathVersion,
    SignOff,
    StartDateChange,
)
from portal.people.models import User
from portal.people.services import PersonDetails, invite_person, update_person
from portal.training.services import active_lessons, add_lesson, publish_course
from portal.training.taking import complete_lesson
from tests.training_helpers import course_by

TODAY = date(2026, 3, 1)
AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _path(steps, *, partner_id=None, publish=True):
    """A path whose audience is everyone (or one partner), with ``steps`` as (kind, day, ...)."""
    path = OnboardingPath(
        title="Agent 90-day path",
        audience=Audience(),
        status=PathStatus.PUBLISHED if publish else PathStatus.DRAFT,
        partner_id=partner_id,
    )
    db.session.add(path)
    db.session.flush()
    version = PathVersion(path_id=path.id, number=1, published_at=AT if publish else None)
    db.session.add(version)
    db.session.flush()
    for position, (kind, day, target, required) in enumerate(steps):
        db.session.add(
            PathStep(
                version_id=version.id,
                position=position,
                due_day=day,
                kind=kind,
                title=f"{kind} on day {day}",
                document_id=target if kind == "document" else None,
                course_id=target if kind == "course" else None,
                required=required,
            )
        )
    if publish:
        path.current_version_id = version.id
    db.session.commit()
    return path


def _enrolments(user_id=None):
    stmt = select(Enrolment)
    if user_id is not None:
        stmt = stmt.where(Enrolment.user_id == user_id)
    return db.session.scalars(stmt).all()


def _get(user):
    return db.session.get(User, user.id)


def test_new_hires_in_the_audience_are_enrolled_once_from_their_hire_date(app, make_user):
    recent = make_user("agent", hire_date=TODAY - timedelta(days=10))
    starting = make_user("agent", hire_date=TODAY + timedelta(days=5))
    veteran = make_user("agent", hire_date=TODAY - timedelta(days=90))
    no_date = make_user("agent", hire_date=None)
    gone = make_user("agent", hire_date=TODAY, active=False)
    with app.app_context():
        _path([("task", 5, None, True)])
        assert enrolling.enrol_new_hires(today=TODAY) == 2
        assert enrolling.enrol_new_hires(today=TODAY) == 0
        db.session.commit()
        starts = {e.user_id: e.start_date for e in _enrolments()}
        assert starts == {recent.id: recent.hire_date, starting.id: starting.hire_date}
        assert not {veteran.id, no_date.id, gone.id} & set(starts)


def test_a_partner_local_path_enrols_only_that_partners_people(app, make_user, make_partner):
    ours, theirs = make_partner(), make_partner()
    mine = make_user("agent", partner=ours, hire_date=TODAY)
    make_user("agent", partner=theirs, hire_date=TODAY)
    with app.app_context():
        _path([("task", 5, None, True)], partner_id=ours.id)
        enrolling.enrol_new_hires(today=TODAY)
        assert [e.user_id for e in _enrolments()] == [mine.id]


def test_creating_and_editing_people_enrols_them_and_follows_the_hire_date(
    app, make_user, make_partner, monkeypatch
):
    monkeypatch.setattr(enrolling, "utcnow", lambda: AT)
    partner = make_partner()
    trainer = make_user("trainer", partner=partner)
    with app.app_context():
        _path([("task", 5, None, True)])
        person = invite_person(
            _get(trainer),
            PersonDetails(
                email="new.hire@example.com",
                name="New Hire",
                role="agent",
                partner_id=partner.id,
                hire_date=TODAY - timedelta(days=3),
            ),
            send=False,
        )
        db.session.commit()
        (enrolment,) = _enrolments(person.id)
        assert enrolment.start_date == TODAY - timedelta(days=3)
        details = PersonDetails(
            email=person.email,
            name=person.name,
            role="agent",
            partner_id=partner.id,
            hire_date=TODAY - timedelta(days=1),
        )
        update_person(_get(trainer), person, details)
        db.session.commit()
        db.session.refresh(enrolment)
        assert enrolment.start_date == TODAY - timedelta(days=1)


def test_steps_are_done_by_acknowledgements_completions_and_sign_offs(
    app, make_user, make_partner, make_document
):
    partner = make_partner()
    trainer = make_user("trainer", partner=partner)
    agent = make_user("agent", partner=partner, hire_date=TODAY - timedelta(days=20))
    prm = make_user("prm")
    document = make_document("Escalation playbook", requires_ack=True)
    with app.app_context():
        course = course_by(_get(prm), "Brand basics")
        add_lesson(_get(prm), course, title="Only lesson", body="Be kind.")
        publish_course(_get(prm), course)
        path = _path(
            [
                ("document", 3, document.id, True),
                ("course", 10, course.id, True),
                ("task", 15, None, True),
                ("task", 60, None, False),
            ]
        )
        enrolling.enrol_new_hires(today=TODAY)
        db.session.commit()
        (enrolment,) = _enrolments(agent.id)
        summary = db.session.execute(
            progress.enrolment_rows(today=TODAY, enrolment_ids=[enrolment.id])
        ).one()
        assert (summary.steps, summary.done, summary.required, summary.overdue) == (4, 0, 3, 3)
        assert summary.ready_at is None

        doc = db.session.get(Document, document.id)
        acknowledge(_get(agent), doc, doc.current_version_id)
        complete_lesson(_get(agent), course, active_lessons(course)[0])
        db.session.commit()
        task = db.session.scalars(
            select(PathStep).where(
                PathStep.due_day == 15, PathStep.version_id == enrolment.version_id
            )
        ).one()
        progress.sign_off(_get(trainer), enrolment, task, comment="Shadowed five calls.")
        db.session.commit()
        summary = db.session.execute(
            progress.enrolment_rows(today=TODAY, enrolment_ids=[enrolment.id])
        ).one()
        assert (summary.done, summary.required_done, summary.overdue) == (3, 3, 0)
        assert summary.ready_at is not None  # the optional day-60 task does not hold it back

        progress.sign_off(_get(trainer), enrolment, task, comment="Wrong person.", signed=False)
        db.session.commit()
        summary = db.session.execute(
            progress.enrolment_rows(today=TODAY, enrolment_ids=[enrolment.id])
        ).one()
        assert (summary.required_done, summary.overdue, summary.ready_at) == (2, 1, None)
        assert db.session.scalar(select(func.count()).select_from(SignOff)) == 2
        standing = progress.standing(enrolment, today=TODAY)
        assert standing.day == 21
        assert [s.status for s in standing.steps] == ["done", "done", "overdue", "upcoming"]
        assert standing.steps[2].sign_off.signed is False
        assert path.id == enrolment.path_id


@pytest.mark.parametrize("who", ["prm", "other trainer", "agent", "admin"])
def test_only_a_trainer_of_that_partner_signs_off(app, make_user, make_partner, who):
    partner = make_partner()
    agent = make_user("agent", partner=partner, hire_date=TODAY)
    actor = {
        "prm": lambda: make_user("prm"),
        "admin": lambda: make_user("admin"),
        "other trainer": lambda: make_user("trainer"),
        "agent": lambda: make_user("agent", partner=partner),
    }[who]()
    with app.app_context():
        _path([("task", 5, None, True)])
        enrolling.enrol_new_hires(today=TODAY)
        (enrolment,) = _enrolments(agent.id)
        step = db.session.scalars(select(PathStep)).one()
        with pytest.raises(InvalidInput, match="Only a trainer of this person's partner"):
            progress.sign_off(_get(actor), enrolment, step, comment="")
        assert db.session.scalar(select(func.count()).select_from(SignOff)) == 0


def test_sign_off_twice_or_reverse_without_reason_is_refused(app, make_user, make_partner):
    partner = make_partner()
    trainer = make_user("trainer", partner=partner)
    agent = make_user("agent", partner=partner, hire_date=TODAY)
    with app.app_context():
        _path([("task", 5, None, True)])
        enrolling.enrol_new_hires(today=TODAY)
        (enrolment,) = _enrolments(agent.id)
        step = db.session.scalars(select(PathStep)).one()
        with pytest.raises(InvalidInput, match="nothing to reverse"):
            progress.sign_off(_get(trainer), enrolment, step, comment="x", signed=False)
        progress.sign_off(_get(trainer), enrolment, step, comment="")
        db.session.commit()
        with pytest.raises(InvalidInput, match="already signed off"):
            progress.sign_off(_get(trainer), enrolment, step, comment="")
        with pytest.raises(InvalidInput) as refusal:
            progress.sign_off(_get(trainer), enrolment, step, comment=" ", signed=False)
        assert "Say why" in refusal.value.errors["comment"]
        assert db.session.scalar(select(func.count()).select_from(SignOff)) == 1


@pytest.mark.parametrize(
    "start, reason, field, message",
    [
        (None, "late start", "start_date", "Give a start date"),
        (TODAY + timedelta(days=31), "late start", "start_date", "at most 30 days ahead"),
        (date(2025, 5, 31), "late start", "start_date", "before their hire date"),
        (TODAY - timedelta(days=90), "late start", "start_date", "would be over already"),
        (TODAY, "  ", "reason", "Say why"),
    ],
)
def test_bad_start_dates_and_reasons_write_nothing(
    app, make_user, make_partner, start, reason, field, message
):
    partner = make_partner()
    trainer = make_user("trainer", partner=partner)
    agent = make_user("agent", partner=partner, hire_date=date(2025, 6, 1))
    with app.app_context():
        path = _path([("task", 5, None, True)])
        with pytest.raises(InvalidInput) as refusal:
            enrolling.enrol_by_hand(
                _get(trainer), _get(agent), path, start=start, reason=reason, today=TODAY
            )
        assert message in refusal.value.errors[field]
        db.session.rollback()
        assert _enrolments() == []


def test_enrol_by_hand_then_move_the_start_with_a_record(app, make_user, make_partner):
    partner = make_partner()
    trainer = make_user("trainer", partner=partner)
    agent = make_user("agent", partner=partner, hire_date=date(2025, 1, 1))
    with app.app_context():
        path = _path([("task", 5, None, True)])
        enrolment = enrolling.enrol_by_hand(
            _get(trainer), _get(agent), path, start=TODAY, reason="Moved to billing", today=TODAY
        )
        db.session.commit()
        assert (enrolment.how, enrolment.reason) == ("manual", "Moved to billing")
        with pytest.raises(InvalidInput, match="already on this path"):
            enrolling.enrol_by_hand(
                _get(trainer), _get(agent), path, start=TODAY, reason="again", today=TODAY
            )
        with pytest.raises(InvalidInput) as same:
            enrolling.move_start(
                _get(trainer), enrolment, _get(agent), start=TODAY, reason="x", today=TODAY
            )
        assert "already" in same.value.errors["start_date"]
        enrolling.move_start(
            _get(trainer),
            enrolment,
            _get(agent),
            start=TODAY + timedelta(days=7),
            reason="Sick leave in week one",
            today=TODAY,
        )
        db.session.commit()
        (change,) = db.session.scalars(select(StartDateChange)).all()
        assert (change.old_start, change.new_start) == (TODAY, TODAY + timedelta(days=7))
        assert enrolment.start_date == TODAY + timedelta(days=7)
        # a hire-date correction no longer moves a start someone moved by hand
        assert enrolling.follow_hire_date(_get(agent)) == 0


def test_another_partners_trainer_cannot_enrol(app, make_user, make_partner):
    agent = make_user("agent", hire_date=TODAY)
    stranger = make_user("trainer")
    with app.app_context():
        path = _path([("task", 5, None, True)])
        with pytest.raises(InvalidInput, match="Only a trainer"):
            enrolling.enrol_by_hand(
                _get(stranger), _get(agent), path, start=TODAY, reason="x", today=TODAY
            )

"""Training requirements: checking them, and every person's due date and status under them."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from portal.acknowledgements.services import acknowledge
from portal.audiences.models import Audience
from portal.audiences.services import AudienceSpec, apply_audience
from portal.audit.models import AuditEvent
from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.library import services as library
from portal.library.models import Document
from portal.people.models import User
from portal.reminders.localdays import day_number
from portal.training.models import Completion, Course, CourseStatus, Requirement
from portal.training.requirements import (
    GRACE_DAYS,
    RequirementDetails,
    assignment_rows,
    create_requirement,
    withdraw_requirement,
)
from tests.helpers import count_queries

MADE = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)  # when the requirements are made
EARLY = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)  # when long-standing people joined


def at(year, month, day):
    return datetime(year, month, day, 12, 0, tzinfo=UTC)


def _course(app, slug, *, status=CourseStatus.PUBLISHED, partner=None, **kw):
    with app.app_context():
        course = Course(
            slug=slug,
            title=slug.title(),
            status=status,
            partner_id=partner.id if partner else None,
            audience=apply_audience(Audience(), AudienceSpec()),
            **kw,
        )
        db.session.add(course)
        db.session.commit()
        return course.id


def _require(app, actor, target_id, *, kind="course", now=MADE, **kw):
    kw.setdefault("due_rule", "after_required")
    if kw["due_rule"] != "fixed_date":
        kw.setdefault("due_days", 14)
    with app.app_context():
        requirement = create_requirement(
            db.session.get(User, actor.id),
            RequirementDetails(kind=kind, target_id=target_id, **kw),
            now=now,
        )
        db.session.commit()
        return requirement.id


def _complete(app, user, course_id, completed_at, *, expires_at=None, sequence=1):
    with app.app_context():
        db.session.add(
            Completion(
                user_id=user.id,
                course_id=course_id,
                sequence=sequence,
                course_version=1,
                completed_at=completed_at,
                expires_at=expires_at,
                verification_code=f"C{user.id}-{course_id}-{sequence}",
            )
        )
        db.session.commit()


def _rows(app, today, **kw):
    """{(requirement id, user id): (due date, status)}."""
    with app.app_context():
        rows = assignment_rows(today=today, **kw)
    return {(r.requirement_id, r.user_id): (r.due_day, r.status) for r in rows}


def d(year, month, day):
    return day_number(date(year, month, day))


@pytest.fixture
def world(app, make_partner, make_team, make_user, make_document):
    alpha, bravo = make_partner(), make_partner()
    return {
        "prm": make_user(role="prm"),
        "trainer": make_user(role="trainer", partner=alpha),
        "agent": make_user(role="agent", partner=alpha),
        "bravo_team": make_team(partner=bravo),
        "course": _course(app, "refunds"),
        "draft": _course(app, "draft", status=CourseStatus.DRAFT),
        "bravo_course": _course(app, "bravo-local", partner=bravo),
        "no_ack": make_document("Style guide", requires_ack=False).id,
    }


BAD = [
    ("no rule", "prm", {"due_rule": None}, "due_rule", "Choose when it is due"),
    ("unknown rule", "prm", {"due_rule": "someday"}, "due_rule", "Choose when it is due"),
    ("no date", "prm", {"due_rule": "fixed_date"}, "due_on", "Give the date"),
    ("negative", "prm", {"due_days": -1}, "due_days", "0 or more"),
    ("no days", "prm", {"due_rule": "after_hire", "due_days": None}, "due_days", "0 or more"),
    ("too many", "prm", {"due_days": 3651}, "due_days", "at most 3650"),
    ("warning", "prm", {"warning_days": -5}, "warning_days", "0 or more"),
    ("no target", "prm", {"target_id": None}, "target_id", "Choose a course you can see"),
    ("other partner", "trainer", {"target": "bravo_course"}, "target_id", "you can see"),
    ("draft", "prm", {"target": "draft"}, "target_id", "is not published"),
    ("no ack", "prm", {"target": "no_ack", "kind": "document"}, "target_id", "does not ask"),
    ("no kind", "prm", {"kind": "video"}, "kind", "course or a document"),
    ("foreign team", "trainer", {"team": "bravo_team"}, "audience_teams", "own partner's"),
]


@pytest.mark.parametrize(
    ("case", "who", "change", "key", "message"), BAD, ids=[case[0] for case in BAD]
)
def test_a_bad_requirement_gets_a_clear_message_and_writes_nothing(
    app, world, case, who, change, key, message
):
    """Each kind of bad requirement is refused with its own message; nothing is saved."""
    change = dict(change)
    target_id = world[change.pop("target", "course")]
    target_id = change.pop("target_id", target_id)
    if team := change.pop("team", None):
        change["audience"] = AudienceSpec(team_ids=[world[team].id])
    with pytest.raises(InvalidInput) as refused:
        _require(app, world[who], target_id, **change)
    assert message in refused.value.errors[key]
    with app.app_context():
        assert db.session.scalar(select(func.count(Requirement.id))) == 0
        assert (
            db.session.scalar(select(func.count(Audience.id))) == 4
        )  # the courses' and the document's
        actions = db.session.scalars(select(AuditEvent.action)).all()
        assert not [a for a in actions if a.startswith("training.")]


def test_only_authors_may_require_and_withdraw(app, world):
    """An agent can neither require training nor withdraw a requirement; a PRM can."""
    with pytest.raises(InvalidInput, match="Only admins, PRMs and trainers"):
        _require(app, world["agent"], world["course"])
    requirement_id = _require(app, world["prm"], world["course"])
    with app.app_context():
        requirement = db.session.get(Requirement, requirement_id)
        with pytest.raises(InvalidInput, match="responsible for"):
            withdraw_requirement(db.session.get(User, world["agent"].id), requirement)
        withdraw_requirement(db.session.get(User, world["prm"].id), requirement)
        db.session.commit()
        actions = db.session.scalars(select(AuditEvent.action)).all()
        assert "training.requirement_created" in actions
        assert "training.requirement_withdrawn" in actions
    assert _rows(app, date(2026, 3, 2)) == {}


def test_each_due_rule_gives_its_date(app, make_user):
    """Fixed date, N days after hire and N days after the requirement each set the due date."""
    prm = make_user(role="prm")
    agent = make_user(created_at=EARLY, hire_date=date(2026, 2, 20))
    course = _course(app, "refunds")
    fixed = _require(app, prm, course, due_rule="fixed_date", due_on=date(2026, 4, 1))
    hired = _require(app, prm, course, due_rule="after_hire", due_days=14)
    made = _require(app, prm, course, due_rule="after_required", due_days=10)
    rows = _rows(app, date(2026, 3, 2))
    assert rows[fixed, agent.id] == (d(2026, 4, 1), "pending")
    assert rows[hired, agent.id] == (d(2026, 3, 6), "pending")
    assert rows[made, agent.id] == (d(2026, 3, 11), "pending")


def test_nobody_gets_a_deadline_that_had_already_passed(app, make_user):
    """Late joiners and long-serving staff are due a grace period after it applied to them."""
    prm = make_user(role="prm")
    joiner = make_user(created_at=at(2026, 3, 20), hire_date=date(2026, 3, 20))
    veteran = make_user(created_at=EARLY, hire_date=date(2020, 5, 1))
    no_hire_date = make_user(created_at=at(2026, 3, 5), hire_date=None)
    course = _course(app, "refunds")
    fixed = _require(app, prm, course, due_rule="fixed_date", due_on=date(2026, 3, 10))
    hired = _require(app, prm, course, due_rule="after_hire", due_days=30)
    rows = _rows(app, date(2026, 3, 21))
    assert rows[fixed, joiner.id] == (d(2026, 3, 20) + GRACE_DAYS, "pending")
    assert rows[fixed, veteran.id] == (d(2026, 3, 10), "overdue")
    assert rows[hired, veteran.id] == (d(2026, 3, 1) + GRACE_DAYS, "overdue")
    assert rows[hired, no_hire_date.id] == (d(2026, 4, 4), "pending")


def test_completed_overdue_and_pending(app, make_user):
    """Someone who completed is done; the others are pending until the due date, then overdue."""
    prm = make_user(role="prm")
    done, late = make_user(created_at=EARLY), make_user(created_at=EARLY)
    course = _course(app, "refunds")
    requirement = _require(app, prm, course, due_rule="fixed_date", due_on=date(2026, 3, 10))
    _complete(app, done, course, at(2026, 3, 3))
    assert _rows(app, date(2026, 3, 10))[requirement, late.id][1] == "pending"
    rows = _rows(app, date(2026, 3, 11))
    assert rows[requirement, late.id] == (d(2026, 3, 10), "overdue")
    assert rows[requirement, done.id][1] == "completed"


def test_an_expiring_completion_warns_then_is_due_again_on_its_expiry(app, make_user):
    """Recertification: expiring within the warning days, due on the expiry date, then late."""
    prm = make_user(role="prm")
    agent = make_user(created_at=EARLY)
    course = _course(app, "privacy", validity_days=365)
    requirement = _require(app, prm, course, warning_days=30)
    _complete(app, agent, course, at(2026, 3, 5), expires_at=at(2027, 3, 5))
    status = {
        day: _rows(app, day)[requirement, agent.id]
        for day in (date(2027, 2, 1), date(2027, 2, 10), date(2027, 3, 5), date(2027, 3, 6))
    }
    assert status[date(2027, 2, 1)][1] == "completed"
    assert status[date(2027, 2, 10)] == (d(2027, 3, 5), "expiring")
    assert status[date(2027, 3, 5)] == (d(2027, 3, 5), "pending")
    assert status[date(2027, 3, 6)] == (d(2027, 3, 5), "overdue")
    _complete(app, agent, course, at(2027, 3, 8), expires_at=at(2028, 3, 8), sequence=2)
    assert _rows(app, date(2027, 3, 9))[requirement, agent.id] == (d(2028, 3, 8), "completed")


def test_a_document_requirement_follows_current_acknowledgements(app, make_user, make_document):
    """A current acknowledgement completes it; a material new version makes it pending again."""
    prm = make_user(role="prm")
    agent = make_user(created_at=EARLY)
    document = make_document("Refund policy", requires_ack=True)
    requirement = _require(app, prm, document.id, kind="document")
    with app.app_context():
        doc = db.session.get(Document, document.id)
        acknowledge(db.session.get(User, agent.id), doc, doc.current_version_id)
        db.session.commit()
    assert _rows(app, date(2026, 3, 2))[requirement, agent.id][1] == "completed"
    with app.app_context():
        doc = db.session.get(Document, document.id)
        library.save_draft(None, doc, title=doc.title, body="New limits.", summary="Limits")
        library.publish(None, doc)
        db.session.commit()
    assert _rows(app, date(2026, 3, 2))[requirement, agent.id] == (d(2026, 3, 15), "pending")


def test_deactivated_people_and_paused_partners_drop_out(app, make_partner, make_user):
    """Deactivated people and people of a paused partner are not assigned anything."""
    prm = make_user(role="prm")
    paused = make_partner(active=False)
    stays = make_user(created_at=EARLY)
    gone = make_user(created_at=EARLY, active=False)
    resting = make_user(created_at=EARLY, partner=paused)
    requirement = _require(app, prm, _course(app, "refunds"))
    users = {user for _, user in _rows(app, date(2026, 3, 2))}
    assert stays.id in users
    assert {gone.id, resting.id}.isdisjoint(users)
    assert len(_rows(app, date(2026, 3, 2), requirement_ids=[requirement])) == len(users)


def test_a_trainers_requirement_reaches_only_their_partner(app, make_partner, make_user):
    """A trainer requiring a company course for everyone reaches only their own people."""
    alpha, bravo = make_partner(), make_partner()
    trainer = make_user(role="trainer", partner=alpha, created_at=EARLY)
    ours = make_user(partner=alpha, created_at=EARLY)
    theirs = make_user(partner=bravo, created_at=EARLY)
    requirement = _require(app, trainer, _course(app, "refunds"))
    users = {user for req, user in _rows(app, date(2026, 3, 2)) if req == requirement}
    assert users == {trainer.id, ours.id}
    assert theirs.id not in users
    assert _rows(app, date(2026, 3, 2), partner_id=bravo.id) == {}


@pytest.mark.parametrize("people", [3, 30])
def test_assignments_cost_one_query_whatever_the_number_of_people(app, make_user, people):
    """Working out everyone's standing is one query for 3 people as for 30."""
    prm = make_user(role="prm")
    agents = [make_user(created_at=EARLY) for _ in range(people)]
    course = _course(app, "refunds")
    _require(app, prm, course)
    _complete(app, agents[0], course, at(2026, 3, 2))
    with count_queries(app) as queries:
        rows = _rows(app, date(2026, 3, 20))
    assert queries() == 1
    assert len(rows) == people
    assert sorted(status for _, status in rows.values()).count("overdue") == people - 1


def test_requiring_a_partners_own_course_reaches_only_that_partner(app, make_partner, make_user):
    """A PRM requiring a partner-local course for everyone reaches only that partner's people."""
    prm = make_user(role="prm")
    alpha, bravo = make_partner(), make_partner()
    ours = make_user(partner=bravo, created_at=EARLY)
    make_user(partner=alpha, created_at=EARLY)
    requirement = _require(app, prm, _course(app, "bravo-local", partner=bravo))
    assert set(_rows(app, date(2026, 3, 2))) == {(requirement, ours.id)}

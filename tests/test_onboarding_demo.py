"""The demo's onboarding: the Agent 90-day path and new hires at different days of it."""

from sqlalchemy import func, select

from portal.core.clock import utcnow
from portal.demo.onboarding import PHASES, TITLE
from portal.demo.services import sign_in_rows
from portal.extensions import db
from portal.library.models import Acknowledgement
from portal.onboarding import progress
from portal.onboarding.models import (
    Enrolment,
    OnboardingPath,
    PathStep,
    PathVersion,
    SignOff,
    phase_of,
)
from portal.people.models import User
from portal.training.models import Completion

RECORDS = (OnboardingPath, PathStep, Enrolment, SignOff, Acknowledgement, Completion)


def _load(runner):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    return result.output


def _counts():
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in RECORDS}


def _standings(today):
    """email -> (day on the path, enrolment row) for everyone on the demo path."""
    rows = {r.enrolment_id: r for r in db.session.execute(progress.enrolment_rows(today=today))}
    found = {}
    for enrolment, email in db.session.execute(
        select(Enrolment, User.email).join(User, User.id == Enrolment.user_id)
    ):
        found[email] = ((today - enrolment.start_date).days + 1, rows[enrolment.id], enrolment)
    return found


def _state(row):
    if row.ready_at is not None:
        return "ready"
    return "at risk" if row.overdue else "on track"


def test_demo_load_writes_and_publishes_the_agent_path(app, runner):
    """`demo load` publishes an "Agent 90-day path" of 15 steps over three named phases:
    documents to acknowledge, demo courses to complete and hands-on tasks."""
    output = _load(runner)
    assert f"Onboarding: “{TITLE}” with 15 steps" in output
    with app.app_context():
        path = db.session.scalars(select(OnboardingPath)).one()
        assert (path.title, path.status, path.partner_id) == (TITLE, "published", None)
        assert path.audience.roles == ["agent"]
        version = db.session.get(PathVersion, path.current_version_id)
        assert version.published_at is not None and version.phase_names == list(PHASES)
        steps = db.session.scalars(select(PathStep).where(PathStep.version_id == version.id)).all()
        assert len(steps) == 15
        assert {phase_of(s.due_day) for s in steps} == {0, 1, 2}
        assert {s.kind for s in steps} == {"document", "course", "task"}
        titles = {s.title for s in steps}
        assert {"Shadow five live calls", "First QA calibration session"} <= titles
        assert {"Meet your partner manager", "First solo shift with a buddy"} <= titles
        assert sum(s.kind == "course" for s in steps) == 3


def test_demo_new_hires_are_at_different_days_some_behind_one_ready(app, runner):
    """The demo new hires are on days 6, 21, 46 and 81 of the path (and one more put on it by
    hand, with a reason); some are on track, some at risk, one production-ready; the new hires
    shown as sign-ins are part-way, with sign-offs by their own trainer."""
    _load(runner)
    today = utcnow().date()
    with app.app_context():
        standings = _standings(today)
        days = {day for day, _row, _e in standings.values()}
        assert {6, 21, 46, 81} <= days
        states = [_state(row) for _day, row, _e in standings.values()]
        assert states.count("ready") >= 1
        assert states.count("at risk") >= 2 and states.count("on track") >= 2
        assert _state(standings["carlo.lim@atlas.example"][1]) == "ready"
        assert _state(standings["rhea.fernandez@atlas.example"][1]) == "at risk"

        new_hires = [email for role, email, _ in sign_in_rows() if role == "agent (new hire)"]
        assert len(new_hires) == 3
        for email in new_hires:
            day, row, _enrolment = standings[email]
            assert day == 6 and 0 < row.done < row.steps, email

        manual = [e for _d, _r, e in standings.values() if e.how == "manual"]
        assert len(manual) == 1 and "retrains" in manual[0].reason

        for sign_off in db.session.scalars(select(SignOff)):
            enrolment = db.session.get(Enrolment, sign_off.enrolment_id)
            trainer = db.session.get(User, sign_off.by_id)
            person = db.session.get(User, enrolment.user_id)
            assert trainer.role == "trainer" and trainer.partner_id == person.partner_id
            assert sign_off.at.date() >= enrolment.start_date


def test_a_second_demo_load_creates_nothing(app, runner):
    """Loading the demo again writes no path, enrolment, sign-off or record, and says so."""
    _load(runner)
    with app.app_context():
        first = _counts()
    output = _load(runner)
    assert "Onboarding: the Agent 90-day path is already there; nothing created" in output
    assert "The demo data was already loaded; nothing changed." in output
    with app.app_context():
        assert _counts() == first

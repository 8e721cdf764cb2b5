"""Demo onboarding: the "Agent 90-day path" and new hires at different days of it.

After the demo people, library and training exist, the demo

1. has the PRM write the path (fifteen steps over Foundations, Supported queue and
   Independence: acknowledging library documents, completing the demo courses and hands-on
   tasks) and publish it, which enrols every demo agent hired within the last 90 days (days
   6, 21, 46 and 81 at each partner, and the invited agents who start next week);
2. has the Costa trainer put one seasoned agent on the path by hand, with a reason;
3. writes their progress through the real services, after a fixed plan per new hire: their
   trainer's sign-offs of hands-on tasks on the days they happened, course completions taken
   back then, and acknowledgements, so that some are on track, some at risk and one is
   production-ready. Acknowledgements can only be made today, so a step they complete counts
   as done today.

Records the library and training demos already made count as they are (a new hire who
completed brand voice basics has that step done). Idempotent: if the path exists, nothing is
written. The caller commits.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select

from portal.acknowledgements.services import acknowledge
from portal.audiences.services import AudienceSpec
from portal.core.clock import utcnow
from portal.demo.library import _document, _user
from portal.demo.services import COMPANY_DOMAIN, PARTNERS, STAFF, email_for
from portal.demo.training import Round, TrainingResult, _take
from portal.extensions import db
from portal.library.models import DocumentStatus
from portal.onboarding import paths, progress
from portal.onboarding.enrolment import enrol_by_hand
from portal.onboarding.models import Enrolment, OnboardingPath, StepKind
from portal.onboarding.step_checks import StepDetails
from portal.training.models import Completion, Course, CourseStatus

TITLE = "Agent 90-day path"
DESCRIPTION = (
    "From your first day to taking your own queue: learn the brand and the rules, work "
    "supported by a buddy, then show you can work on your own. Your trainer signs off the "
    "hands-on tasks; documents and courses tick themselves when you acknowledge or complete them."
)
PHASES = ("Foundations", "Supported queue", "Independence")


@dataclass(frozen=True)
class DemoStep:
    day: int
    kind: str  # StepKind
    title: str = ""  # a task's; documents and courses take their own
    target: str = ""  # a document's or course's slug
    description: str = ""
    required: bool = True
    comment: str = ""  # what the trainer wrote when signing it off


STEPS = (
    DemoStep(
        1,
        StepKind.TASK,
        "Welcome session with your trainer",
        description="Walk through “Your first week supporting Lumen customers” together.",
        comment="Welcome session done; tools and schedule explained.",
    ),
    DemoStep(
        2,
        StepKind.TASK,
        "Set up your tools and find three answers in the knowledge base",
        description="See “Finding answers: the knowledge base and this library”.",
        comment="All logins work; found the three answers quickly.",
    ),
    DemoStep(
        4,
        StepKind.TASK,
        "Shadow five live calls",
        description="Sit with an experienced agent; note how they open, verify and close.",
        comment="Shadowed five calls; good notes on verification.",
    ),
    DemoStep(7, StepKind.DOCUMENT, target="brand-voice-and-values"),
    DemoStep(10, StepKind.DOCUMENT, target="data-privacy-policy"),
    DemoStep(10, StepKind.COURSE, target="brand-voice-basics"),
    DemoStep(14, StepKind.COURSE, target="annual-data-privacy-refresher"),
    DemoStep(21, StepKind.DOCUMENT, target="escalation-playbook"),
    DemoStep(
        28,
        StepKind.TASK,
        "Meet your partner manager",
        description="A short call with Lumen's partner relationship manager.",
        comment="Met Priya; asked good questions about the refund limits.",
    ),
    DemoStep(
        35,
        StepKind.TASK,
        "First QA calibration session",
        description="Score three recorded contacts with your team and compare.",
        comment="Scores within five points of the team's.",
    ),
    DemoStep(40, StepKind.COURSE, target="handling-escalations"),
    DemoStep(45, StepKind.DOCUMENT, target="refund-requests"),
    DemoStep(
        55,
        StepKind.TASK,
        "First solo shift with a buddy",
        description="Take the queue on your own, with a buddy on hand for questions.",
        comment="Full shift solo; asked the buddy twice, both good calls.",
    ),
    DemoStep(
        75,
        StepKind.TASK,
        "QA average of 85% over ten reviewed contacts",
        comment="Average 88% over the last ten reviews.",
    ),
    DemoStep(
        90,
        StepKind.TASK,
        "Production sign-off with your team lead",
        description="Your team lead confirms you handle the queue on your own.",
        comment="Ready for the full queue.",
    ),
)
EVERY_TASK = tuple(s.day for s in STEPS if s.kind == StepKind.TASK)


@dataclass(frozen=True)
class Plan:
    """What a new hire has done on the path: tasks signed off (by due day), documents
    acknowledged and courses completed (by slug), each on time unless done today."""

    tasks: tuple[int, ...] = ()
    documents: tuple[str, ...] = ()
    courses: tuple[str, ...] = ()


FIRST_DAYS = Plan(tasks=(1, 2, 4))
SUPPORTED = Plan(
    tasks=(1, 2, 4, 28, 35),
    documents=("escalation-playbook", "refund-requests"),
    courses=("handling-escalations",),
)
# By partner and days since hire: the newest hires (printed as sign-ins) are on day 6, then
# days 21, 46 and 81. The library and training demos already did some of it.
PLANS = {
    ("atlas", 5): FIRST_DAYS,  # on track
    ("costa", 5): Plan(tasks=(1, 2)),  # shadowing not signed off: at risk
    ("baltic", 5): FIRST_DAYS,
    ("atlas", 20): FIRST_DAYS,  # the data-privacy refresher is overdue: at risk
    ("costa", 20): Plan(tasks=(1, 2, 4), courses=("annual-data-privacy-refresher",)),
    ("baltic", 20): Plan(tasks=(1, 2, 4), courses=("annual-data-privacy-refresher",)),
    ("atlas", 45): SUPPORTED,  # on track
    ("costa", 45): Plan(tasks=(1, 2, 4, 28), documents=("escalation-playbook",)),  # at risk
    ("baltic", 45): SUPPORTED,
    # Every required step done: production-ready.
    ("atlas", 80): Plan(
        tasks=EVERY_TASK,
        documents=("escalation-playbook", "refund-requests"),
        courses=("annual-data-privacy-refresher",),
    ),
    # Everything up to the solo shift; the QA average is overdue: at risk.
    ("baltic", 80): Plan(
        tasks=(1, 2, 4, 28, 35, 55),
        documents=("escalation-playbook", "refund-requests"),
        courses=("annual-data-privacy-refresher",),
    ),
}
# A seasoned Costa agent moved queues and retrains on the path, put on it by her trainer.
BY_HAND = {
    "partner": "costa",
    "agent": "Fabiola Quesada",
    "days_ago": 30,
    "reason": "Moved from Heredia Billing to the San José Spanish queue; retrains on the path.",
    "plan": Plan(
        tasks=(1, 2, 4, 28),
        documents=("brand-voice-and-values", "data-privacy-policy", "escalation-playbook"),
        courses=("brand-voice-basics", "annual-data-privacy-refresher"),
    ),
}


@dataclass
class OnboardingResult:
    """What loading the demo onboarding did."""

    steps: int = 0
    enrolled: int = 0
    by_hand: int = 0
    sign_offs: int = 0
    acknowledgements: int = 0
    completions: int = 0
    attempts: int = 0  # quiz attempts made on the way to completions

    @property
    def created_anything(self) -> bool:
        return bool(self.steps or self.enrolled or self.by_hand)

    @property
    def summary(self) -> str:
        if not self.created_anything:
            return "the Agent 90-day path is already there; nothing created"
        return (
            f"“{TITLE}” with {self.steps} steps; {self.enrolled} people on it "
            f"({self.by_hand} put on by hand), {self.sign_offs} sign-offs, "
            f"{self.acknowledgements} acknowledgements and {self.completions} completions added"
        )


def load_onboarding(now: datetime | None = None) -> OnboardingResult:
    """Create and publish the demo path unless it exists, and the new hires' progress on it."""
    now = now or utcnow()
    result = OnboardingResult()
    prm = _user(email_for(dict(STAFF)["prm"], COMPANY_DOMAIN))
    exists = db.session.scalars(
        select(OnboardingPath.id).where(
            OnboardingPath.title == TITLE, OnboardingPath.partner_id.is_(None)
        )
    ).first()
    if exists is not None or prm is None:
        return result
    path, steps = _write_path(prm, result)
    result.enrolled = db.session.scalar(
        select(func.count()).select_from(Enrolment).where(Enrolment.path_id == path.id)
    )
    for demo in PARTNERS:
        trainer = _user(email_for(demo.trainer, demo.domain))
        for agent in demo.agents:
            plan = PLANS.get((demo.slug, agent.hired_days_ago))
            person = _user(email_for(agent, demo.domain))
            if plan is None or person is None or trainer is None:
                continue
            enrolment = _enrolment(person, path)
            if enrolment is not None:
                _follow(plan, trainer, person, enrolment, steps, now, result)
    _by_hand(path, steps, now, result)
    return result


def _targets() -> dict[str, int]:
    """Slug -> id of the published documents and courses the steps point at."""
    found = {}
    for step in STEPS:
        if step.kind == StepKind.DOCUMENT:
            document = _document(step.target)
            if document is not None and document.status == DocumentStatus.PUBLISHED:
                found[step.target] = document.id
        elif step.kind == StepKind.COURSE:
            course = _course(step.target)
            if course is not None and course.status == CourseStatus.PUBLISHED:
                found[step.target] = course.id
    return found


def _course(slug: str) -> Course | None:
    return db.session.scalars(select(Course).where(Course.slug == slug)).first()


def _write_path(prm, result: OnboardingResult) -> tuple[OnboardingPath, dict]:
    """The path written and published by the PRM, as in the builder, and its steps by demo
    step (steps whose document or course is missing are left out)."""
    targets, steps = _targets(), {}
    details = paths.PathDetails(
        title=TITLE, description=DESCRIPTION, audience=AudienceSpec(roles=["agent"])
    )
    path = paths.create_path(prm, details)
    draft = paths.draft_of(path)
    paths.set_phase_names(prm, draft, list(PHASES))
    for step in STEPS:
        if step.kind != StepKind.TASK and step.target not in targets:
            continue
        target = targets.get(step.target)
        steps[step] = paths.add_step(
            prm,
            draft,
            StepDetails(
                kind=step.kind,
                title=step.title,
                description=step.description,
                due_day=step.day,
                document_id=target if step.kind == StepKind.DOCUMENT else None,
                course_id=target if step.kind == StepKind.COURSE else None,
                required=step.required,
            ),
        )
        result.steps += 1
    paths.publish_path(prm, path, note="First version")
    return path, steps


def _enrolment(person, path: OnboardingPath) -> Enrolment | None:
    return db.session.scalars(
        select(Enrolment).where(Enrolment.user_id == person.id, Enrolment.path_id == path.id)
    ).first()


def _due_at(enrolment: Enrolment, day: int, now: datetime) -> datetime:
    """Mid-morning UTC on the step's due day (a day early), never later than an hour ago."""
    on = enrolment.start_date + timedelta(days=max(day - 2, 0))
    return min(datetime.combine(on, time(10), tzinfo=UTC), now - timedelta(hours=1))


def _follow(plan: Plan, trainer, person, enrolment, steps, now, result) -> None:
    """Write ``person``'s progress on the path after ``plan``; ``steps`` by demo step."""
    for demo, step in steps.items():
        if demo.kind == StepKind.TASK and demo.day in plan.tasks:
            progress.sign_off(
                trainer,
                enrolment,
                step,
                comment=demo.comment,
                now=_due_at(enrolment, demo.day, now),
            )
            result.sign_offs += 1
        elif demo.kind == StepKind.DOCUMENT and demo.target in plan.documents:
            document = _document(demo.target)
            typed_name = person.name if document.attestation else None
            # At load time: the demo documents were published just now, and an
            # acknowledgement never predates its version.
            _ack, created = acknowledge(
                person, document, document.current_version_id, typed_name=typed_name
            )
            result.acknowledgements += created
        elif demo.kind == StepKind.COURSE and demo.target in plan.courses:
            _complete(person, _course(demo.target), enrolment, demo.day, now, result)


def _complete(person, course: Course, enrolment: Enrolment, day: int, now, result) -> None:
    """Complete ``course`` as ``person`` did a day before it was due, unless they have."""
    done = db.session.scalars(
        select(Completion.id).where(
            Completion.user_id == person.id, Completion.course_id == course.id
        )
    ).first()
    if done is not None:
        return
    on = _due_at(enrolment, day, now)
    days_ago = max((now - on).days, 1)

    tally = TrainingResult()
    _take(person, course, Round(days_ago), now, 0, tally)
    result.completions += tally.completions > 0
    result.attempts += tally.attempts


def _by_hand(path: OnboardingPath, steps, now: datetime, result: OnboardingResult) -> None:
    """The Costa trainer puts a seasoned agent on the path, then her progress is written."""
    demo = next(p for p in PARTNERS if p.slug == BY_HAND["partner"])
    agent = next(a for a in demo.agents if a.name == BY_HAND["agent"])
    trainer = _user(email_for(demo.trainer, demo.domain))
    person = _user(email_for(agent, demo.domain))
    if trainer is None or person is None or not person.active:
        return
    if _enrolment(person, path) is not None:
        return
    start: date = now.date() - timedelta(days=BY_HAND["days_ago"])
    enrolment = enrol_by_hand(
        trainer, person, path, start=start, reason=BY_HAND["reason"], today=now.date()
    )
    result.by_hand += 1
    result.enrolled += 1
    _follow(BY_HAND["plan"], trainer, person, enrolment, steps, now, result)

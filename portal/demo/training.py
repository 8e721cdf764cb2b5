"""Demo training: Lumen's courses, the requirements that make them due, and a year of records.

After the demo people and library exist, the demo

1. has the PRM write and publish three company courses (brand voice, escalations, an annual
   data-privacy refresher) and the Atlas trainer a course for her Manila Billing team, with the
   text in ``training_courses``; each is dated back to when it would have been published;
2. requires them with requirements made weeks or months ago, so that on the day of loading
   some people are overdue, some expiring soon, some done and some not due yet;
3. writes the demo people's lesson progress, quiz attempts and completions through the taking
   services, back-dated, after a fixed plan per kind of person (``SEASONED``, ``NEW_HIRES``).

The demo creates people on the day it loads them. For a requirement made months ago to apply
to them from their hire date, as it would to real staff, their accounts are dated back to it
(``created_at``) before anything is required.

Idempotent like the rest of the demo: a course whose slug exists is left alone, with its
requirement and records, so loading again writes nothing. The caller commits.
"""

import random
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from portal.audiences.services import AudienceSpec, audience_includes
from portal.core.clock import utcnow
from portal.demo.library import _document, _user
from portal.demo.services import COMPANY_DOMAIN, NEW_HIRE_DAYS, PARTNERS, STAFF, email_for
from portal.demo.training_courses import COURSES, DemoCourse
from portal.extensions import db
from portal.library.models import DocumentStatus
from portal.partners.models import Team
from portal.people.models import User
from portal.training import quizzes, services, taking
from portal.training.models import Course, DueRule, QuestionKind, RequirementKind
from portal.training.requirements import RequirementDetails, create_requirement

BRAND, ESCALATIONS, PRIVACY, HANDOVER = (course.slug for course in COURSES)


@dataclass(frozen=True)
class DemoRequirement:
    rule: str  # DueRule
    days: int  # days after hire or after it was made; for a fixed date, days from today
    made_days_ago: int
    roles: tuple[str, ...] = ()  # the audience (a trainer's course: its team)


REQUIREMENTS = {
    # Made two months ago (long after the course was out), so agents hired before then who
    # never took it have been overdue for weeks: 14 days' grace from when it applied to them.
    BRAND: DemoRequirement(DueRule.AFTER_HIRE, 14, 60, ("agent",)),
    # Completions from about a year ago make people expiring soon, or overdue once expired.
    PRIVACY: DemoRequirement(DueRule.AFTER_HIRE, 30, 400, ("agent", "trainer")),
    # Made three weeks ago and due in ten days: people are in the middle of it.
    ESCALATIONS: DemoRequirement(DueRule.AFTER_REQUIRED, 30, 20, ("agent",)),
    # The Atlas trainer's: her Manila Billing team, by a date next week.
    HANDOVER: DemoRequirement(DueRule.FIXED_DATE, 7, 3),
}


@dataclass(frozen=True)
class Round:
    """What someone did towards one completion: read the lessons ``days_ago``, then took the
    quiz once a day with this many wrong answers per attempt (none: no attempt yet)."""

    days_ago: int
    wrong: tuple[int, ...] = (0,)
    lessons: int | None = None  # read only the first N lessons


# Per kind of person, per course slug, their rounds. The seasoned agents by their place among a
# partner's agents hired over 90 days ago (0 is the partner's agent printed as a demo sign-in).
SEASONED = (
    # Overdue on brand voice, data privacy expiring in 15 days, failed escalations once.
    {PRIVACY: (Round(350),), ESCALATIONS: (Round(6, (2,)),)},
    # Everything done, data privacy expiring in 25 days, the Manila handover course too.
    {
        BRAND: (Round(280),),
        PRIVACY: (Round(340, (1,)),),
        ESCALATIONS: (Round(15),),
        HANDOVER: (Round(2, ()),),
    },
    # Brand voice at the second try; half-way through escalations and the handover course.
    {
        BRAND: (Round(270, (2, 0)),),
        PRIVACY: (Round(120),),
        ESCALATIONS: (Round(3, (), 2),),
        HANDOVER: (Round(1, (), 1),),
    },
    # One brand voice lesson read long ago (overdue); data privacy expired 20 days ago.
    {BRAND: (Round(100, (), 1),), PRIVACY: (Round(385),)},
    # Used all three attempts at the escalations quiz: a trainer has to step in.
    {BRAND: (Round(250, (1,)),), PRIVACY: (Round(90, (1,)),), ESCALATIONS: (Round(12, (3, 2, 2)),)},
    # Renewed data privacy 12 days ago (recertification), escalations at the second try.
    {BRAND: (Round(230),), PRIVACY: (Round(372), Round(12)), ESCALATIONS: (Round(18, (2, 1)),)},
    # Nothing but data privacy, which expired five days ago.
    {PRIVACY: (Round(370),)},
    {BRAND: (Round(200, (2, 1)),), PRIVACY: (Round(60, (2, 0)),), ESCALATIONS: (Round(9),)},
)
# New hires, newest first (the newest is printed as a demo sign-in).
NEW_HIRES = (
    {BRAND: (Round(1, (), 1),)},  # reading the first brand voice lesson; the rest is not due yet
    {BRAND: (Round(12),), PRIVACY: (Round(2, ()),)},
    {BRAND: (Round(35, (2, 0)),), PRIVACY: (Round(30),)},
    {BRAND: (Round(60),), ESCALATIONS: (Round(10),)},  # data privacy overdue
)
TRAINER = {PRIVACY: (Round(200),)}
LEFT = {BRAND: (Round(300),)}  # deactivated since: the record stays, out of every rate


@dataclass
class TrainingResult:
    """What loading the demo training did."""

    courses: int = 0
    requirements: int = 0
    attempts: int = 0
    completions: int = 0

    @property
    def created_anything(self) -> bool:
        return bool(self.courses or self.requirements or self.attempts or self.completions)

    @property
    def summary(self) -> str:
        return (
            f"{self.courses} courses, {self.requirements} requirements, {self.attempts} quiz "
            f"attempts and {self.completions} completions created"
        )


def load_training(now: datetime | None = None) -> TrainingResult:
    """Create the demo courses that are missing, with their requirements and records."""
    now = now or utcnow()
    result = TrainingResult()
    created = []
    for demo in COURSES:
        course = _course(demo, now)
        if course is not None:
            created.append((demo, course))
            result.courses += 1
    if not created:
        return result
    plans = _plans()
    _date_accounts_from_hire([person for person, _plan in plans])
    for demo, course in created:
        _require(demo, course, now)
        result.requirements += 1
        members = _audience_members(course)
        for person, plan in plans:
            if person.id in members:
                for number, round_ in enumerate(plan.get(demo.slug, ())):
                    _take(person, course, round_, now, number, result)
    return result


def _author(demo: DemoCourse) -> User | None:
    if demo.trainer_of is None:
        return _user(email_for(dict(STAFF)["prm"], COMPANY_DOMAIN))
    partner = next(p for p in PARTNERS if p.slug == demo.trainer_of)
    return _user(email_for(partner.trainer, partner.domain))


def _team(demo: DemoCourse, author: User) -> Team | None:
    return db.session.scalars(
        select(Team).where(Team.partner_id == author.partner_id, Team.name == demo.team)
    ).first()


def _course(demo: DemoCourse, now: datetime) -> Course | None:
    """Write and publish one demo course unless its slug exists; None when it was not made."""
    author = _author(demo)
    exists = db.session.scalars(select(Course.id).where(Course.slug == demo.slug)).first()
    if exists is not None or author is None:
        return None
    audience = AudienceSpec(roles=list(demo.roles))
    if demo.team:
        team = _team(demo, author)
        if team is None:
            return None
        audience = AudienceSpec(team_ids=[team.id])
    details = services.CourseDetails(
        title=demo.title,
        slug=demo.slug,
        description=demo.description,
        estimated_minutes=demo.minutes,
        audience=audience,
        has_quiz=bool(demo.questions),
        pass_mark=demo.pass_mark,
        max_attempts=demo.max_attempts,
        validity_days=demo.validity_days,
    )
    course = services.create_course(author, details)
    for lesson in demo.lessons:
        if lesson.document is None:
            services.add_lesson(author, course, title=lesson.title, body=lesson.body)
            continue
        document = _document(lesson.document)
        if document is not None and document.status == DocumentStatus.PUBLISHED:
            services.add_lesson(author, course, title=lesson.title, document_id=document.id)
    for question in demo.questions:
        kind = QuestionKind.MULTIPLE if question.multiple else QuestionKind.SINGLE
        quizzes.add_question(
            author,
            course,
            text=question.text,
            kind=kind,
            choices=list(question.choices),
            explanation=question.explanation,
        )
    services.publish_course(author, course)
    # As if published back then: the records below are older than today.
    course.created_at = course.published_at = now - timedelta(days=demo.published_days_ago)
    return course


def _require(demo: DemoCourse, course: Course, now: datetime) -> None:
    """Require the course as its author did, ``made_days_ago``."""
    rule = REQUIREMENTS[demo.slug]
    author = _author(demo)
    audience = AudienceSpec(roles=list(rule.roles))
    if demo.team:
        audience = AudienceSpec(team_ids=[_team(demo, author).id])
    fixed = rule.rule == DueRule.FIXED_DATE
    details = RequirementDetails(
        kind=RequirementKind.COURSE,
        target_id=course.id,
        due_rule=rule.rule,
        due_on=(now + timedelta(days=rule.days)).date() if fixed else None,
        due_days=None if fixed else rule.days,
        audience=audience,
    )
    create_requirement(author, details, now=now - timedelta(days=rule.made_days_ago))


def _plans() -> list[tuple[User, dict]]:
    """The demo trainers and agents who signed up, each with their plan (one query)."""
    wanted = {}
    for partner in PARTNERS:
        seasoned = [a for a in partner.agents if a.hired_days_ago > NEW_HIRE_DAYS]
        new_hires = sorted(
            (a for a in partner.agents if a.hired_days_ago <= NEW_HIRE_DAYS),
            key=lambda a: a.hired_days_ago,
        )
        people = [(partner.trainer, TRAINER), (partner.deactivated, LEFT)]
        people += list(zip(seasoned, SEASONED, strict=False))
        people += list(zip(new_hires, NEW_HIRES, strict=False))
        wanted.update({email_for(person, partner.domain): plan for person, plan in people})
    users = db.session.scalars(
        select(User).where(User.email.in_(wanted), User.password_hash.is_not(None))
    ).all()
    return [(user, wanted[user.email]) for user in sorted(users, key=lambda u: u.id)]


def _date_accounts_from_hire(people: list[User]) -> None:
    """Date demo accounts back to their hire date, as if they had joined the portal then.

    Deactivated people are in no requirement, so their accounts are left as they are.
    """
    for person in people:
        if person.hire_date is None or not person.active:
            continue
        joined = datetime.combine(person.hire_date, time(8), tzinfo=UTC)
        if joined < person.created_at:
            person.created_at = joined


def _audience_members(course: Course) -> set[int]:
    """Ids of the people (deactivated ones too) in the course's audience."""
    stmt = select(User.id).where(
        audience_includes(
            course.audience_id, User.partner_id, User.team_id, User.role, User.language
        )
    )
    if course.partner_id is not None:
        stmt = stmt.where(User.partner_id == course.partner_id)
    return set(db.session.scalars(stmt))


def _take(person: User, course: Course, round_: Round, now, number: int, result) -> None:
    """Do ``round_`` as ``person``: read lessons, then the quiz attempts a day apart."""
    hired_days_ago = (now.date() - (person.hire_date or now.date())).days
    # Nobody took a course before they were hired: move such a round to their second day.
    start = now - timedelta(days=min(round_.days_ago, max(hired_days_ago - 2, 1)))
    start -= timedelta(hours=person.id % 5)  # people keep different hours
    lessons = services.active_lessons(course)[: round_.lessons]
    for n, lesson in enumerate(lessons):
        done = taking.complete_lesson(person, course, lesson, now=start + timedelta(minutes=6 * n))
        result.completions += done is not None
    if not course.has_quiz or round_.lessons is not None:
        return
    for day, wrong in enumerate(round_.wrong):
        started = start + timedelta(days=day, minutes=30)
        rng = random.Random(f"{person.email}/{course.slug}/{number}/{day}")
        attempt = taking.start_attempt(person, course, now=started, rng=rng)
        attempt = taking.submit_attempt(
            person, attempt, _answers(attempt, wrong), now=started + timedelta(minutes=12)
        )
        result.attempts += 1
        result.completions += bool(attempt.passed)


def _answers(attempt, wrong: int) -> dict[str, list[str]]:
    """Answers to the attempt's questions: the first ``wrong`` of them (as shown) wrong."""
    answers = {}
    for n, question in enumerate(attempt.questions):
        right = [c["key"] for c in question["choices"] if c["correct"]]
        mistaken = [c["key"] for c in question["choices"] if not c["correct"]][:1]
        answers[question["key"]] = mistaken if n < wrong else right
    return answers

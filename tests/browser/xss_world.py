"""A partner whose every piece of user text is an attack string, written through the services.

Names, team names, document, announcement, course, lesson, quiz, path and step texts carry
the payloads of ``xss_corpus``: one-line fields as many as fit (several objects where one
field is too short for all), Markdown texts all of them at once.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select

from portal.announcements import services as announcements
from portal.audiences.services import AudienceSpec
from portal.demo.services import DEMO_PASSWORD
from portal.extensions import db
from portal.library import services as library
from portal.onboarding import paths, progress
from portal.onboarding.models import Enrolment, StepKind
from portal.onboarding.step_checks import StepDetails
from portal.partners.services import PartnerDetails, TeamDetails, create_partner, create_team
from portal.people.models import User
from portal.people.services import PersonDetails, invite_person
from portal.training import quizzes, taking
from portal.training import services as training
from tests.browser.xss_corpus import SEARCH_WORD, SHORT, markdown_text

PASSWORD = DEMO_PASSWORD
ADMIN, PRM = "admin@xss.example", "prm@xss.example"
TRAINER, AGENT = "trainer@xss.example", "agent@xss.example"


def packed(limit: int, prefix: str = "") -> list[str]:
    """Every short payload, packed into as few strings of at most ``limit`` characters as fit."""
    texts, current = [], prefix
    for payload in SHORT:
        if len(current) + len(payload) + 1 > limit:
            texts.append(current.rstrip())
            current = prefix
        current += payload + " "
    return [*texts, current.rstrip()]


# The texts written, by field; each list holds every short payload between its strings.
PARTNER = packed(120, "Partner ")[0]
TEAMS = packed(120, "Team ")
AGENTS = packed(120, "Agent ")  # the last is the trainer's name
DOCUMENTS = packed(200, "Doc ")
NEWS = packed(200, "News ")
COURSE = packed(200, "Course ")[0]
LESSONS = packed(200, "Lesson ")
QUESTIONS = packed(1000, "Question ")
CHOICES = packed(500, "Choice ")
PATH = packed(200, "Path ")[0]
STEPS = packed(200, "Step ")
EVERY_PAYLOAD = " ".join(SHORT)  # descriptions, explanations, a sign-off comment


def opening(text: str) -> str:
    """The start of a text: its prefix and the first payload (short enough for any list)."""
    return text[: text.index(SHORT[0]) + len(SHORT[0])]


@dataclass
class XssWorld:
    """Ids of what was written, for the pages that show it."""

    partner_id: int = 0
    agent_id: int = 0
    documents: list[int] = field(default_factory=list)
    announcements: list[int] = field(default_factory=list)
    course_id: int = 0
    lessons: list[int] = field(default_factory=list)
    failed_attempt_id: int = 0
    open_attempt_id: int = 0
    path_id: int = 0
    enrolment_id: int = 0


def build(app) -> XssWorld:
    """Write the partner, its people and every text that carries payloads; commits."""
    world = XssWorld()
    with app.app_context():
        admin = _staff("admin", ADMIN)
        prm = _staff("prm", PRM)
        partner = create_partner(admin, PartnerDetails(slug="xss", name=PARTNER, timezone="UTC"))
        world.partner_id = partner.id
        teams = [
            create_team(admin, TeamDetails(partner_id=partner.id, name=name)) for name in TEAMS
        ]
        _person(admin, TRAINER, AGENTS[-1], "trainer", partner, None)
        agent = _person(admin, AGENT, AGENTS[0], "agent", partner, teams[0], new_hire=True)
        world.agent_id = agent.id
        for number, name in enumerate(AGENTS[1:-1], start=1):
            _person(admin, f"agent{number}@xss.example", name, "agent", partner, teams[number % 3])
        _library(prm, world)
        _announcements(prm, world)
        _course(prm, agent, world)
        _path(prm, agent, world)
        db.session.commit()
    return world


def _staff(role: str, email: str) -> User:
    """A company admin or PRM who can sign in; their name carries payloads too."""
    user = User(role=role, email=email, name=packed(120, f"{role.upper()} ")[0])
    user.set_password(PASSWORD)
    db.session.add(user)
    db.session.flush()
    return user


def _person(actor, email, name, role, partner, team, *, new_hire=False) -> User:
    hired = date.today() - timedelta(days=3 if new_hire else 400)
    details = PersonDetails(
        email=email,
        name=name,
        role=role,
        partner_id=partner.id,
        team_id=team.id if team else None,
        hire_date=hired,
    )
    person = invite_person(actor, details, send=False)
    person.set_password(PASSWORD)
    return person


def _library(prm, world: XssWorld) -> None:
    for number, title in enumerate(DOCUMENTS):
        details = library.DocumentDetails(title=title, kind="playbook", requires_ack=True)
        body = markdown_text(title) if number == 0 else f"{SEARCH_WORD} {title}"
        document = library.create_document(prm, details, body=body)
        library.publish(prm, document)
        world.documents.append(document.id)


def _announcements(prm, world: XssWorld) -> None:
    for number, title in enumerate(NEWS):
        details = announcements.AnnouncementDetails(
            title=title,
            body=markdown_text(title),
            priority="urgent" if number == 0 else "info",
            requires_ack=number == 0,
        )
        announcement = announcements.create_announcement(prm, details)
        announcements.publish(prm, announcement)
        world.announcements.append(announcement.id)


def _course(prm, agent, world: XssWorld) -> None:
    """A course with payloads everywhere; the agent failed the quiz once and is on try two."""
    details = training.CourseDetails(
        title=COURSE,
        description=EVERY_PAYLOAD,
        audience=AudienceSpec(),
        has_quiz=True,
        pass_mark=100,
    )
    course = training.create_course(prm, details)
    for number, title in enumerate(LESSONS):
        body = markdown_text(title) if number == 0 else f"{SEARCH_WORD} {title}"
        world.lessons.append(training.add_lesson(prm, course, title=title, body=body).id)
    choices = [(text, False) for text in CHOICES] + [("Right", True)]
    for text in QUESTIONS:
        quizzes.add_question(
            prm, course, text=text, kind="single", choices=choices, explanation=text
        )
    training.publish_course(prm, course)
    world.course_id = course.id
    for lesson in training.active_lessons(course):
        taking.complete_lesson(agent, course, lesson)
    attempt = taking.start_attempt(agent, course)
    wrong = {
        q["key"]: [next(c["key"] for c in q["choices"] if not c["correct"])]
        for q in attempt.questions
    }
    world.failed_attempt_id = taking.submit_attempt(agent, attempt, wrong).id
    world.open_attempt_id = taking.start_attempt(agent, course).id


def _path(prm, agent, world: XssWorld) -> None:
    """A path whose texts and step titles are payloads; the agent is on it, one task signed."""
    details = paths.PathDetails(
        title=PATH,
        description=EVERY_PAYLOAD,
        audience=AudienceSpec(roles=["agent"]),
    )
    path = paths.create_path(prm, details)
    draft = paths.draft_of(path)
    paths.set_phase_names(prm, draft, [p for p in SHORT if len(p) <= 60][:3])
    steps = [
        paths.add_step(
            prm,
            draft,
            StepDetails(kind=StepKind.TASK, title=title, description=EVERY_PAYLOAD, due_day=1 + n),
        )
        for n, title in enumerate(STEPS)
    ]
    paths.publish_path(prm, path)
    enrolment = db.session.scalars(
        select(Enrolment).where(Enrolment.user_id == agent.id, Enrolment.path_id == path.id)
    ).one()
    trainer = db.session.scalars(select(User).where(User.email == TRAINER)).one()
    progress.sign_off(trainer, enrolment, steps[0], comment=EVERY_PAYLOAD[:1000])
    world.path_id, world.enrolment_id = path.id, enrolment.id

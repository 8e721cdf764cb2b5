"""Shared by the onboarding page tests: a partner with a trainer and a new hire on a path.

The pages use today's date; ``frozen_noon`` pins their clock to noon UTC of the day the
test runs, and hire dates are counted back from it, so "day 23" is day 23 whatever the date.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from portal.core.clock import utcnow
from portal.extensions import db
from portal.onboarding import routes
from portal.onboarding.models import Enrolment, PathStep, SignOff, StartDateChange
from portal.people.models import User
from portal.training.services import add_lesson, publish_course
from tests.helpers import login, post
from tests.onboarding_helpers import path_with_steps
from tests.training_helpers import course_by

TODAY = utcnow().date()
NOON = datetime.combine(TODAY, time(12), tzinfo=UTC)


@pytest.fixture(name="frozen_noon")
def frozen_noon_fixture(monkeypatch):
    monkeypatch.setattr(routes, "utcnow", lambda: NOON)


@dataclass
class World:
    partner: object
    team: object
    trainer: object
    agent: object
    prm: object
    stranger: object  # another partner's trainer
    document: object
    course_id: int
    path_id: int
    enrolment_id: int
    steps: dict  # title -> step id


STEPS = [
    ("document", "Read the escalation playbook", 3, True),
    ("course", "Brand basics course", 10, True),
    ("task", "Shadow five live calls", 15, True),
    ("task", "First QA calibration", 45, True),
    ("task", "Meet your partner manager", 70, False),
]


@pytest.fixture(name="world")
def world_fixture(app, make_user, make_partner, make_team, make_document, frozen_noon):
    """Ana, hired 22 days ago (day 23), on a five-step company path; nothing done yet."""
    partner = make_partner(name="Northwind Support")
    team = make_team(partner, name="Billing")
    trainer = make_user("trainer", partner=partner, team=team, hire_date=None, name="Tess Trainer")
    agent = make_user(
        "agent", partner=partner, team=team, hire_date=TODAY - timedelta(days=22), name="Ana Reyes"
    )
    prm = make_user("prm", name="Pat Prm")
    stranger = make_user("trainer", hire_date=None, name="Sam Stranger")
    document = make_document("Escalation playbook", requires_ack=True)
    with app.app_context():
        author = db.session.get(User, prm.id)
        course = course_by(author, "Brand basics")
        add_lesson(author, course, title="Only lesson", body="Be kind.")
        publish_course(author, course)
        db.session.commit()
        targets = {"document": {"document": document}, "course": {"course": course}, "task": {}}
        path = path_with_steps(
            prm,
            [
                {"kind": kind, "title": title, "due_day": day, "required": required} | targets[kind]
                for kind, title, day, required in STEPS
            ],
        )
        enrolment = db.session.scalars(select(Enrolment).where(Enrolment.user_id == agent.id)).one()
        steps = {
            s.title: s.id
            for s in db.session.scalars(
                select(PathStep).where(PathStep.version_id == enrolment.version_id)
            )
        }
        return World(
            partner,
            team,
            trainer,
            agent,
            prm,
            stranger,
            document,
            course.id,
            path.id,
            enrolment.id,
            steps,
        )


def records(app) -> tuple:
    """How many sign-offs, start changes and enrolments exist (to prove nothing was written)."""
    with app.app_context():
        return tuple(
            db.session.scalar(select(func.count()).select_from(model))
            for model in (SignOff, StartDateChange, Enrolment)
        )


def page(client, url, status=200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response.get_data(as_text=True)


def text_of(html: str) -> str:
    """The page's words with whitespace collapsed, for phrases split across lines."""
    return " ".join(html.split())


def switch(client, person):
    """Sign out whoever is signed in and sign ``person`` in."""
    post(client, "/logout")
    login(client, person)


def words(html: str) -> str:
    """The page's text without its tags, whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def later(days: int):
    return TODAY + timedelta(days=days)

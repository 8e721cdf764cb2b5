"""Shared by the training report and requirement page tests: courses, records, a world.

Records are written through the learner's own services (``portal.training.taking``) at chosen
times, so expiry and due dates fall where the tests say relative to today.
"""

import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from portal.audiences.services import AudienceSpec
from portal.extensions import db
from portal.partners.models import Partner
from portal.people.models import User
from portal.training import quizzes, taking
from portal.training.models import Course
from portal.training.requirements import RequirementDetails, create_requirement
from portal.training.services import (
    CourseDetails,
    active_lessons,
    add_lesson,
    create_course,
    publish_course,
)
from tests.helpers import login, post

QUESTIONS = 2  # every course here has two single-choice questions


def ago(days: int) -> datetime:
    """A moment ``days`` days before now (negative: in the future)."""
    return datetime.now(UTC) - timedelta(days=days)


def make_course(app, author, title="Data privacy", *, publish=True, **details):
    """A course with one lesson and a two-question quiz (pass mark 50), by ``author``."""
    details.setdefault("has_quiz", True)
    details.setdefault("pass_mark", 50)
    with app.app_context():
        actor = db.session.get(User, author.id) if author is not None else None
        course = create_course(actor, CourseDetails(title=title, **details))
        add_lesson(actor, course, title="Why it matters", body="Personal data is precious.")
        if course.has_quiz:
            for number in range(QUESTIONS):
                quizzes.add_question(
                    actor,
                    course,
                    text=f"Question {number + 1}",
                    kind="single",
                    choices=[("Right", True), ("Wrong", False)],
                )
        if publish:
            publish_course(actor, course)
        db.session.commit()
        return course.id


def take(app, person, course_id, days_ago: int, *, right: int = QUESTIONS):
    """``person`` reads the lessons and submits one attempt with ``right`` right answers."""
    when = ago(days_ago)
    with app.app_context():
        person = db.session.get(User, person.id)
        course = db.session.get(Course, course_id)
        for lesson in active_lessons(course):
            taking.complete_lesson(person, course, lesson, now=when)
        attempt = taking.start_attempt(person, course, now=when)
        answers = {
            q["key"]: [next(c["key"] for c in q["choices"] if c["correct"] == (n < right))]
            for n, q in enumerate(attempt.questions)
        }
        taking.submit_attempt(person, attempt, answers, now=when)
        db.session.commit()


def read_lessons(app, person, course_id, days_ago: int):
    with app.app_context():
        person = db.session.get(User, person.id)
        course = db.session.get(Course, course_id)
        for lesson in active_lessons(course):
            taking.complete_lesson(person, course, lesson, now=ago(days_ago))
        db.session.commit()


def require(app, actor, target_id, *, kind="course", days_ago=90, audience=None, **rule):
    """A requirement made ``days_ago`` days ago (default: due 14 days after hire)."""
    rule.setdefault("due_rule", "after_hire")
    if rule["due_rule"] != "fixed_date":
        rule.setdefault("due_days", 14)
    with app.app_context():
        requirement = create_requirement(
            db.session.get(User, actor.id),
            RequirementDetails(
                kind=kind, target_id=target_id, audience=audience or AudienceSpec(), **rule
            ),
            now=ago(days_ago),
        )
        db.session.commit()
        return requirement.id


def set_active(app, model, object_id, active):
    with app.app_context():
        db.session.get(model, object_id).active = active
        db.session.commit()


@pytest.fixture(name="world")
def world_fixture(app, make_partner, make_team, make_user):
    """Two partners (and a deactivated one) under one yearly course required of agents.

    Alpha: Ada completed (valid), Eve completed 355 days ago (expiring), Otto never started
    (overdue), Pia new (pending, not started), Ivan new and failed once (pending, in
    progress), Rex completed 400 days ago (expired: overdue again), Gil deactivated; Tess the
    trainer took the course without being required to. Bravo: Bea overdue, Ben completed
    (50%). Charlie, a deactivated partner: Carl read the lessons. Gil and Carl, though they
    have records, appear nowhere.
    """
    w = SimpleNamespace()
    w.alpha = make_partner(name="Alpha BPO")
    w.bravo = make_partner(name="Bravo BPO")
    w.charlie = make_partner(name="Charlie BPO")
    w.billing = make_team(partner=w.alpha, name="Alpha Billing")
    w.sales = make_team(partner=w.alpha, name="Alpha Sales")
    w.desk = make_team(partner=w.bravo, name="Bravo Desk")
    w.prm = make_user(role="prm", name="Pam Prm")

    def person(name, partner, team, hired_days_ago=200, role="agent"):
        hired = ago(hired_days_ago)
        return make_user(
            role=role,
            partner=partner,
            team=team,
            name=name,
            created_at=hired,
            hire_date=hired.date(),
        )

    w.ada = person("Ada Done", w.alpha, w.billing)
    w.eve = person("Eve Expiring", w.alpha, w.billing)
    w.otto = person("Otto Overdue", w.alpha, w.billing, hired_days_ago=60)
    w.pia = person("Pia Pending", w.alpha, w.sales, hired_days_ago=5)
    w.ivan = person("Ivan Inprogress", w.alpha, w.sales, hired_days_ago=5)
    w.rex = person("Rex Recert", w.alpha, w.sales, hired_days_ago=500)
    w.gil = person("Gil Gone", w.alpha, w.sales)
    w.tess = person("Tess Trainer", w.alpha, w.billing, role="trainer")
    w.bea = person("Bea Bravo", w.bravo, w.desk)
    w.ben = person("Ben Bravo", w.bravo, w.desk)
    w.carl = person("Carl Charlie", w.charlie, None)
    w.agent = w.pia
    w.trainer = w.tess
    w.course = make_course(app, None, validity_days=365)
    w.requirement = require(
        app, w.prm, w.course, audience=AudienceSpec(roles=["agent"]), warning_days=30
    )
    take(app, w.ada, w.course, 100)
    take(app, w.eve, w.course, 355, right=1)  # 50%: passes at 50
    take(app, w.rex, w.course, 400)
    take(app, w.ivan, w.course, 1, right=0)  # fails
    take(app, w.tess, w.course, 20)
    take(app, w.ben, w.course, 50, right=1)
    take(app, w.gil, w.course, 3, right=1)
    read_lessons(app, w.carl, w.course, 3)
    set_active(app, User, w.gil.id, False)
    set_active(app, Partner, w.charlie.id, False)
    return w


def switch(client, person):
    """Sign out whoever is signed in and sign ``person`` in."""
    post(client, "/logout")
    login(client, person)


def rows(page: str) -> list[str]:
    """Each row of the last table on the page, as text with whitespace collapsed."""
    body = page.split("<tbody>")[-1].split("</tbody>")[0]
    cells = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in cells]


def stat(page: str, label: str) -> str:
    match = re.search(r'class="number">([^<]+)</div><div class="label">' + label, page)
    assert match, f"no {label} figure"
    return match.group(1)

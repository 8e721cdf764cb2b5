"""Required courses in the home page's To do and in the navigation's count."""

import re
from datetime import UTC, datetime, timedelta

from portal.extensions import db
from portal.people.models import User
from portal.training import taking
from portal.training.models import Course
from portal.training.requirements import RequirementDetails, create_requirement
from portal.training.services import active_lessons, add_lesson
from portal.training.services import publish_course as publish
from tests.helpers import count_queries, login
from tests.training_helpers import course_by


def _required_courses(app, prm_id, titles, *, days_ago=30, due_days=7):
    """Published courses required of everyone, made ``days_ago`` days ago."""
    made = datetime.now(UTC) - timedelta(days=days_ago)
    with app.app_context():
        prm = db.session.get(User, prm_id)
        ids = []
        for title in titles:
            course = course_by(prm, title)
            add_lesson(prm, course, title="Only lesson", body="Read me.")
            publish(prm, course)
            details = RequirementDetails(
                kind="course", target_id=course.id, due_rule="after_required", due_days=due_days
            )
            create_requirement(prm, details, now=made)
            ids.append(course.id)
        db.session.commit()
        return ids


def _badge(page: str) -> int:
    match = re.search(r'title="To do[^"]*">(\d+)<', page)
    return int(match.group(1)) if match else 0


def test_required_courses_lead_the_to_do_until_completed(app, client, make_user):
    prm = make_user("prm")
    agent = make_user("agent", created_at=datetime.now(UTC) - timedelta(days=400))
    overdue, done = _required_courses(app, prm.id, ["Brand voice basics", "Data privacy"])
    with app.app_context():
        person = db.session.get(User, agent.id)
        course = db.session.get(Course, done)
        taking.complete_lesson(person, course, active_lessons(course)[0])
        db.session.commit()
    login(client, agent)
    page = client.get("/").get_data(as_text=True)
    todo = page[page.index('id="todo-heading"') :]
    assert "Brand voice basics" in todo and "Overdue" in todo
    assert f"/training/courses/{overdue}" in todo
    assert "Data privacy" not in todo
    assert "1 required course to complete" in todo
    assert _badge(page) == 1
    assert _badge(client.get("/profile").get_data(as_text=True)) == 1  # counted apart there


def test_the_to_do_costs_the_same_queries_for_more_courses(app, client, make_user):
    prm = make_user("prm")
    agent = make_user("agent", created_at=datetime.now(UTC) - timedelta(days=400))
    _required_courses(app, prm.id, ["Course 1", "Course 2"])
    login(client, agent)
    client.get("/")
    with count_queries(app) as few:
        client.get("/")
    _required_courses(app, prm.id, [f"Course {n}" for n in range(3, 9)])
    with count_queries(app) as many:
        page = client.get("/").get_data(as_text=True)
    assert page.count("/training/courses/") >= 8
    assert many() == few()

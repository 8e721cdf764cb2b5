"""Shared by the course builder's page tests: posting its forms the way a browser does."""

import re

from portal.extensions import db
from portal.training.models import Course, Lesson, Question
from portal.training.services import active_lessons, active_questions
from tests.helpers import csrf_token, login
from tests.training_helpers import rows

MANAGE = "/training/manage"


def sign_in(client, user) -> str:
    """Sign ``user`` in; returns the session's CSRF token for the posts that follow."""
    assert login(client, user).status_code == 302
    return csrf_token(client)


def send(client, token, url, data=None, **kwargs):
    return client.post(url, data={**(data or {}), "csrf_token": token}, **kwargs)


def course_form(**overrides) -> dict:
    """A filled-in course details form (quiz on, pass mark 80)."""
    data = {
        "title": "Refunds 101",
        "slug": "",
        "description": "How refunds work.",
        "estimated_minutes": "20",
        "has_quiz": "y",
        "pass_mark": "80",
        "max_attempts": "",
        "validity_days": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def question_form(text, kind, answers, explanation="") -> dict:
    """A question form; ``answers`` are (text, correct) pairs, padded with blank rows to 6."""
    data = {"text": text, "kind": kind, "explanation": explanation}
    answers = list(answers) + [("", False)] * max(0, 6 - len(answers))
    for number, (answer, correct) in enumerate(answers):
        data[f"answers-{number}-text"] = answer
        if correct:
            data[f"answers-{number}-correct"] = "y"
    return data


def new_course(client, token, **overrides) -> int:
    """Create a course through the page; returns its id."""
    response = send(client, token, f"{MANAGE}/new", course_form(**overrides))
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(re.search(r"/training/manage/(\d+)", response.location).group(1))


def add_text_lesson(client, token, course_id, title, body="Read **this**."):
    data = {"title": title, "source": "text", "body": body}
    response = send(client, token, f"{MANAGE}/{course_id}/lessons/new", data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def add_question(client, token, course_id, text, kind, answers, explanation=""):
    data = question_form(text, kind, answers, explanation)
    response = send(client, token, f"{MANAGE}/{course_id}/questions/new", data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def counts(app) -> tuple:
    """Rows of courses, lessons, questions, choices and audit events."""
    with app.app_context():
        return rows()


def course_state(app, course_id) -> dict:
    """The course's columns, its live lessons' and questions' ids in order."""
    with app.app_context():
        course = db.session.get(Course, course_id)
        return {
            "status": course.status,
            "version": course.version,
            "title": course.title,
            "pass_mark": course.pass_mark,
            "validity_days": course.validity_days,
            "lessons": [lesson.id for lesson in active_lessons(course)],
            "questions": [question.id for question in active_questions(course)],
        }


def lesson_titles(app, course_id) -> list[str]:
    with app.app_context():
        return [lesson.title for lesson in active_lessons(db.session.get(Course, course_id))]


def part(app, model, item_id) -> Lesson | Question:
    """A lesson or question, detached with its columns loaded."""
    with app.app_context():
        item = db.session.get(model, item_id)
        db.session.expunge(item)
        return item


def page_text(response) -> str:
    """The page's text with tags and runs of white space collapsed, for message checks."""
    html = response.get_data(as_text=True)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))

"""Shared by the course-writing tests: the acting user, refusals that write nothing."""

from contextlib import contextmanager

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.people.models import User
from portal.training import quizzes
from portal.training.models import (
    Choice,
    Course,
    Lesson,
    Question,
)
from portal.training.services import (
    CourseDetails,
    add_lesson,
    create_course,
)

SINGLE = [("Refund it", True), ("Ignore it", False)]


@contextmanager
def ctx(app, user=None):
    with app.app_context():
        yield db.session.get(User, user.id) if user is not None else None


def rows():
    """How many rows the services could have written."""
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Course, Lesson, Question, Choice, AuditEvent)
    )


def refused(call, field=""):
    """Run ``call``, expect InvalidInput, check nothing was written; return the message."""
    before = rows()
    with pytest.raises(InvalidInput) as refusal:
        call()
    assert not (db.session.new or db.session.dirty or db.session.deleted)
    assert rows() == before
    db.session.rollback()
    return refusal.value.errors[field]


def course_by(actor, title="Refunds 101", **kw):
    course = create_course(actor, CourseDetails(title=title, **kw))
    db.session.commit()
    return course


def quiz_course(actor, title="Data privacy"):
    course = course_by(actor, title, has_quiz=True, pass_mark=80)
    add_lesson(actor, course, title="Why it matters", body="Personal data is **precious**.")
    quizzes.add_question(
        actor, course, text="A customer asks for a refund.", kind="single", choices=SINGLE
    )
    db.session.commit()
    return course

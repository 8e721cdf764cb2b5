"""Shared by the learner's page tests: published courses, requirements, answering a quiz."""

import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import func, select

from portal.extensions import db
from portal.people.models import User
from portal.training import quizzes
from portal.training.models import Completion, LessonProgress, QuizAttempt
from portal.training.requirements import RequirementDetails, create_requirement
from portal.training.services import CourseDetails, add_lesson, create_course, publish_course

LONG_AGO = datetime(2025, 1, 6, tzinfo=UTC)  # people made then are subject to rules in full
QUESTIONS = [
    (
        "A customer is angry about a late refund. What comes first?",
        "single",
        [("Acknowledge the delay", True), ("Quote the policy", False), ("Transfer", False)],
        "Acknowledging the delay first calms the customer.",
    ),
    (
        "Which words fit our brand voice?",
        "multiple",
        [("Clear", True), ("Warm", True), ("Sarcastic", False)],
        "Clear and warm, never sarcastic.",
    ),
]


def publish(app, author, title="Brand voice basics", *, lessons=2, questions=2, documents=(), **kw):
    """A published course by ``author``: ``lessons`` own lessons, then one lesson per document
    id in ``documents``, and (with ``questions``) a quiz. Returns its id and its lessons' ids.
    """
    if questions:
        kw.setdefault("pass_mark", 100)
    with app.app_context():
        actor = db.session.get(User, author.id)
        course = create_course(actor, CourseDetails(title=title, has_quiz=bool(questions), **kw))
        lesson_ids = [
            add_lesson(actor, course, title=f"Lesson {n}", body=f"Step **{n}**.").id
            for n in range(1, lessons + 1)
        ]
        lesson_ids += [
            add_lesson(actor, course, title=f"Lesson {lessons + n}", document_id=document_id).id
            for n, document_id in enumerate(documents, 1)
        ]
        for text, kind, choices, explanation in (QUESTIONS * 20)[:questions]:
            quizzes.add_question(
                actor, course, text=text, kind=kind, choices=choices, explanation=explanation
            )
        publish_course(actor, course)
        db.session.commit()
        return SimpleNamespace(course_id=course.id, lesson_ids=lesson_ids, title=title)


def require(app, author, course_id, *, days_ago=0, due_days=7, warning_days=30):
    """Require the course of everyone ``author`` reaches: made ``days_ago``, due days later."""
    with app.app_context():
        actor = db.session.get(User, author.id)
        create_requirement(
            actor,
            RequirementDetails(
                kind="course",
                target_id=course_id,
                due_rule="after_required",
                due_days=due_days,
                warning_days=warning_days,
            ),
            now=datetime.now(UTC) - timedelta(days=days_ago),
        )
        db.session.commit()


def snapshot(app, attempt_id):
    """The questions the attempt presented, with their keys and right answers."""
    with app.app_context():
        return db.session.get(QuizAttempt, attempt_id).questions


def answers(questions, *, wrong=()) -> dict:
    """A quiz form answering every question right, except the numbers in ``wrong`` (from 1)."""
    data = {}
    for n, question in enumerate(questions, 1):
        right = [c["key"] for c in question["choices"] if c["correct"]]
        bad = [c["key"] for c in question["choices"] if not c["correct"]][:1]
        data[question["key"]] = bad if n in wrong else right
    return data


def attempt_id_of(response) -> int:
    """The attempt a "start the quiz" post redirected to."""
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(re.search(r"/training/attempts/(\d+)$", response.location).group(1))


def counts(app) -> tuple:
    """How many learner records exist: (lesson progress, attempts, submitted, completions)."""
    with app.app_context():

        def count(stmt):
            return db.session.scalar(select(func.count()).select_from(stmt.subquery()))

        return (
            count(select(LessonProgress.id)),
            count(select(QuizAttempt.id)),
            count(select(QuizAttempt.id).where(QuizAttempt.submitted_at.is_not(None))),
            count(select(Completion.id)),
        )


def completion_of(app, user_id, course_id) -> Completion:
    with app.app_context():
        completion = db.session.scalars(
            select(Completion)
            .where(Completion.user_id == user_id, Completion.course_id == course_id)
            .order_by(Completion.sequence.desc())
        ).first()
        db.session.expunge(completion)
        return completion

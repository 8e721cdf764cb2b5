"""What the learner's pages show, gathered in a fixed number of queries.

The taking services (``portal.training.taking``) answer "where does this person stand"; this
module shapes that for pages: lesson counts on "My training", the due date of one course, the
feedback of a submitted attempt (with the right answers only when they can no longer help
anyone pass), and who may open a completion and its certificate.
"""

from dataclasses import dataclass
from datetime import date

from flask import abort
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import and_, func, select
from sqlalchemy.orm import joinedload

from portal.access.visibility import visible_documents, visible_people
from portal.extensions import db
from portal.library.models import Document
from portal.people.models import User
from portal.reminders.localdays import from_day_number
from portal.training.models import (
    Completion,
    Course,
    Lesson,
    LessonProgress,
    QuestionKind,
    QuizAttempt,
    Requirement,
    RequirementKind,
)
from portal.training.requirements import assignments
from portal.training.taking import CourseProgress, is_right

# Most urgent first, as "My training" sorts requirements.
URGENCY = ("overdue", "expiring", "pending", "completed")


class ListPage(Pagination):
    """One page of a list already in memory (``my_training`` builds the whole list at once)."""

    def _query_items(self):
        start = (self.page - 1) * self.per_page
        return self._query_args["rows"][start : start + self.per_page]

    def _query_count(self):
        return len(self._query_args["rows"])


def lesson_counts(person, course_ids) -> dict[int, tuple[int, int]]:
    """course id -> (lessons ``person`` has done, live lessons), in one query."""
    if not course_ids:
        return {}
    rows = db.session.execute(
        select(Lesson.course_id, func.count(LessonProgress.id), func.count(Lesson.id))
        .outerjoin(
            LessonProgress,
            and_(LessonProgress.lesson_id == Lesson.id, LessonProgress.user_id == person.id),
        )
        .where(Lesson.course_id.in_(list(course_ids)), Lesson.removed_at.is_(None))
        .group_by(Lesson.course_id)
    ).all()
    return {course_id: (done, total) for course_id, done, total in rows}


def course_due(person, course: Course, today: date) -> tuple[date, str] | None:
    """(due date, status) of ``course`` for ``person`` under their most urgent requirement.

    None when no requirement asks it of them. Status is one of URGENCY, as in
    :func:`portal.training.requirements.assignments`.
    """
    sub = assignments(today=today, user_id=person.id).subquery()
    rows = db.session.execute(
        select(sub.c.due_day, sub.c.status)
        .join(Requirement, Requirement.id == sub.c.requirement_id)
        .where(Requirement.kind == RequirementKind.COURSE, Requirement.course_id == course.id)
    ).all()
    if not rows:
        return None
    due_day, status = min(rows, key=lambda r: (URGENCY.index(r.status), r.due_day))
    return from_day_number(due_day), status


def due_phrase(due_on: date | None, today: date) -> str:
    """A due date as people say it: "due 17 Dec 2026", "due in 5 days (…)", "3 days overdue"."""
    if due_on is None:
        return ""
    days = (due_on - today).days
    if days < 0:
        return f"{-days} day{'s' if days != -1 else ''} overdue"
    when = f"{due_on:%-d %b %Y}"
    if days == 0:
        return f"due today ({when})"
    if days == 1:
        return f"due tomorrow ({when})"
    if days <= 14:
        return f"due in {days} days ({when})"
    return f"due {when}"


def lesson_of(course: Course, lesson_id: int) -> Lesson:
    """A live lesson of ``course``, else 404 (another course's lesson too)."""
    lesson = db.session.get(Lesson, lesson_id)
    if lesson is None or lesson.course_id != course.id or lesson.removed_at is not None:
        abort(404)
    return lesson


@dataclass
class LessonText:
    """What a lesson shows: its own sanitized HTML, or a library document's current version."""

    html: str | None
    document: Document | None = None
    linkable: bool = False  # the reader may open the document in the library


def lesson_text(viewer, lesson: Lesson) -> LessonText:
    """The lesson's text; a document lesson shows the document's published version in place.

    The course's author chose the document for everyone taking the course, so it is shown
    even where its own audience would not list it for the reader; the link to the library is
    offered only to readers who may open it there.
    """
    if lesson.document_id is None:
        return LessonText(html=lesson.html)
    document = db.session.scalars(
        select(Document)
        .options(joinedload(Document.current_version))
        .where(Document.id == lesson.document_id)
    ).one()
    version = document.current_version
    linkable = (
        db.session.scalar(
            select(func.count()).select_from(
                visible_documents(viewer).where(Document.id == document.id).subquery()
            )
        )
        > 0
    )
    return LessonText(
        html=version.html if version is not None else None, document=document, linkable=linkable
    )


def own_attempt_or_404(person, attempt_id: int) -> QuizAttempt:
    """``person``'s own attempt; anyone else's answers 404, whatever their role."""
    attempt = db.session.get(QuizAttempt, attempt_id)
    if attempt is None or attempt.user_id != person.id:
        abort(404)
    return attempt


def answers_from_form(form) -> dict[str, list[str]]:
    """Every posted answer by field name; the service refuses names the attempt lacks."""
    return {name: form.getlist(name) for name in form if name != "csrf_token"}


def reveals_answers(attempt: QuizAttempt, standing: CourseProgress) -> bool:
    """Whether the feedback may show the right answers.

    Only once they can no longer help pass: this attempt passed, the person holds a
    completion not yet up for renewal, or they have no attempts left.
    """
    return bool(attempt.passed) or (
        (standing.valid and not standing.renewable) or standing.attempts_left == 0
    )


@dataclass
class ChoiceFeedback:
    text: str
    chosen: bool
    correct: bool | None  # None: not revealed


@dataclass
class QuestionFeedback:
    number: int
    text: str
    multiple: bool
    right: bool
    choices: list[ChoiceFeedback]
    explanation: str


def feedback(attempt: QuizAttempt, *, reveal: bool) -> list[QuestionFeedback]:
    """Each question of a submitted attempt as presented, with the person's answers.

    Without ``reveal`` nothing names a right answer the person missed: which answers were
    right, and the explanations of questions they got wrong, are left out.
    """
    answers = attempt.answers or {}
    result = []
    for number, question in enumerate(attempt.questions, 1):
        chosen = set(answers.get(question["key"], []))
        choices = [
            ChoiceFeedback(c["text"], c["key"] in chosen, c["correct"] if reveal else None)
            for c in question["choices"]
        ]
        right = is_right(question, chosen)
        result.append(
            QuestionFeedback(
                number=number,
                text=question["text"],
                multiple=question["kind"] == QuestionKind.MULTIPLE,
                right=right,
                choices=choices,
                # An explanation usually names the right answer: shown when that is no secret.
                explanation=(question.get("explanation") or "") if reveal or right else "",
            )
        )
    return result


def completion_of_attempt(attempt: QuizAttempt) -> Completion | None:
    """The completion this attempt earned, if it passed."""
    if not attempt.passed:
        return None
    return db.session.scalars(select(Completion).where(Completion.attempt_id == attempt.id)).first()


def visible_completion_or_404(viewer, completion_id: int) -> Completion:
    """A completion whose holder ``viewer`` may see: their own, their partner's people for a
    trainer, anyone's for staff. Kept after the course is archived or the person deactivated.
    """
    holders = visible_people(viewer).with_only_columns(User.id)
    completion = db.session.scalars(
        select(Completion)
        .options(
            joinedload(Completion.user).joinedload(User.partner), joinedload(Completion.course)
        )
        .where(
            Completion.id == completion_id,
            (Completion.user_id == viewer.id) | Completion.user_id.in_(holders),
        )
    ).first()
    if completion is None:
        abort(404)
    return completion

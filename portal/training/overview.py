"""What someone has to do in training: "My training" rows and the To do count."""

import functools
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from portal.access.bound import PERSON_ID, day_values
from portal.access.visibility import courses_addressed_to
from portal.core.clock import utcnow
from portal.extensions import db
from portal.reminders.localdays import from_day_number
from portal.training.models import (
    Completion,
    Course,
    LessonProgress,
    QuizAttempt,
    Requirement,
    RequirementKind,
)
from portal.training.requirements import person_assignments


@dataclass
class TrainingRow:
    """A course on someone's "My training" page."""

    course: Course
    required: bool
    due_on: date | None
    status: str  # not_started, in_progress, completed, expiring, overdue
    completion: Completion | None


STATUS_ORDER = ("overdue", "expiring", "in_progress", "not_started", "completed")


def my_training(person, *, today: date | None = None, now=None) -> list[TrainingRow]:
    """Every course ``person`` may take or has completed, most urgent first (five queries).

    Required courses carry their due date and the requirement's status; the others are
    not started, in progress or completed from the person's own records.
    """
    now = now or utcnow()
    today = today or now.date()
    courses = db.session.scalars(courses_addressed_to(person)).all()
    due = _course_due(person, today)
    completions = _latest_completions(person)
    started = _started_course_ids(person)
    shown = {c.id for c in courses}
    archived = [c for c in _courses(set(completions) - shown)]
    rows = []
    for course in [*courses, *archived]:
        completion = completions.get(course.id)
        valid = completion is not None and (
            completion.expires_at is None or completion.expires_at > now
        )
        if course.id in due:
            due_on, status = due[course.id]
            if status == "pending":
                status = "in_progress" if course.id in started else "not_started"
        else:
            due_on = None
            status = (
                "completed" if valid else "in_progress" if course.id in started else "not_started"
            )
        rows.append(TrainingRow(course, course.id in due, due_on, status, completion))
    rows.sort(key=lambda r: (STATUS_ORDER.index(r.status), r.due_on or date.max, r.course.title))
    return rows


def due_training(person, *, today: date | None = None) -> list[TrainingRow]:
    """The required courses ``person`` has still to complete or renew, most urgent first.

    What the home page's To do lists, and what the navigation's count counts: two queries at
    most, each built once per process, without working out the rest of "My training".
    """
    today = today or utcnow().date()
    standings, courses = _standings(person, today)
    due = {
        course_id: standing
        for course_id, standing in standings.items()
        if standing[1] != "completed"
    }
    if not due:
        return []
    pending = any(status == "pending" for _, status in due.values())
    started = _started_course_ids(person) if pending else set()
    rows = []
    for course in courses.values():
        if course.id not in due:
            continue
        due_on, status = due[course.id]
        if status == "pending":
            status = "in_progress" if course.id in started else "not_started"
        rows.append(TrainingRow(course, True, due_on, status, None))
    rows.sort(key=lambda r: (STATUS_ORDER.index(r.status), r.due_on, r.course.title))
    return rows


@functools.cache
def _due_statement():
    """Course id, due day, status and course of each of one person's course requirements."""
    rows = person_assignments().subquery()
    return (
        select(Requirement.course_id, rows.c.due_day, rows.c.status, Course)
        .join(Requirement, Requirement.id == rows.c.requirement_id)
        .join(Course, Course.id == Requirement.course_id)
        .where(Requirement.kind == RequirementKind.COURSE)
    )


def _course_due(person, today: date) -> dict[int, tuple[date, str]]:
    """course id -> (earliest due date, most urgent status) under the person's requirements."""
    return _standings(person, today)[0]


def _standings(person, today: date) -> tuple[dict[int, tuple[date, str]], dict[int, Course]]:
    """:func:`_course_due`, and the courses it names by id (one query)."""
    rows = db.session.execute(_due_statement(), day_values(person.id, today)).all()
    urgency = ("overdue", "expiring", "pending", "completed")
    due: dict[int, tuple[date, str]] = {}
    courses: dict[int, Course] = {}
    for course_id, due_day, status, course in rows:
        courses[course_id] = course
        entry = (from_day_number(due_day), status)
        if course_id not in due or (urgency.index(status), entry[0]) < (
            urgency.index(due[course_id][1]),
            due[course_id][0],
        ):
            due[course_id] = entry
    return due, courses


@functools.cache
def _due_count_statement():
    """How many distinct courses one person has still to complete or renew."""
    rows = person_assignments().subquery()
    return (
        select(func.count(func.distinct(Requirement.course_id)))
        .select_from(rows)
        .join(Requirement, Requirement.id == rows.c.requirement_id)
        .where(Requirement.kind == RequirementKind.COURSE, rows.c.status != "completed")
    )


def due_course_count(person, *, today: date | None = None) -> int:
    """How many required courses ``person`` has still to complete or renew (one query)."""
    values = day_values(person.id, today or utcnow().date())
    return db.session.scalar(_due_count_statement(), values) or 0


def _latest_completions(person) -> dict[int, Completion]:
    completions = db.session.scalars(
        select(Completion)
        .where(Completion.user_id == person.id)
        .order_by(Completion.course_id, Completion.sequence)
    ).all()
    return {c.course_id: c for c in completions}


def _started_course_ids(person) -> set[int]:
    """Courses with lesson progress or quiz attempts after their latest completion, if any."""
    return set(db.session.scalars(_started_statement(), {PERSON_ID.key: person.id}))


@functools.cache
def _started_statement():
    """:func:`_started_course_ids` of one person, built once (``PERSON_ID`` bound)."""
    latest = (
        select(Completion.course_id, func.max(Completion.completed_at).label("at"))
        .where(Completion.user_id == PERSON_ID)
        .group_by(Completion.course_id)
        .subquery()
    )
    attempts = (
        select(QuizAttempt.course_id)
        .outerjoin(latest, latest.c.course_id == QuizAttempt.course_id)
        .where(
            QuizAttempt.user_id == PERSON_ID,
            (latest.c.at.is_(None)) | (QuizAttempt.started_at > latest.c.at),
        )
    )
    lessons = (
        select(LessonProgress.course_id)
        .outerjoin(latest, latest.c.course_id == LessonProgress.course_id)
        .where(LessonProgress.user_id == PERSON_ID, latest.c.at.is_(None))
    )
    return attempts.union(lessons)


def _courses(ids: set[int]) -> list[Course]:
    if not ids:
        return []
    return db.session.scalars(select(Course).where(Course.id.in_(ids))).all()

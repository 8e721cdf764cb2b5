"""One course's report: everyone required to complete it or with a record of it, in scope.

Per person: partner and team, the requirement that applies (the most urgent one) and its due
date, their status, lessons done, attempts (all of them and those of the current round), best
and last score, and their latest completion. All of it is one select, so a page of people
costs the same queries whatever their number.
"""

from datetime import date

from sqlalchemy import Select, and_, case, func, literal, or_, select, union
from sqlalchemy.orm import aliased

from portal.extensions import db
from portal.partners.models import Partner, Team
from portal.people.models import User
from portal.reminders.localdays import day_number, from_day_number
from portal.training.models import Completion, Course, Lesson, LessonProgress, QuizAttempt
from portal.training.reporting import (
    STATUS_LABELS,
    Filters,
    count_where,
    grouped_figures,
    in_scope,
    narrowed,
    person_columns,
    required_courses,
    urgency,
    utc_text,
)
from portal.training.requirements import day_of


def _latest_completions(course_id: int):
    """Subquery: each person's latest completion of the course, with its attempt's number."""
    latest = (
        select(Completion.user_id, func.max(Completion.sequence).label("sequence"))
        .where(Completion.course_id == course_id)
        .group_by(Completion.user_id)
        .subquery("latest")
    )
    passed = aliased(QuizAttempt, name="passed_attempt")
    return (
        select(
            Completion.user_id,
            Completion.completed_at,
            Completion.expires_at,
            passed.number.label("passed_number"),
        )
        .join(
            latest,
            and_(latest.c.user_id == Completion.user_id, latest.c.sequence == Completion.sequence),
        )
        .outerjoin(passed, passed.id == Completion.attempt_id)
        .where(Completion.course_id == course_id)
        .subquery("latest_completion")
    )


def _attempt_totals(course_id: int, completion):
    """Subquery: per person, attempts made, those of the current round, best score, last one.

    The current round is what counts towards the next completion (as on the learner's side):
    attempts after the one that passed, or started after a completion without a quiz.
    """
    submitted = QuizAttempt.submitted_at.is_not(None)
    in_round = or_(
        completion.c.user_id.is_(None),
        and_(
            completion.c.passed_number.is_not(None),
            QuizAttempt.number > completion.c.passed_number,
        ),
        and_(
            completion.c.passed_number.is_(None),
            QuizAttempt.started_at >= completion.c.completed_at,
        ),
    )
    return (
        select(
            QuizAttempt.user_id,
            func.count(QuizAttempt.submitted_at).label("made"),
            func.count().filter(in_round).label("round_started"),
            func.count().filter(and_(in_round, submitted)).label("round_made"),
            func.max(QuizAttempt.score).label("best"),
            func.max(case((submitted, QuizAttempt.number))).label("last_number"),
        )
        .outerjoin(completion, completion.c.user_id == QuizAttempt.user_id)
        .where(QuizAttempt.course_id == course_id)
        .group_by(QuizAttempt.user_id)
        .subquery("attempt_totals")
    )


def _course_people(viewer, course: Course, today: date, filters: Filters):
    """(select of the course's people in scope with their figures, the required subquery).

    People are those required to complete it and those with any record of it (lessons,
    attempts, completions), so someone who took it on their own appears too.
    """
    required = required_courses(viewer, today, course_id=course.id)
    involved = union(
        select(required.c.user_id),
        select(LessonProgress.user_id).where(LessonProgress.course_id == course.id),
        select(QuizAttempt.user_id).where(QuizAttempt.course_id == course.id),
        select(Completion.user_id).where(Completion.course_id == course.id),
    ).subquery("involved")
    lessons = (
        select(LessonProgress.user_id, func.count().label("done"))
        .join(Lesson, and_(Lesson.id == LessonProgress.lesson_id, Lesson.removed_at.is_(None)))
        .where(LessonProgress.course_id == course.id)
        .group_by(LessonProgress.user_id)
        .subquery("lessons")
    )
    completion = _latest_completions(course.id)
    attempts = _attempt_totals(course.id, completion)
    last = aliased(QuizAttempt, name="last_attempt")
    today_day = literal(day_number(today))
    valid = and_(
        completion.c.user_id.is_not(None),
        or_(completion.c.expires_at.is_(None), day_of(completion.c.expires_at) > today_day),
    )
    started = or_(
        attempts.c.round_started > 0, and_(completion.c.user_id.is_(None), lessons.c.done > 0)
    )
    status = case(
        (required.c.status.in_(("overdue", "expiring", "completed")), required.c.status),
        (valid, "completed"),
        (started, "in_progress"),
        else_="not_started",
    )
    stmt = (
        select(
            *person_columns(),
            required.c.requirement_id,
            required.c.due_day,
            required.c.status.label("required_status"),
            func.coalesce(lessons.c.done, 0).label("lessons_done"),
            func.coalesce(attempts.c.made, 0).label("attempts"),
            func.coalesce(attempts.c.round_made, 0).label("round_attempts"),
            attempts.c.best.label("best_score"),
            last.score.label("last_score"),
            completion.c.completed_at,
            completion.c.expires_at,
            status.label("status"),
        )
        .select_from(involved)
        .join(User, User.id == involved.c.user_id)
        .join(Partner, Partner.id == User.partner_id)
        .outerjoin(Team, Team.id == User.team_id)
        .outerjoin(required, required.c.user_id == User.id)
        .outerjoin(lessons, lessons.c.user_id == User.id)
        .outerjoin(completion, completion.c.user_id == User.id)
        .outerjoin(attempts, attempts.c.user_id == User.id)
        .outerjoin(
            last,
            and_(
                last.user_id == User.id,
                last.course_id == course.id,
                last.number == attempts.c.last_number,
            ),
        )
    )
    return narrowed(in_scope(viewer, stmt), filters), required


def course_rows(viewer, course: Course, today: date, filters: Filters) -> Select:
    """Select of the course report's people, most urgent first, then by due date and name."""
    stmt, required = _course_people(viewer, course, today, filters)
    status = stmt.selected_columns.status
    if filters.status == "pending":
        stmt = stmt.where(required.c.status == "pending")
    elif filters.status in STATUS_LABELS:
        stmt = stmt.where(status == filters.status)
    return stmt.order_by(
        urgency(status, list(STATUS_LABELS)),
        case((required.c.due_day.is_(None), 1), else_=0),
        required.c.due_day,
        User.name,
        User.id,
    )


def course_report_figures(viewer, course: Course, today: date, filters: Filters):
    """(totals, per partner with its teams) for a course report; ignores the status filter."""
    sub = _course_people(viewer, course, today, filters)[0].subquery()
    status, required = sub.c.status, sub.c.required_status
    counts = (
        func.count().label("people"),
        func.count(sub.c.requirement_id).label("required"),
        count_where(
            and_(required.is_not(None), status.in_(("completed", "expiring"))), "completed"
        ),
        count_where(status == "expiring", "expiring"),
        count_where(status == "overdue", "overdue"),
        count_where(required == "pending", "pending"),
        count_where(status == "in_progress", "in_progress"),
        count_where(status == "not_started", "not_started"),
    )
    return grouped_figures(sub, counts)


def lesson_count(course: Course) -> int:
    """How many lessons the course has now (removed ones do not count)."""
    return db.session.scalar(
        select(func.count())
        .select_from(Lesson)
        .where(Lesson.course_id == course.id, Lesson.removed_at.is_(None))
    )


CSV_HEADER = (
    "Name",
    "Email",
    "Partner",
    "Team",
    "Status",
    "Requirement",
    "Due on",
    "Lessons done",
    "Lessons",
    "Attempts",
    "Best score (%)",
    "Last score (%)",
    "Completed at (UTC)",
    "Expires at (UTC)",
)


def csv_cells(lessons: int):
    """A function turning one course report row into CSV values (dates ISO 8601, UTC)."""

    def cells(row) -> list:
        return [
            row.name,
            row.email,
            row.partner_name,
            row.team_name or "",
            STATUS_LABELS[row.status],
            row.requirement_id or "",
            from_day_number(row.due_day).isoformat() if row.due_day is not None else "",
            row.lessons_done,
            lessons,
            row.attempts,
            "" if row.best_score is None else row.best_score,
            "" if row.last_score is None else row.last_score,
            utc_text(row.completed_at),
            utc_text(row.expires_at),
        ]

    return cells

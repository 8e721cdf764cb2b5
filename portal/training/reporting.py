"""Training reports: who must complete what, who has, with attempts and scores, as set-based SQL.

Everything starts from :func:`portal.training.requirements.assignments` (every active person's
standing under every active requirement, in one select) narrowed to the viewer's scope: staff
see every partner, a trainer their own partner's people. Counting, filtering and paging happen
in the database, so a page costs the same few queries for 20 people as for 20,000. Deactivated
people and people of deactivated partners appear nowhere: ``assignments`` leaves them out and
the queries over people's own records here do too.

A person's standing in a course, as the reports show it, matches what they see on their own
"My training" page: overdue and expiring come from a requirement; otherwise completed (a valid
completion), in progress (something done towards their next completion) or not started.
"Pending" is a filter, not a status: required, not completed and not yet overdue.
"""

import csv
import io
from dataclasses import dataclass, field, fields
from datetime import UTC, date

from sqlalchemy import Select, case, func, literal, select

from portal.access.visibility import visible_courses, visible_people
from portal.acknowledgements.reporting import CSV_BATCH, safe_cell
from portal.audiences.services import AUDIENCE_ROLES
from portal.extensions import db
from portal.partners.models import Partner, Team
from portal.people.models import User
from portal.reminders.localdays import from_day_number
from portal.training.models import (
    Course,
    QuizAttempt,
    Requirement,
    RequirementKind,
)
from portal.training.requirements import assignments

# A person's standing in one course, most urgent first (the order of every list).
STATUS_LABELS = {
    "overdue": "Overdue",
    "expiring": "Expiring soon",
    "in_progress": "In progress",
    "not_started": "Not started",
    "completed": "Completed",
}
# What the status filter of a course report offers: the statuses, and "pending".
STATUS_FILTERS = {
    "overdue": "Overdue",
    "expiring": "Expiring soon",
    "pending": "Pending (required, not yet due)",
    "in_progress": "In progress",
    "not_started": "Not started",
    "completed": "Completed",
}
# The statuses of one requirement's people, as ``assignments`` gives them.
REQUIREMENT_STATUSES = ("overdue", "pending", "expiring", "completed")


def scope_partner_id(viewer) -> int | None:
    """The partner a viewer's reports are limited to: None for staff, a trainer's own."""
    return None if viewer.is_staff else viewer.partner_id


@dataclass(frozen=True)
class Filters:
    """What a list is narrowed to; None means any."""

    partner_id: int | None = None
    team_id: int | None = None
    status: str | None = None
    course_id: int | None = None

    def args(self) -> dict:
        """The filters as URL arguments, for links that keep them (CSV, pages)."""
        values = {
            "partner": self.partner_id,
            "team": self.team_id,
            "status": self.status,
            "course": self.course_id,
        }
        return {name: value for name, value in values.items() if value is not None}


@dataclass
class Figures:
    """How many people are where; ``completed`` includes those expiring soon (still valid)."""

    people: int = 0
    required: int = 0
    completed: int = 0
    expiring: int = 0
    overdue: int = 0
    pending: int = 0
    in_progress: int = 0
    not_started: int = 0

    @property
    def percent_complete(self) -> int:
        return round(100 * self.completed / self.required) if self.required else 0

    def add(self, other: "Figures") -> None:
        for name in (f.name for f in fields(self)):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class PartnerFigures:
    partner_id: int
    partner_name: str
    figures: Figures = field(default_factory=Figures)
    teams: list[tuple[int | None, str, Figures]] = field(default_factory=list)


def figures_of(row) -> Figures:
    """A result row with a column per Figures field, as Figures."""
    return Figures(**{f.name: getattr(row, f.name) for f in fields(Figures)})


def _by_partner_and_team(rows) -> tuple[Figures, list[PartnerFigures]]:
    """Totals and per-partner figures (with their teams) from rows grouped by partner, team."""
    totals, partners = Figures(), {}
    for row in rows:
        figures = figures_of(row)
        partner = partners.setdefault(
            row.partner_id, PartnerFigures(row.partner_id, row.partner_name)
        )
        partner.teams.append((row.team_id, row.team_name or "No team", figures))
        partner.figures.add(figures)
        totals.add(figures)
    return totals, list(partners.values())


def grouped_figures(sub, counts) -> tuple[Figures, list[PartnerFigures]]:
    """Run ``counts`` (labelled Figures columns over ``sub``) per partner and team."""
    rows = db.session.execute(
        select(
            sub.c.partner_id,
            sub.c.partner_name,
            sub.c.team_id,
            sub.c.team_name,
            *counts,
        )
        .group_by(sub.c.partner_id, sub.c.partner_name, sub.c.team_id, sub.c.team_name)
        .order_by(sub.c.partner_name, sub.c.team_name)
    ).all()
    return _by_partner_and_team(rows)


def count_where(condition, name: str):
    """SQL: how many rows meet ``condition``, labelled ``name``."""
    return func.count().filter(condition).label(name)


def urgency(status_column, order) -> case:
    """SQL: a status's place in ``order``, for sorting the most urgent first."""
    return case(*((status_column == s, i) for i, s in enumerate(order)), else_=len(order))


def person_columns():
    """Who a row is about (a person, their partner and team), for every people list."""
    return (
        User.id.label("user_id"),
        User.name.label("name"),
        User.email.label("email"),
        Partner.id.label("partner_id"),
        Partner.name.label("partner_name"),
        Team.id.label("team_id"),
        Team.name.label("team_name"),
    )


def narrowed(stmt: Select, filters: Filters) -> Select:
    """``stmt`` (of people) kept to the partner and team filters."""
    if filters.partner_id is not None:
        stmt = stmt.where(User.partner_id == filters.partner_id)
    if filters.team_id is not None:
        stmt = stmt.where(User.team_id == filters.team_id)
    return stmt


# --- courses --------------------------------------------------------------------------------


def required_courses(viewer, today: date, *, course_id: int | None = None):
    """Subquery: one row per (course, person) required in scope, by the most urgent requirement.

    Someone under two requirements of a course is listed once, by the one that is overdue
    (or pending, expiring, completed, in that order), then the earliest due. Columns:
    course_id, requirement_id, user_id, due_day, status, expires_day.
    """
    a = assignments(today=today, partner_id=scope_partner_id(viewer)).order_by(None).subquery()
    rank = func.row_number().over(
        partition_by=(Requirement.course_id, a.c.user_id),
        order_by=(urgency(a.c.status, REQUIREMENT_STATUSES), a.c.due_day, a.c.requirement_id),
    )
    stmt = (
        select(
            Requirement.course_id,
            a.c.requirement_id,
            a.c.user_id,
            a.c.due_day,
            a.c.status,
            a.c.expires_day,
            rank.label("rank"),
        )
        .join(Requirement, Requirement.id == a.c.requirement_id)
        .where(Requirement.kind == RequirementKind.COURSE.value)
    )
    if course_id is not None:
        stmt = stmt.where(Requirement.course_id == course_id)
    else:
        stmt = stmt.where(
            Requirement.course_id.in_(visible_courses(viewer).with_only_columns(Course.id))
        )
    ranked = stmt.subquery("ranked")
    return (
        select(*(c for c in ranked.c if c.name != "rank"))
        .where(ranked.c.rank == 1)
        .subquery("required")
    )


def in_scope(viewer, stmt: Select) -> Select:
    """Only active partner people of active partners whom the viewer may see."""
    return stmt.where(
        User.active,
        User.role.in_(AUDIENCE_ROLES),
        Partner.active,
        User.id.in_(visible_people(viewer).with_only_columns(User.id)),
    )


def course_figures(viewer, course_ids: list[int], today: date) -> dict[int, Figures]:
    """Each course's required, completed, expiring, overdue and pending people (one query)."""
    if not course_ids:
        return {}
    required = required_courses(viewer, today)
    status = required.c.status
    rows = db.session.execute(
        select(
            required.c.course_id,
            func.count().label("people"),
            func.count().label("required"),
            count_where(status.in_(("completed", "expiring")), "completed"),
            count_where(status == "expiring", "expiring"),
            count_where(status == "overdue", "overdue"),
            count_where(status == "pending", "pending"),
            literal(0).label("in_progress"),
            literal(0).label("not_started"),
        )
        .where(required.c.course_id.in_(course_ids))
        .group_by(required.c.course_id)
    ).all()
    return {row.course_id: figures_of(row) for row in rows}


def average_scores(viewer, course_ids: list[int]) -> dict[int, float]:
    """Each course's average score of passing quiz attempts by people in scope (one query)."""
    if not course_ids:
        return {}
    stmt = (
        select(QuizAttempt.course_id, func.avg(QuizAttempt.score))
        .join(User, User.id == QuizAttempt.user_id)
        .join(Partner, Partner.id == User.partner_id)
        .where(QuizAttempt.course_id.in_(course_ids), QuizAttempt.passed)
        .group_by(QuizAttempt.course_id)
    )
    return {course_id: float(avg) for course_id, avg in db.session.execute(in_scope(viewer, stmt))}


# --- overdue and expiring across courses ----------------------------------------------------

# The two lists across every course, by the requirement status they show.
LISTS = {"overdue": "Overdue training", "expiring": "Certificates expiring soon"}


def status_list_rows(viewer, status: str, today: date, filters: Filters) -> Select:
    """Select of person × course rows in scope with this requirement status, soonest first."""
    required = required_courses(viewer, today)
    stmt = (
        select(
            *person_columns(),
            Course.id.label("course_id"),
            Course.title.label("course_title"),
            required.c.requirement_id,
            required.c.due_day,
            required.c.expires_day,
        )
        .select_from(required)
        .join(User, User.id == required.c.user_id)
        .join(Partner, Partner.id == User.partner_id)
        .outerjoin(Team, Team.id == User.team_id)
        .join(Course, Course.id == required.c.course_id)
        .where(required.c.status == status)
    )
    if filters.course_id is not None:
        stmt = stmt.where(required.c.course_id == filters.course_id)
    day = required.c.expires_day if status == "expiring" else required.c.due_day
    return narrowed(stmt, filters).order_by(day, User.name, Course.title, User.id, Course.id)


def list_totals(viewer, today: date) -> dict[str, int]:
    """How many person × course rows each list across courses has (one query)."""
    required = required_courses(viewer, today)
    rows = db.session.execute(
        select(required.c.status, func.count())
        .where(required.c.status.in_(list(LISTS)))
        .group_by(required.c.status)
    ).all()
    return {status: 0 for status in LISTS} | dict(rows)


LIST_CSV_HEADER = (
    "Name",
    "Email",
    "Partner",
    "Team",
    "Course",
    "Due on",
    "Completion expires on",
)


def list_cells(row) -> list:
    """One row of the overdue or expiring list as CSV values (dates ISO 8601)."""
    expires = from_day_number(row.expires_day).isoformat() if row.expires_day is not None else ""
    return [
        row.name,
        row.email,
        row.partner_name,
        row.team_name or "",
        row.course_title,
        from_day_number(row.due_day).isoformat(),
        expires,
    ]


def utc_text(value) -> str:
    """A timestamp for a CSV cell: ISO 8601 in UTC, or empty."""
    return value.astimezone(UTC).isoformat(timespec="seconds") if value is not None else ""


# --- CSV ------------------------------------------------------------------------------------


def csv_lines(header, stmt: Select, cells):
    """A report as CSV text, a line at a time, reading rows from the database in batches.

    ``cells`` turns one row into its values; every value is guarded against spreadsheets
    running it as a formula.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush():
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(header)
    yield flush()
    result = db.session.execute(stmt.execution_options(yield_per=CSV_BATCH))
    for rows in result.partitions():
        writer.writerows([safe_cell(value) for value in cells(row)] for row in rows)
        yield flush()

"""The trainer's board: who is on which path, how far, and who is behind, as set-based SQL.

Everything starts from :func:`portal.onboarding.progress.enrolment_rows` (one row per
enrolment with its counts) joined to the person, their team and partner, narrowed to the
viewer's scope: a trainer sees their own partner's people, PRMs and admins every partner.
Filtering, ordering and paging happen in the database, so the board costs the same few
statements for 20 people as for 2,000. Deactivated people and people of deactivated partners
are not on the board.
"""

import functools
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, and_, case, false, func, or_, select

from portal.access.bound import PERSON_ID, TODAY_DAY, day_values
from portal.access.permissions import Permission
from portal.access.roles import Role
from portal.extensions import db
from portal.onboarding.models import PATH_DAYS, Enrolment, OnboardingPath, PathStatus, PathStep
from portal.onboarding.progress import enrolment_rows, step_rows
from portal.partners.models import Partner, Team
from portal.people.models import User

# Who sees the board and people's paths (trainers: their own partner's people).
VIEW_ONBOARDING = Permission("view_onboarding", Role.ADMIN, Role.PRM, Role.TRAINER)

STATUS_LABELS = {
    "at_risk": "At risk",
    "on_track": "On track",
    "ready": "Production-ready",
}


@dataclass(frozen=True)
class BoardFilters:
    """What the board is narrowed to; None means any."""

    partner_id: int | None = None
    team_id: int | None = None
    path_id: int | None = None
    status: str | None = None

    def args(self) -> dict:
        """The filters as URL arguments, for links that keep them."""
        values = {
            "partner": self.partner_id,
            "team": self.team_id,
            "path": self.path_id,
            "status": self.status,
        }
        return {name: value for name, value in values.items() if value is not None}


def scoped_people(viewer) -> Select:
    """SQL select of the ids of the active people whose paths ``viewer`` follows."""
    stmt = (
        select(User.id)
        .join(Partner, Partner.id == User.partner_id)
        .where(User.active, Partner.active)
    )
    if not VIEW_ONBOARDING(viewer):
        return stmt.where(false())
    if viewer.is_staff:
        return stmt
    return stmt.where(User.partner_id == viewer.partner_id)


def visible_enrolments(viewer) -> Select:
    """SQL select of the enrolments ``viewer`` may open on a person's path page."""
    return select(Enrolment).where(Enrolment.user_id.in_(scoped_people(viewer)))


def paths_for(viewer, partner_id: int | None = None) -> Select:
    """SQL select of the published or archived paths ``viewer`` may filter by or enrol on.

    Company-wide paths and, for a trainer, their own partner's local paths (staff: every
    partner's, or ``partner_id``'s when given).
    """
    stmt = select(OnboardingPath).where(OnboardingPath.status != PathStatus.DRAFT.value)
    if not VIEW_ONBOARDING(viewer):
        return stmt.where(false())
    own = partner_id if viewer.is_staff else viewer.partner_id
    if own is not None or not viewer.is_staff:
        stmt = stmt.where(
            or_(OnboardingPath.partner_id.is_(None), OnboardingPath.partner_id == own)
        )
    return stmt.order_by(OnboardingPath.title, OnboardingPath.id)


def status_of(overdue, ready_at) -> str:
    """The board's status: production-ready, at risk (overdue steps) or on track."""
    if ready_at is not None:
        return "ready"
    return "at_risk" if overdue else "on_track"


def board_rows(viewer, today: date, filters: BoardFilters = BoardFilters()) -> Select:
    """SQL select: one row per enrolment on the board, the most urgent first.

    Columns: enrolment_id, start_date, path_id, path_title, user_id, name, email,
    partner_id, partner_name, team_id, team_name, steps, done, overdue, ready_at.
    """
    people = scoped_people(viewer)
    if filters.partner_id is not None:
        people = people.where(User.partner_id == filters.partner_id)
    if filters.team_id is not None:
        people = people.where(User.team_id == filters.team_id)
    where = [Enrolment.user_id.in_(people)]
    if filters.path_id is not None:
        where.append(Enrolment.path_id == filters.path_id)
    summary = enrolment_rows(today=today, where=where).subquery("summary")
    steps = func.coalesce(summary.c.steps, 0)
    overdue = func.coalesce(summary.c.overdue, 0)
    stmt = (
        select(
            Enrolment.id.label("enrolment_id"),
            Enrolment.start_date,
            OnboardingPath.id.label("path_id"),
            OnboardingPath.title.label("path_title"),
            User.id.label("user_id"),
            User.name,
            User.email,
            Partner.id.label("partner_id"),
            Partner.name.label("partner_name"),
            Team.id.label("team_id"),
            Team.name.label("team_name"),
            steps.label("steps"),
            func.coalesce(summary.c.done, 0).label("done"),
            overdue.label("overdue"),
            summary.c.ready_at,
        )
        .select_from(Enrolment)
        .join(User, User.id == Enrolment.user_id)
        .join(Partner, Partner.id == User.partner_id)
        .outerjoin(Team, Team.id == User.team_id)
        .join(OnboardingPath, OnboardingPath.id == Enrolment.path_id)
        .outerjoin(summary, summary.c.enrolment_id == Enrolment.id)
        .where(*where)
    )
    ready = summary.c.ready_at.is_not(None)
    if filters.status == "ready":
        stmt = stmt.where(ready)
    elif filters.status == "at_risk":
        stmt = stmt.where(~ready, overdue > 0)
    elif filters.status == "on_track":
        stmt = stmt.where(~ready, overdue == 0)
    return stmt.order_by(
        case((ready, 1), else_=0),
        overdue.desc(),
        Enrolment.start_date,
        User.name,
        Enrolment.id,
    )


@dataclass
class BoardEntry:
    """One board row with what the page shows about it."""

    row: object
    today: date

    def __getattr__(self, name):
        return getattr(self.row, name)

    @property
    def day(self) -> int:
        return (self.today - self.row.start_date).days + 1

    @property
    def percent(self) -> int:
        return round(100 * self.row.done / self.row.steps) if self.row.steps else 0

    @property
    def status(self) -> str:
        return status_of(self.row.overdue, self.row.ready_at)


def status_totals(viewer, today: date, filters: BoardFilters) -> dict[str, int]:
    """How many on the board are at risk, on track and production-ready (one statement;
    ignores the status filter so the figures add up to everyone the other filters keep)."""
    everyone = board_rows(viewer, today, BoardFilters(**{**filters.__dict__, "status": None}))
    sub = everyone.order_by(None).subquery()
    ready = sub.c.ready_at.is_not(None)
    row = db.session.execute(
        select(
            func.count().filter(ready).label("ready"),
            func.count().filter(and_(~ready, sub.c.overdue > 0)).label("at_risk"),
            func.count().filter(and_(~ready, sub.c.overdue == 0)).label("on_track"),
        )
    ).one()
    return {"at_risk": row.at_risk, "on_track": row.on_track, "ready": row.ready}


# --- the home page's card -------------------------------------------------------------------


@dataclass
class HomeCard:
    """One path on the home page: "Day 23 of 90 on Agent 90-day path — next: …"."""

    enrolment_id: int
    path_title: str
    day: int
    days_total: int
    percent: int
    overdue: int
    ready_at: datetime | None
    next_title: str | None
    next_due_day: int | None


@functools.cache
def _home_paths():
    """One person's enrolments with their progress (``PERSON_ID`` and ``TODAY_DAY`` bound)."""
    summary = enrolment_rows(today=TODAY_DAY, where=[Enrolment.user_id == PERSON_ID]).subquery()
    return (
        select(
            Enrolment.id,
            Enrolment.start_date,
            OnboardingPath.title,
            func.coalesce(summary.c.steps, 0).label("steps"),
            func.coalesce(summary.c.done, 0).label("done"),
            func.coalesce(summary.c.overdue, 0).label("overdue"),
            summary.c.ready_at,
        )
        .join(OnboardingPath, OnboardingPath.id == Enrolment.path_id)
        .outerjoin(summary, summary.c.enrolment_id == Enrolment.id)
        .where(Enrolment.user_id == PERSON_ID)
        .order_by(Enrolment.start_date, Enrolment.id)
    )


@functools.cache
def _home_next_steps():
    """The first step still to do on each of one person's paths (``PERSON_ID`` bound)."""
    pending = step_rows(where=[Enrolment.user_id == PERSON_ID]).subquery()
    first = func.row_number().over(
        partition_by=pending.c.enrolment_id,
        order_by=(pending.c.due_day_number, PathStep.due_day, PathStep.position),
    )
    ranked = (
        select(pending.c.enrolment_id, PathStep.title, PathStep.due_day, first.label("rank"))
        .join(PathStep, PathStep.id == pending.c.step_id)
        .where(pending.c.done_at.is_(None))
        .subquery()
    )
    return select(ranked.c.enrolment_id, ranked.c.title, ranked.c.due_day).where(ranked.c.rank == 1)


def home_summary(person, today: date) -> list[HomeCard]:
    """The card(s) the home page shows ``person``: one per path they are on (two statements,
    each built once per process).

    Empty for someone on no path, and for paths whose 90 days are over and that are done.
    """
    if person is None or getattr(person, "is_staff", True):
        return []
    values = day_values(person.id, today)
    rows = db.session.execute(_home_paths(), values).all()
    if not rows:
        return []
    upcoming = {r.enrolment_id: r for r in db.session.execute(_home_next_steps(), values)}
    cards = []
    for row in rows:
        day = (today - row.start_date).days + 1
        if day > PATH_DAYS and row.ready_at is not None:
            continue
        following = upcoming.get(row.id)
        cards.append(
            HomeCard(
                enrolment_id=row.id,
                path_title=row.title,
                day=day,
                days_total=PATH_DAYS,
                percent=round(100 * row.done / row.steps) if row.steps else 0,
                overdue=row.overdue,
                ready_at=row.ready_at,
                next_title=following.title if following else None,
                next_due_day=following.due_day if following else None,
            )
        )
    return cards

"""The quarterly business review of one partner: the figures behind each section, in SQL.

Every figure is counted by the database with set-based statements (GROUP BY, CASE), never by
looping over people in Python, so the page costs the same number of statements for 50 people
as for 50,000. Days are UTC dates as day numbers (see ``portal.reminders.localdays``); weeks
start on Monday, the first one being the week the period starts in.

Sections: what people did and what went overdue each week (:func:`weekly_done`,
:func:`weekly_overdue`), how long people took to acknowledge material changes
(``review_lag``), announcement read rates (:func:`announcement_reads`) and the
items most often late (:func:`most_late`). Onboarding cohorts come from
``portal.onboarding.cohorts``.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import String, and_, func, literal, or_, select, union_all

from portal.announcements.models import (
    Announcement,
    AnnouncementAck,
    AnnouncementRead,
    AnnouncementStatus,
)
from portal.audiences.services import AUDIENCE_ROLES, audience_includes
from portal.compliance.obligations import KIND_LABELS, obligations
from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.library.models import Acknowledgement
from portal.people.models import User
from portal.reminders.localdays import day_number
from portal.training.models import Completion
from portal.training.requirements import day_of

MAX_DAYS = 366  # a year at most: weeks on one page, and a business review's longest period
EARLIEST = date(2000, 1, 1)
TOP_LATE = 10


# --- the period -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """The days a review covers, both ends included."""

    start: date
    end: date

    @property
    def first_monday(self) -> date:
        return self.start - timedelta(days=self.start.weekday())

    def weeks(self) -> list[date]:
        """The Monday of every week the period touches, in order."""
        count = (self.end - self.first_monday).days // 7 + 1
        return [self.first_monday + timedelta(weeks=n) for n in range(count)]

    def args(self) -> dict:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}

    def contains(self, column):
        """SQL: the UTC timestamp ``column`` falls on a day of the period (a plain range on
        the column, so an index on it serves)."""
        first = datetime.combine(self.start, time(), tzinfo=UTC)
        after = datetime.combine(self.end + timedelta(days=1), time(), tzinfo=UTC)
        return and_(column >= first, column < after)

    def week_of(self, day_column):
        """SQL: the index in :meth:`weeks` of the day number ``day_column``."""
        return (day_column - day_number(self.first_monday)) // 7


def last_full_quarter(today: date) -> Period:
    """The calendar quarter before the one ``today`` is in."""
    this_quarter = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    end = this_quarter - timedelta(days=1)
    return Period(date(end.year, end.month - 2, 1), end)


def _parse_day(text: str, label: str, errors: dict, key: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        errors[key] = f"Give the “{label}” date as year-month-day, e.g. 2026-03-31."
        return None


def parse_period(from_text: str | None, to_text: str | None, today: date) -> Period:
    """The period asked for; InvalidInput naming the field for a bad one.

    Both empty means the last full quarter. Refused: one end missing, unreadable dates, a
    start after the end, a start in the future or before 2000, or more than a year.
    """
    from_text, to_text = (from_text or "").strip(), (to_text or "").strip()
    if not from_text and not to_text:
        return last_full_quarter(today)
    errors = {}
    if not from_text or not to_text:
        missing = "from" if not from_text else "to"
        raise InvalidInput({missing: "Give both the “from” and the “to” date, or neither."})
    start = _parse_day(from_text, "from", errors, "from")
    end = _parse_day(to_text, "to", errors, "to")
    if errors:
        raise InvalidInput(errors)
    if start > end:
        raise InvalidInput(
            {"from": f"The period starts after it ends ({start:%d %b %Y} is after {end:%d %b %Y})."}
        )
    if start > today:
        raise InvalidInput({"from": f"The period starts in the future ({start:%d %b %Y})."})
    if start < EARLIEST:
        raise InvalidInput({"from": f"Choose a period from {EARLIEST.year} on."})
    if (end - start).days + 1 > MAX_DAYS:
        raise InvalidInput({"from": f"Choose at most {MAX_DAYS} days (a year) at a time."})
    return Period(start, end)


def partner_people(partner_ids):
    """Conditions on User: the active agents and trainers of these partners."""
    return (User.active, User.role.in_(AUDIENCE_ROLES), User.partner_id.in_(list(partner_ids)))


# --- 1. completion and overdue trend ----------------------------------------------------------


@dataclass
class WeekCounts:
    acknowledgements: int = 0
    completions: int = 0
    overdue: int = 0

    @property
    def done(self) -> int:
        return self.acknowledgements + self.completions


def weekly_done(period: Period, partner_ids) -> dict[int, list[WeekCounts]]:
    """partner id -> a WeekCounts per week: acknowledgements and course completions made by the
    partner's active people in each week (one grouped statement for all partners)."""
    acks = (
        select(
            User.partner_id,
            day_of(Acknowledgement.acknowledged_at).label("day"),
            literal("ack", String).label("what"),
        )
        .select_from(Acknowledgement)
        .join(User, User.id == Acknowledgement.user_id)
        .where(*partner_people(partner_ids), period.contains(Acknowledgement.acknowledged_at))
    )
    completions = (
        select(
            User.partner_id,
            day_of(Completion.completed_at).label("day"),
            literal("course", String).label("what"),
        )
        .select_from(Completion)
        .join(User, User.id == Completion.user_id)
        .where(*partner_people(partner_ids), period.contains(Completion.completed_at))
    )
    done = union_all(acks, completions).subquery("done")
    week = period.week_of(done.c.day).label("week")
    rows = db.session.execute(
        select(done.c.partner_id, week, done.c.what, func.count().label("count")).group_by(
            done.c.partner_id, week, done.c.what
        )
    ).all()
    weeks = len(period.weeks())
    found = {partner_id: [WeekCounts() for _ in range(weeks)] for partner_id in partner_ids}
    for partner_id, index, what, count in rows:
        counts = found[partner_id][int(index)]
        if what == "ack":
            counts.acknowledgements = count
        else:
            counts.completions = count
    return found


def _late(rows, today: date):
    """SQL: the obligation row went overdue: due before today and not done by its due day."""
    return and_(
        rows.c.due_day < day_number(today),
        or_(rows.c.done_at.is_(None), day_of(rows.c.done_at) > rows.c.due_day),
    )


def weekly_overdue(period: Period, partner_id: int, today: date) -> list[int]:
    """How many required items went overdue each week: due that week, not done by the due day
    (one grouped statement over ``portal.compliance.obligations``)."""
    rows = obligations(today=today, partner_ids=[partner_id]).subquery("obligations")
    week = period.week_of(rows.c.due_day).label("week")
    counted = db.session.execute(
        select(week, func.count())
        .where(
            rows.c.due_day >= day_number(period.start),
            rows.c.due_day <= day_number(period.end),
            _late(rows, today),
        )
        .group_by(week)
    ).all()
    found = [0] * len(period.weeks())
    for index, count in counted:
        found[int(index)] = count
    return found


# --- 4. announcement read rates ----------------------------------------------------------------


@dataclass
class AnnouncementReads:
    id: int
    title: str
    publish_at: object
    requires_ack: bool
    sent: int
    opened: int
    acknowledged: int

    @property
    def read_rate(self) -> int:
        return round(100 * self.opened / self.sent) if self.sent else 0

    @property
    def ack_rate(self) -> int | None:
        if not self.requires_ack:
            return None
        return round(100 * self.acknowledged / self.sent) if self.sent else 0


def announcement_reads(period: Period, partner_id: int) -> list[AnnouncementReads]:
    """Announcements published in the period to the partner's people: how many of its active
    people each was sent to, opened it and acknowledged it (one grouped statement)."""
    addressed = and_(
        or_(Announcement.partner_id.is_(None), Announcement.partner_id == User.partner_id),
        audience_includes(
            Announcement.audience_id, User.partner_id, User.team_id, User.role, User.language
        ),
    )
    rows = db.session.execute(
        select(
            Announcement.id,
            Announcement.title,
            Announcement.publish_at,
            Announcement.requires_ack,
            func.count(User.id),
            func.count(AnnouncementRead.id),
            func.count(AnnouncementAck.id),
        )
        .select_from(Announcement)
        .join(User, addressed)
        .outerjoin(
            AnnouncementRead,
            and_(
                AnnouncementRead.announcement_id == Announcement.id,
                AnnouncementRead.user_id == User.id,
            ),
        )
        .outerjoin(
            AnnouncementAck,
            and_(
                AnnouncementAck.announcement_id == Announcement.id,
                AnnouncementAck.user_id == User.id,
            ),
        )
        .where(
            Announcement.status.in_(
                [AnnouncementStatus.PUBLISHED.value, AnnouncementStatus.WITHDRAWN.value]
            ),
            period.contains(Announcement.publish_at),
            *partner_people([partner_id]),
        )
        .group_by(
            Announcement.id, Announcement.title, Announcement.publish_at, Announcement.requires_ack
        )
        .order_by(Announcement.publish_at, Announcement.id)
    ).all()
    return [AnnouncementReads(*row) for row in rows]


@dataclass
class ReadTotals:
    sent: int = 0
    opened: int = 0
    acknowledged: int = 0
    asked_to_acknowledge: int = 0  # sent, of the announcements asking for acknowledgement

    @property
    def read_rate(self) -> int:
        return round(100 * self.opened / self.sent) if self.sent else 0

    @property
    def ack_rate(self) -> int | None:
        if not self.asked_to_acknowledge:
            return None
        return round(100 * self.acknowledged / self.asked_to_acknowledge)


def read_totals(rows: list[AnnouncementReads]) -> ReadTotals:
    """The sums of :func:`announcement_reads` rows (already fetched: no statement)."""
    totals = ReadTotals()
    for row in rows:
        totals.sent += row.sent
        totals.opened += row.opened
        if row.requires_ack:
            totals.acknowledged += row.acknowledged
            totals.asked_to_acknowledge += row.sent
    return totals


# --- 5. the items most often late --------------------------------------------------------------


@dataclass
class LateItem:
    kind: str
    item_id: int
    title: str
    people: int

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


def most_late(period: Period, partner_id: int, today: date, limit: int = TOP_LATE) -> list:
    """The items due in the period that most of the partner's people did not do by their due
    day, most people first (one grouped statement)."""
    rows = obligations(today=today, partner_ids=[partner_id]).subquery("obligations")
    people = func.count(func.distinct(rows.c.user_id)).label("people")
    found = db.session.execute(
        select(rows.c.kind, rows.c.item_id, rows.c.title, people)
        .where(
            rows.c.due_day >= day_number(period.start),
            rows.c.due_day <= day_number(period.end),
            _late(rows, today),
        )
        .group_by(rows.c.kind, rows.c.item_id, rows.c.title)
        .order_by(people.desc(), rows.c.title, rows.c.kind, rows.c.item_id)
        .limit(limit)
    ).all()
    return [LateItem(*row) for row in found]

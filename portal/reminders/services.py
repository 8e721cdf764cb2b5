"""What is due, for whom, and which reminder stage falls on today, in one SQL query.

Every *source* of due items (acknowledgements, required courses; onboarding steps later) is a
select of the same columns ``(user_id, source, item_id, title, due_day)``; they are UNION-ed and
filtered by the cadence in SQL, so finding who to remind never loops over people in Python.

Dates are each person's local dates. ``due_day`` and "today" are day numbers computed in SQL by
``local_day(timestamp, person's time zone)`` (see ``localdays``: PostgreSQL converts with its
own zone rules, SQLite with a registered Python function), so one query serves every zone and a
person in Manila and one in Costa Rica each get their reminder on their own calendar day.
"""

from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from sqlalchemy import String, and_, case, exists, func, literal, or_, select, union_all
from sqlalchemy.orm import aliased

from portal.audiences.services import AUDIENCE_ROLES, audience_includes
from portal.core.clock import UTCDateTime, utcnow, zone
from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.library.models import Acknowledgement, Document, DocumentStatus, DocumentVersion
from portal.partners.models import Partner
from portal.people.models import User
from portal.reminders.localdays import (
    day_number,
    from_day_number,
    local_day,
    prepare,
    zone_expression,
)
from portal.reminders.models import ItemSource
from portal.training.models import Course, Requirement, RequirementKind
from portal.training.requirements import assignments


@dataclass(frozen=True)
class Cadence:
    """When reminders go out: ``before`` days before the due date, then every few days late."""

    before: tuple[int, ...]  # 0 means on the due date
    overdue_every: int

    @classmethod
    def from_config(cls, config) -> "Cadence":
        """The cadence in REMINDER_CADENCE and REMINDER_OVERDUE_EVERY_DAYS; InvalidInput if bad."""
        raw = str(config.get("REMINDER_CADENCE", "7,1,0"))
        try:
            before = tuple(sorted({int(part) for part in raw.split(",") if part.strip()}))
        except ValueError:
            before = None
        if before is None or any(days < 0 for days in before):
            raise InvalidInput(
                f"The setting REMINDER_CADENCE “{raw}” is not a list of days before the due "
                "date, e.g. 7,1,0 (0 is the due date itself)."
            )
        every = config.get("REMINDER_OVERDUE_EVERY_DAYS", 3)
        if not isinstance(every, int) or every < 1:
            raise InvalidInput(
                f"The setting REMINDER_OVERDUE_EVERY_DAYS “{every}” must be a whole number of "
                "days, 1 or more."
            )
        return cls(before=before, overdue_every=every)

    def stage(self, days_left: int) -> str | None:
        """The stage name for an item due in ``days_left`` days (negative: overdue), or None."""
        if days_left < 0:
            return f"overdue-{-days_left}" if -days_left % self.overdue_every == 0 else None
        if days_left not in self.before:
            return None
        return "due" if days_left == 0 else f"before-{days_left}"

    def falls_today(self, days_left):
        """SQL: a stage falls on today for an item due in ``days_left`` days (an expression)."""
        return or_(
            days_left.in_(self.before),
            and_(days_left < 0, (-days_left) % self.overdue_every == 0),
        )


def cadence() -> Cadence:
    """The configured cadence of the current app."""
    return Cadence.from_config(current_app.config)


def acknowledgement_items(tz, partner_ids=None):
    """SQL select of every pending acknowledgement with its due day, for everyone at once.

    A published document asking for acknowledgement, addressed to the person, without a current
    acknowledgement (see ``acknowledgements.services.pending_for``) is due ACKNOWLEDGE_WITHIN_DAYS
    after the later of its latest material version's publication and the person's joining, so
    someone who joins later gets a deadline of their own, never one already passed. A minor
    version keeps the date; a material one starts a new one. ``tz`` is the zone expression;
    ``partner_ids`` limits it to those partners' people.
    """
    material = aliased(DocumentVersion)
    joined = func.coalesce(User.created_at, material.published_at)
    since = case((material.published_at > joined, material.published_at), else_=joined)
    within = current_app.config["ACKNOWLEDGE_WITHIN_DAYS"]
    current_ack = exists().where(
        Acknowledgement.user_id == User.id,
        Acknowledgement.document_id == Document.id,
        Acknowledgement.version_number >= Document.ack_from_number,
    )
    stmt = (
        select(
            User.id.label("user_id"),
            literal(ItemSource.DOCUMENT.value, String).label("source"),
            Document.id.label("item_id"),
            Document.title.label("title"),
            (local_day(since, tz) + within).label("due_day"),
        )
        .select_from(User)
        .join(
            Document,
            and_(
                Document.status == DocumentStatus.PUBLISHED,
                Document.requires_ack,
                or_(Document.partner_id.is_(None), Document.partner_id == User.partner_id),
                audience_includes(
                    Document.audience_id, User.partner_id, User.team_id, User.role, User.language
                ),
            ),
        )
        .join(
            material,
            and_(material.document_id == Document.id, material.number == Document.ack_from_number),
        )
        .where(User.role.in_(AUDIENCE_ROLES), ~current_ack)
    )
    return stmt if partner_ids is None else stmt.where(User.partner_id.in_(partner_ids))


def _requirement_rows(kind: RequirementKind, today: date, partner_ids):
    """The active requirements of ``kind`` not yet met, per person and target: the earliest
    due day. A course's recertification is due on the day its completion expires."""
    rows = assignments(today=today).subquery("assigned")
    target = Requirement.course_id if kind == RequirementKind.COURSE else Requirement.document_id
    stmt = (
        select(
            rows.c.user_id,
            target.label("item_id"),
            func.min(rows.c.due_day).label("due_day"),
        )
        .join(Requirement, Requirement.id == rows.c.requirement_id)
        .where(Requirement.kind == kind.value, rows.c.status != "completed")
        .group_by(rows.c.user_id, target)
    )
    if partner_ids is not None:
        people = select(User.id).where(User.partner_id.in_(partner_ids))
        stmt = stmt.where(rows.c.user_id.in_(people))
    return stmt


def course_items(today: date, partner_ids=None):
    """SQL select of every required course not (validly) completed, with its due day."""
    required = _requirement_rows(RequirementKind.COURSE, today, partner_ids).subquery("courses")
    return select(
        required.c.user_id,
        literal(ItemSource.COURSE.value, String).label("source"),
        required.c.item_id,
        Course.title.label("title"),
        required.c.due_day,
    ).join(Course, Course.id == required.c.item_id)


def pending_items(tz, partner_ids=None, *, today: date):
    """SQL: every source's pending items, ``(user_id, source, item_id, title, due_day)``.

    Acknowledgements are due ACKNOWLEDGE_WITHIN_DAYS after they were asked, unless a training
    requirement of the document gives the person a due date of its own; required courses are
    due by their requirement's rule. Each source takes the zone expression, the optional
    partner filter and the date that decides whether a completion is still valid. Onboarding
    steps join here with ``union_all`` as they arrive.
    """
    asked = acknowledgement_items(tz, partner_ids).subquery("asked")
    required = _requirement_rows(RequirementKind.DOCUMENT, today, partner_ids).subquery("docs")
    documents = select(
        asked.c.user_id,
        asked.c.source,
        asked.c.item_id,
        asked.c.title,
        func.coalesce(required.c.due_day, asked.c.due_day).label("due_day"),
    ).outerjoin(
        required,
        and_(required.c.user_id == asked.c.user_id, required.c.item_id == asked.c.item_id),
    )
    return union_all(documents, course_items(today, partner_ids)).subquery("pending")


def _today_day(today: date | None, now: datetime | None, tz):
    if today is not None:
        return literal(day_number(today))
    return local_day(literal(now or utcnow(), UTCDateTime), tz)


def _items_of_reachable_people(today: date | None, now: datetime | None, partner_ids=None):
    """The pending items of active people of active partners, with their local today."""
    prepare(db.session)
    tz = zone_expression(User.timezone)
    items = pending_items(tz, partner_ids, today=today or (now or utcnow()).date())
    today_day = _today_day(today, now, tz).label("today_day")
    stmt = (
        select(
            items.c.user_id,
            items.c.source,
            items.c.item_id,
            items.c.title,
            items.c.due_day,
            today_day,
        )
        .join(User, User.id == items.c.user_id)
        .join(Partner, Partner.id == User.partner_id)
        .where(User.active, Partner.active)
    )
    return stmt, items.c.due_day - today_day


def due_items(today: date | None = None, *, now: datetime | None = None):
    """SQL select of the items whose reminder stage falls on today, ordered by person.

    Columns: user_id, source, item_id, title, due_day, today_day (day numbers, see
    ``localdays``). ``today`` pins everyone's local date (``--today``); otherwise each person's
    own date at ``now`` (default: the current time) in their time zone is used.
    Costs one small query (the time zones in use) besides the select itself.
    """
    stmt, days_left = _items_of_reachable_people(today, now)
    return stmt.where(cadence().falls_today(days_left)).order_by(
        stmt.selected_columns.user_id, days_left, stmt.selected_columns.item_id
    )


def overdue_items(today: date | None = None, *, now: datetime | None = None, partner_ids=None):
    """SQL select of every overdue item of active partner people, with their partner and name.

    Columns: user_id, source, item_id, title, due_day, today_day, partner_id, name.
    ``partner_ids`` limits it to those partners.
    """
    stmt, days_left = _items_of_reachable_people(today, now, partner_ids)
    return (
        stmt.add_columns(User.partner_id, User.name)
        .where(days_left < 0)
        .order_by(User.partner_id, User.name, User.id, stmt.selected_columns.due_day)
    )


@dataclass(frozen=True)
class DueItem:
    """One item due for one person, as a reminder shows it."""

    user_id: int
    source: str
    item_id: int
    title: str
    due_on: date
    days_left: int  # negative when overdue
    local_today: date

    @property
    def overdue(self) -> bool:
        return self.days_left < 0

    @property
    def key(self) -> tuple[int, str, int]:
        return (self.user_id, self.source, self.item_id)


def _due_item(row) -> DueItem:
    return DueItem(
        user_id=row.user_id,
        source=row.source,
        item_id=row.item_id,
        title=row.title,
        due_on=from_day_number(row.due_day),
        days_left=row.due_day - row.today_day,
        local_today=from_day_number(row.today_day),
    )


def reminders_due(today: date | None = None, *, now: datetime | None = None) -> list[DueItem]:
    """Every item whose reminder stage falls on today, by person (two queries in all)."""
    return [_due_item(row) for row in db.session.execute(due_items(today, now=now))]


def overdue_by_partner(today: date | None = None, *, now: datetime | None = None, partner_ids=None):
    """partner id -> [(person id, name, [DueItem, ...]), ...] of everyone overdue (two queries)."""
    partners: dict[int, list] = {}
    stmt = overdue_items(today, now=now, partner_ids=partner_ids)
    for row in db.session.execute(stmt):
        people = partners.setdefault(row.partner_id, [])
        if not people or people[-1][0] != row.user_id:
            people.append((row.user_id, row.name, []))
        people[-1][2].append(_due_item(row))
    return partners


def local_date(tz_name: str | None, today: date | None, now: datetime | None) -> date:
    """A person's date: ``today`` when pinned, else ``now`` in their time zone."""
    if today is not None:
        return today
    return (now or utcnow()).astimezone(zone(tz_name)).date()

"""The compliance dashboard: required items × partners (or teams), as set-based SQL.

Everything stands on :func:`portal.compliance.obligations.obligations` (one select of every
person × required item), narrowed to the viewer's scope (staff: every partner, a trainer: their
own partner's people) and to the filters. The page's table is one grouped statement: the cells
of the page's items, with the number of items and the page actually shown (a page past the
end shows the last one) computed alongside by window functions. The drill-down is one select of
people, paged and counted in SQL. So a page costs the same few statements for 20 people as for
50,000, and nothing loops over people in Python.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, and_, case, func, literal, select, type_coerce

from portal.access.permissions import Permission
from portal.access.roles import Role
from portal.announcements.models import Announcement
from portal.compliance.obligations import KINDS, obligations
from portal.core.clock import UTCDateTime
from portal.extensions import db
from portal.library.models import Document
from portal.onboarding.models import OnboardingPath
from portal.partners.models import Partner, Team
from portal.people.models import User
from portal.reminders.localdays import day_number
from portal.training.models import Course

# Who sees compliance reports and exports (trainers: their own partner's people).
VIEW_COMPLIANCE = Permission("view_compliance", Role.ADMIN, Role.PRM, Role.TRAINER)

ITEMS_PER_PAGE = 25
PEOPLE_PER_PAGE = 50
MAX_PAGE = 10**7  # larger page numbers read as this one (then the last page)
COMPLETE = ("done", "expiring")  # a completion expiring soon is still valid

# Which items the dashboard keeps, by the people they have.
ITEM_STATUSES = {
    "overdue": "Someone overdue",
    "pending": "Someone pending",
    "expiring": "Someone expiring soon",
    "incomplete": "Not everyone complete",
    "complete": "Everyone complete",
}
# Which people the drill-down keeps.
PERSON_STATUSES = {
    "overdue": "Overdue",
    "pending": "Pending",
    "expiring": "Expiring soon",
    "done": "Done",
    "incomplete": "Overdue or pending",
    "complete": "Done or expiring soon",
}
STATUS_LABELS = {
    "overdue": "Overdue",
    "pending": "Pending",
    "expiring": "Expiring soon",
    "done": "Done",
}
SORTS = {
    "due": "Due date, earliest first",
    "-due": "Due date, latest first",
    "name": "Name",
    "status": "Status, most urgent first",
}
# Cell colours: the level's name and the legend's words.
LEVELS = {
    "complete": "95% or more complete, nobody overdue",
    "progress": "Under 95% complete, nobody overdue",
    "behind": "Someone overdue",
    "late": "20% or more overdue",
    "empty": "Applies to nobody",
}


@dataclass(frozen=True)
class Filters:
    """What the dashboard and the drill-down are narrowed to; None means any.

    ``no_team`` keeps the people of no team (``team_id`` is then None). ``status`` means
    :data:`ITEM_STATUSES` on the dashboard and :data:`PERSON_STATUSES` on the drill-down.
    """

    partner_id: int | None = None
    team_id: int | None = None
    no_team: bool = False
    kind: str | None = None
    item_id: int | None = None
    status: str | None = None
    due_within: int | None = None
    due_from: date | None = None
    due_to: date | None = None

    def args(self, **changes) -> dict:
        """The filters as URL arguments (for links that keep them), with ``changes``."""
        values = {
            "partner": self.partner_id,
            "team": "none" if self.no_team else self.team_id,
            "kind": self.kind,
            "item": self.item_id,
            "status": self.status,
            "due_within": self.due_within,
            "due_from": self.due_from.isoformat() if self.due_from else None,
            "due_to": self.due_to.isoformat() if self.due_to else None,
        } | changes
        return {name: value for name, value in values.items() if value not in (None, "")}

    @property
    def narrows(self) -> bool:
        return bool(self.args())


@dataclass
class Cell:
    """One item's people in one column (a partner or a team)."""

    people: int = 0
    complete: int = 0
    overdue: int = 0
    pending: int = 0
    expiring: int = 0

    @property
    def percent(self) -> int:
        return int(100 * self.complete / self.people) if self.people else 0

    @property
    def level(self) -> str:
        return cell_level(self.people, self.complete, self.overdue)

    def add(self, other: "Cell") -> None:
        self.people += other.people
        self.complete += other.complete
        self.overdue += other.overdue
        self.pending += other.pending
        self.expiring += other.expiring


def cell_level(people: int, complete: int, overdue: int) -> str:
    """A cell's colour (a key of :data:`LEVELS`) from its counts."""
    if not people:
        return "empty"
    if overdue * 5 >= people:  # 20% or more
        return "late"
    if overdue:
        return "behind"
    return "complete" if complete * 100 >= people * 95 else "progress"


@dataclass
class ItemRow:
    """One required item of the dashboard: its cells by column id, and the total."""

    kind: str
    item_id: int
    title: str
    cells: dict = field(default_factory=dict)
    total: Cell = field(default_factory=Cell)


@dataclass
class Table:
    """The page's items (in order), how many items there are in all, and the page shown."""

    items: list[ItemRow]
    total: int
    page: int


def by_team(viewer, filters: Filters) -> bool:
    """Whether the columns are teams (one partner's) rather than partners."""
    return not viewer.is_staff or filters.partner_id is not None


def scope_partner_ids(viewer, filters: Filters) -> list[int] | None:
    """The partners whose people count: a trainer's own; staff any, or the partner filter."""
    if not viewer.is_staff:
        return [viewer.partner_id]
    return None if filters.partner_id is None else [filters.partner_id]


def _source(viewer, today: date, filters: Filters):
    """(obligations subquery, its conditions) for the viewer's scope and the filters."""
    kinds = [filters.kind] if filters.kind else None
    sub = obligations(
        today=today,
        partner_ids=scope_partner_ids(viewer, filters),
        kinds=kinds,
        # Filtered at each source's root: a course's requirements alone, not everyone's.
        item_ids=[filters.item_id] if filters.item_id is not None and kinds else None,
    ).subquery("obligation")
    conditions = []
    if filters.no_team:
        conditions.append(sub.c.team_id.is_(None))
    elif filters.team_id is not None:
        conditions.append(sub.c.team_id == filters.team_id)
    if filters.item_id is not None:
        conditions.append(sub.c.item_id == filters.item_id)
    if filters.due_within is not None:
        conditions.append(
            sub.c.due_day.between(day_number(today), day_number(today) + filters.due_within)
        )
    if filters.due_from is not None:
        conditions.append(sub.c.due_day >= day_number(filters.due_from))
    if filters.due_to is not None:
        conditions.append(sub.c.due_day <= day_number(filters.due_to))
    return sub, conditions


def _count(condition, name: str):
    return func.count().filter(condition).label(name)


def _cells(viewer, today: date, filters: Filters):
    """Subquery: one row per (item, column) with its counts, titles and the item's order."""
    sub, conditions = _source(viewer, today, filters)
    column = sub.c.team_id if by_team(viewer, filters) else sub.c.partner_id
    status = sub.c.status
    grouped = (
        select(
            sub.c.kind,
            sub.c.item_id,
            column.label("column_id"),
            func.count().label("people"),
            _count(status.in_(COMPLETE), "complete"),
            _count(status == "overdue", "overdue"),
            _count(status == "pending", "pending"),
            _count(status == "expiring", "expiring"),
        )
        .where(*conditions)
        .group_by(sub.c.kind, sub.c.item_id, column)
        .subquery("cell")
    )
    # Titles are joined to the few grouped rows, not carried through the grouping.
    targets = {
        "document": Document,
        "course": Course,
        "announcement": Announcement,
        "path": OnboardingPath,
    }
    stmt = select(
        grouped,
        func.coalesce(*(model.title for model in targets.values())).label("title"),
        case(*((grouped.c.kind == kind, i) for i, kind in enumerate(KINDS))).label("kind_order"),
    ).select_from(grouped)
    for kind, model in targets.items():
        stmt = stmt.outerjoin(model, and_(grouped.c.kind == kind, model.id == grouped.c.item_id))
    return stmt.subquery("titled")


def _kept(cells, status: str | None):
    """Subquery: the cells of the items the status filter keeps, each with its item's rank."""
    item = (cells.c.kind, cells.c.item_id)
    missing = cells.c.people - cells.c.complete
    measure = {
        "overdue": cells.c.overdue,
        "pending": cells.c.pending,
        "expiring": cells.c.expiring,
        "incomplete": missing,
        "complete": missing,
    }.get(status, literal(1))
    flagged = select(cells, func.sum(measure).over(partition_by=item).label("flag")).subquery(
        "flagged"
    )
    rank = func.dense_rank().over(
        order_by=(flagged.c.kind_order, flagged.c.title, flagged.c.item_id)
    )
    stmt = select(flagged, rank.label("rank"))
    stmt = stmt.where(flagged.c.flag == 0 if status == "complete" else flagged.c.flag > 0)
    return stmt.subquery("kept")


def _table_rows(rows) -> list[ItemRow]:
    items = []
    for row in rows:
        if not items or (items[-1].kind, items[-1].item_id) != (row.kind, row.item_id):
            items.append(ItemRow(row.kind, row.item_id, row.title or "—"))
        cell = Cell(row.people, row.complete, row.overdue, row.pending, row.expiring)
        items[-1].cells[row.column_id] = cell
        items[-1].total.add(cell)
    return items


def dashboard_table(viewer, today: date, filters: Filters, page: int | None) -> Table:
    """The page's items with their cells and totals (one statement).

    A page past the end shows the last page; :attr:`Table.page` says which was shown.
    """
    page = min(max(page or 1, 1), MAX_PAGE)
    kept = _kept(_cells(viewer, today, filters), filters.status)
    counted = select(kept, func.max(kept.c.rank).over().label("item_total")).subquery("counted")
    last_start = counted.c.item_total - 1 - (counted.c.item_total - 1) % ITEMS_PER_PAGE
    wanted = (page - 1) * ITEMS_PER_PAGE
    start = case((last_start < wanted, last_start), else_=wanted)
    rows = db.session.execute(
        select(counted, start.label("start"))
        .where(counted.c.rank > start, counted.c.rank <= start + ITEMS_PER_PAGE)
        .order_by(counted.c.rank, counted.c.column_id)
    ).all()
    if not rows:
        return Table([], 0, 1)
    return Table(_table_rows(rows), rows[0].item_total, rows[0].start // ITEMS_PER_PAGE + 1)


def table_stream(viewer, today: date, filters: Filters, batch: int):
    """Every item of the dashboard (no paging), an ItemRow at a time, read in batches."""
    kept = _kept(_cells(viewer, today, filters), filters.status)
    stmt = select(kept).order_by(kept.c.rank, kept.c.column_id)
    result = db.session.execute(stmt.execution_options(yield_per=batch))
    current = None
    for row in result:
        if current is not None and (current.kind, current.item_id) != (row.kind, row.item_id):
            yield current
            current = None
        if current is None:
            current = ItemRow(row.kind, row.item_id, row.title or "—")
        cell = Cell(row.people, row.complete, row.overdue, row.pending, row.expiring)
        current.cells[row.column_id] = cell
        current.total.add(cell)
    if current is not None:
        yield current


# --- the drill-down -------------------------------------------------------------------------

URGENCY = ("overdue", "pending", "expiring", "done")


def people_rows(viewer, today: date, filters: Filters, sort: str = "due") -> Select:
    """Select of the people behind a cell: one row per person × item, ordered by ``sort``.

    Columns: kind, item_id, title, user_id, name, email, partner_name, team_name, due_day,
    done_at, status.
    """
    sub, conditions = _source(viewer, today, filters)
    status = sub.c.status
    if filters.status == "incomplete":
        conditions.append(status.in_(("overdue", "pending")))
    elif filters.status == "complete":
        conditions.append(status.in_(COMPLETE))
    elif filters.status is not None:
        conditions.append(status == filters.status)
    urgency = case(*((status == s, i) for i, s in enumerate(URGENCY)), else_=len(URGENCY))
    order = {
        "due": (sub.c.due_day, User.name),
        "-due": (sub.c.due_day.desc(), User.name),
        "name": (User.name, sub.c.due_day),
        "status": (urgency, sub.c.due_day, User.name),
    }[sort if sort in SORTS else "due"]
    return (
        select(
            sub.c.kind,
            sub.c.item_id,
            sub.c.title,
            sub.c.user_id,
            User.name.label("name"),
            User.email.label("email"),
            Partner.name.label("partner_name"),
            Team.name.label("team_name"),
            sub.c.due_day,
            type_coerce(sub.c.done_at, UTCDateTime).label("done_at"),
            status.label("status"),
        )
        .select_from(sub)
        .join(User, User.id == sub.c.user_id)
        .join(Partner, Partner.id == sub.c.partner_id)
        .outerjoin(Team, Team.id == sub.c.team_id)
        .where(*conditions)
        .order_by(*order, sub.c.user_id, sub.c.kind, sub.c.item_id)
    )


class KnownPage(Pagination):
    """A page whose items and total are already known (for the pagination macro)."""

    def __init__(self, page: int, per_page: int, items: list, total: int):
        super().__init__(page, per_page, None, False, items=items, total=total)

    def _query_items(self):
        return self._query_args["items"]

    def _query_count(self):
        return self._query_args["total"]


def known_page(table: Table) -> KnownPage:
    """The dashboard's items as a page."""
    return KnownPage(table.page, ITEMS_PER_PAGE, table.items, table.total)


def count_rows(stmt: Select) -> int:
    """How many rows ``stmt`` selects (one COUNT)."""
    sub = stmt.order_by(None).subquery()
    return db.session.scalar(select(func.count()).select_from(sub))


def people_page(stmt: Select, page: int | None) -> KnownPage:
    """One page of the drill-down (two statements: the count, then the rows).

    Counted first so that a page past the end shows the last page, not an empty one.
    """
    total = count_rows(stmt)
    last = max(1, -(-total // PEOPLE_PER_PAGE))
    page = min(max(page or 1, 1), last)
    rows = db.session.execute(
        stmt.limit(PEOPLE_PER_PAGE).offset((page - 1) * PEOPLE_PER_PAGE)
    ).all()
    return KnownPage(page, PEOPLE_PER_PAGE, rows, total)


def due_soon_limit(today: date, filters: Filters) -> date | None:
    """The last day "due within" reaches, for the page's words."""
    return today + timedelta(days=filters.due_within) if filters.due_within is not None else None

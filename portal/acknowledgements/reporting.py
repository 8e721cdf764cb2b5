"""Who has acknowledged a document and who is pending, as set-based SQL.

Rows are the active people in the document's audience whom the viewer may see (trainers: their
own partner's), each with their latest acknowledgement of the document, if any. Counting,
filtering and paging all happen in the database, so a report of 20,000 people costs the same
few queries as one of 20.
"""

import csv
import io
from dataclasses import dataclass, replace
from datetime import UTC
from enum import StrEnum

from flask_sqlalchemy.pagination import SelectPagination
from sqlalchemy import Select, and_, case, func, literal, select
from sqlalchemy.orm import joinedload

from portal.access.visibility import visible_people
from portal.audiences.services import people_in_audience
from portal.extensions import db
from portal.library.models import AckMethod, Acknowledgement, Document
from portal.partners.models import Partner
from portal.people.models import User

PER_PAGE = 25


class AckState(StrEnum):
    ACKNOWLEDGED = "acknowledged"  # acknowledged the latest material version or later
    OUTDATED = "outdated"  # acknowledged an older version before a material change
    PENDING = "pending"  # never acknowledged any version

    @property
    def label(self) -> str:
        return STATE_LABELS[self]


STATE_LABELS = {
    AckState.ACKNOWLEDGED: "Acknowledged",
    AckState.OUTDATED: "Outdated",
    AckState.PENDING: "Pending",
}
METHOD_LABELS = {AckMethod.BUTTON: "Button", AckMethod.ATTESTATION: "Typed name"}


@dataclass(frozen=True)
class ReportFilters:
    """What the report is narrowed to; None means any."""

    partner_id: int | None = None
    team_id: int | None = None
    status: str | None = None


@dataclass
class StatusCounts:
    acknowledged: int = 0
    outdated: int = 0
    pending: int = 0

    @property
    def total(self) -> int:
        return self.acknowledged + self.outdated + self.pending

    @property
    def percent_acknowledged(self) -> int:
        return round(100 * self.acknowledged / self.total) if self.total else 0


@dataclass
class PartnerCounts:
    partner_id: int
    partner_name: str
    counts: StatusCounts


def _base(viewer, document: Document, filters: ReportFilters):
    """(select of people joined to their latest acknowledgement, the status expression)."""
    latest = (
        select(
            Acknowledgement.user_id,
            func.max(Acknowledgement.version_number).label("number"),
        )
        .where(Acknowledgement.document_id == document.id)
        .group_by(Acknowledgement.user_id)
        .subquery("latest")
    )
    # Before the first publish nobody can have acknowledged; any number then reads as current.
    ack_from = literal(document.ack_from_number or 0)
    status = case(
        (latest.c.number.is_(None), AckState.PENDING.value),
        (latest.c.number >= ack_from, AckState.ACKNOWLEDGED.value),
        else_=AckState.OUTDATED.value,
    )
    seen = visible_people(viewer).with_only_columns(User.id)
    stmt = (
        people_in_audience(document.audience_id, partner_id=document.partner_id)
        .where(User.id.in_(seen))
        .outerjoin(latest, latest.c.user_id == User.id)
        .outerjoin(
            Acknowledgement,
            and_(
                Acknowledgement.user_id == User.id,
                Acknowledgement.document_id == document.id,
                Acknowledgement.version_number == latest.c.number,
            ),
        )
    )
    if filters.partner_id is not None:
        stmt = stmt.where(User.partner_id == filters.partner_id)
    if filters.team_id is not None:
        stmt = stmt.where(User.team_id == filters.team_id)
    return stmt, latest, status


def report_rows(viewer, document: Document, filters: ReportFilters = ReportFilters()) -> Select:
    """Select of (User, latest acknowledged number, its time, its method, status) rows.

    Pending people first, then outdated, then acknowledged; by name within each. Each User
    comes with its partner and team loaded.
    """
    stmt, latest, status = _base(viewer, document, filters)
    stmt = stmt.add_columns(
        latest.c.number.label("number"),
        Acknowledgement.acknowledged_at,
        Acknowledgement.method,
        status.label("status"),
    )
    if filters.status is not None:
        stmt = stmt.where(status == filters.status)
    rank = case(
        (status == AckState.PENDING.value, 0), (status == AckState.OUTDATED.value, 1), else_=2
    )
    return stmt.options(joinedload(User.partner), joinedload(User.team)).order_by(
        rank, User.name, User.id
    )


def _counted(viewer, document: Document, filters: ReportFilters):
    stmt, _latest, status = _base(viewer, document, replace(filters, status=None))
    return stmt.with_only_columns(User.id, User.partner_id, status.label("status")).subquery()


def _count_columns(sub):
    return [
        func.count().filter(sub.c.status == state.value).label(state.value) for state in AckState
    ]


def status_counts(viewer, document: Document, filters: ReportFilters = ReportFilters()):
    """How many people are acknowledged, outdated and pending (one query; ignores the status
    filter so the figures always add up to everyone the other filters keep)."""
    sub = _counted(viewer, document, filters)
    row = db.session.execute(select(*_count_columns(sub)).select_from(sub)).one()
    return StatusCounts(**row._asdict())


def partner_counts(viewer, document: Document, filters: ReportFilters = ReportFilters()):
    """The same counts per partner, by partner name (one query)."""
    sub = _counted(viewer, document, filters)
    rows = db.session.execute(
        select(Partner.id, Partner.name, *_count_columns(sub))
        .join(sub, sub.c.partner_id == Partner.id)
        .group_by(Partner.id, Partner.name)
        .order_by(Partner.name)
    ).all()
    return [
        PartnerCounts(
            row.id, row.name, StatusCounts(**{s.value: getattr(row, s.value) for s in AckState})
        )
        for row in rows
    ]


class RowPagination(SelectPagination):
    """``db.paginate`` for selects of several columns (it would keep only the first)."""

    def _query_items(self):
        stmt = self._query_args["select"].limit(self.per_page).offset(self._query_offset)
        return self._query_args["session"].execute(stmt).all()


def paginate_rows(stmt: Select, page: int | None = None) -> RowPagination:
    """One page of report rows (two queries: the rows and the total)."""
    return RowPagination(
        select=stmt, session=db.session(), page=page, per_page=PER_PAGE, error_out=False
    )


# --- CSV ------------------------------------------------------------------------------------

CSV_HEADER = (
    "Name",
    "Email",
    "Partner",
    "Team",
    "Status",
    "Acknowledged version",
    "Acknowledged at (UTC)",
    "Method",
)
# Spreadsheets run cells starting with these as formulas (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_BATCH = 500


def safe_cell(value) -> str:
    """``value`` as a CSV cell a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_cells(row) -> list[str]:
    """One report row as CSV cells; times in UTC, ISO 8601."""
    person, number, acknowledged_at, method, status = row
    at = acknowledged_at.astimezone(UTC).isoformat(timespec="seconds") if acknowledged_at else ""
    cells = [
        person.name,
        person.email,
        person.partner.name if person.partner else "",
        person.team.name if person.team else "",
        AckState(status).label,
        number or "",
        at,
        METHOD_LABELS.get(method, method or ""),
    ]
    return [safe_cell(cell) for cell in cells]


def csv_lines(stmt: Select):
    """The report as CSV text, a line at a time, reading rows from the database in batches."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush():
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(CSV_HEADER)
    yield flush()
    result = db.session.execute(stmt.execution_options(yield_per=CSV_BATCH))
    for rows in result.partitions():
        writer.writerows(csv_cells(row) for row in rows)
        yield flush()

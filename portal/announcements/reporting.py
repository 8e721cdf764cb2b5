"""Receipts of one announcement: who has read and acknowledged it, as set-based SQL.

Rows are the active people in the announcement's audience whom the viewer may see (trainers:
their own partner's), each with their read and acknowledgement receipts, if any. Counting,
filtering and paging happen in the database, so 20,000 people cost the same few queries as 20.
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import joinedload

from portal.access.visibility import visible_people
from portal.acknowledgements.reporting import CSV_BATCH, safe_cell
from portal.announcements.models import Announcement, AnnouncementAck, AnnouncementRead
from portal.audiences.services import people_in_audience
from portal.extensions import db
from portal.partners.models import Partner, Team
from portal.people.models import User

# Which people a receipts list shows.
SHOWS = {
    "unread": "Not read",
    "unacknowledged": "Not acknowledged",
    "all": "Everyone",
}


@dataclass
class ReceiptCounts:
    people: int = 0
    read: int = 0
    acknowledged: int = 0

    @property
    def read_rate(self) -> int:
        return round(100 * self.read / self.people) if self.people else 0

    @property
    def ack_rate(self) -> int:
        return round(100 * self.acknowledged / self.people) if self.people else 0

    def add(self, other: "ReceiptCounts") -> None:
        self.people += other.people
        self.read += other.read
        self.acknowledged += other.acknowledged


@dataclass
class PartnerReceipts:
    partner_id: int
    partner_name: str
    counts: ReceiptCounts = field(default_factory=ReceiptCounts)
    teams: list[tuple[str, ReceiptCounts]] = field(default_factory=list)


def _people(viewer, announcement: Announcement) -> Select:
    seen = visible_people(viewer).with_only_columns(User.id)
    return (
        people_in_audience(announcement.audience_id, partner_id=announcement.partner_id)
        .where(User.id.in_(seen))
        .outerjoin(
            AnnouncementRead,
            and_(
                AnnouncementRead.user_id == User.id,
                AnnouncementRead.announcement_id == announcement.id,
            ),
        )
        .outerjoin(
            AnnouncementAck,
            and_(
                AnnouncementAck.user_id == User.id,
                AnnouncementAck.announcement_id == announcement.id,
            ),
        )
    )


def receipt_counts(viewer, announcement: Announcement):
    """(totals, per-partner counts with their teams), from one grouped query."""
    sub = (
        _people(viewer, announcement)
        .with_only_columns(
            User.partner_id,
            User.team_id,
            AnnouncementRead.id.label("read_id"),
            AnnouncementAck.id.label("ack_id"),
        )
        .subquery()
    )
    rows = db.session.execute(
        select(
            Partner.id,
            Partner.name,
            Team.name.label("team_name"),
            func.count().label("people"),
            func.count(sub.c.read_id).label("read"),
            func.count(sub.c.ack_id).label("acknowledged"),
        )
        .select_from(sub)
        .join(Partner, Partner.id == sub.c.partner_id)
        .outerjoin(Team, Team.id == sub.c.team_id)
        .group_by(Partner.id, Partner.name, Team.id, Team.name)
        .order_by(Partner.name, Team.name)
    ).all()
    totals, partners = ReceiptCounts(), {}
    for row in rows:
        counts = ReceiptCounts(row.people, row.read, row.acknowledged)
        partner = partners.setdefault(row.id, PartnerReceipts(row.id, row.name))
        partner.teams.append((row.team_name or "No team", counts))
        partner.counts.add(counts)
        totals.add(counts)
    return totals, list(partners.values())


def people_rows(viewer, announcement: Announcement, show: str = "unread") -> Select:
    """Select of (User, read_at, acknowledged_at): those not yet read/acknowledged, or all."""
    stmt = _people(viewer, announcement).add_columns(
        AnnouncementRead.read_at, AnnouncementAck.acknowledged_at
    )
    if show == "unread":
        stmt = stmt.where(AnnouncementRead.id.is_(None))
    elif show == "unacknowledged":
        stmt = stmt.where(AnnouncementAck.id.is_(None))
    return stmt.options(joinedload(User.partner), joinedload(User.team)).order_by(
        User.name, User.id
    )


CSV_HEADER = ("Name", "Email", "Partner", "Team", "Read at (UTC)", "Acknowledged at (UTC)")


def _when(value) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds") if value else ""


def csv_cells(row) -> list[str]:
    person, read_at, acknowledged_at = row
    cells = [
        person.name,
        person.email,
        person.partner.name if person.partner else "",
        person.team.name if person.team else "",
        _when(read_at),
        _when(acknowledged_at),
    ]
    return [safe_cell(cell) for cell in cells]


def csv_lines(stmt: Select):
    """The receipts as CSV text, a batch of rows at a time."""
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

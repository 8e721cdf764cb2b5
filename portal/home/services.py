"""What each role's home page shows."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased, joinedload, raiseload

from portal.access.bound import applies_to, bound_values, person_statement
from portal.access.roles import Role
from portal.access.visibility import (
    documents_addressed_to,
    visible_partners,
    visible_people,
    visible_teams,
)
from portal.acknowledgements.services import pending_for
from portal.audit.models import AuditEvent
from portal.core.clock import utcnow
from portal.extensions import db
from portal.library.models import Acknowledgement, Document, DocumentVersion
from portal.partners.models import Partner, Team
from portal.partners.services import team_member_counts
from portal.people.models import User
from portal.people.services import people_counts_by_partner
from portal.training.overview import TrainingRow, due_training

ONBOARDING_DAYS = 90
TODO_LIMIT = 25
RECENT_LIMIT = 10
# The To do lists show titles, kinds and dates: not the audience or the tags, which would
# otherwise cost five more queries per list.
TITLES_ONLY = (raiseload(Document.audience), raiseload(Document.tag_links))


def onboarding_day(hire_date: date | None, today: date | None = None) -> int | None:
    """Day N of the first 90 (day 1 is the hire date), or None outside that window."""
    if hire_date is None:
        return None
    today = today or date.today()
    day = (today - hire_date).days + 1
    return day if 1 <= day <= ONBOARDING_DAYS else None


@dataclass
class PartnerRow:
    partner: Partner
    active: int
    trainers: int
    invited: int


def partner_overview(viewer) -> list[PartnerRow]:
    """Every partner the viewer sees with its people counts (two queries)."""
    partners = db.session.scalars(visible_partners(viewer).order_by(Partner.name)).all()
    counts = people_counts_by_partner(viewer)
    empty = {"active": 0, "trainers": 0, "invited": 0}
    return [PartnerRow(p, **counts.get(p.id, empty)) for p in partners]


def new_hires(viewer, limit=10, today: date | None = None) -> list[User]:
    """Active partner people hired in the last 90 days, newest first."""
    today = today or date.today()
    since = today - timedelta(days=ONBOARDING_DAYS - 1)
    stmt = (
        visible_people(viewer)
        .where(
            User.active,
            User.role.in_([Role.AGENT.value, Role.TRAINER.value]),
            User.hire_date >= since,
            User.hire_date <= today,
        )
        .options(joinedload(User.team), joinedload(User.partner))
        .order_by(User.hire_date.desc(), User.name)
        .limit(limit)
    )
    return db.session.scalars(stmt).all()


def team_overview(viewer) -> list[tuple[Team, int]]:
    """The viewer's visible teams with active member counts (two queries)."""
    teams = db.session.scalars(visible_teams(viewer).order_by(Team.name)).all()
    counts = team_member_counts([t.id for t in teams])
    return [(t, counts.get(t.id, 0)) for t in teams]


def roster_counts(viewer) -> dict[str, int]:
    """Active people, pending invitations and deactivated people the viewer sees."""
    sub = visible_people(viewer).where(User.role.in_([Role.AGENT.value, Role.TRAINER.value]))
    sub = sub.subquery()
    row = db.session.execute(
        select(
            func.count().filter(sub.c.active, sub.c.password_hash.is_not(None)),
            func.count().filter(sub.c.active, sub.c.password_hash.is_(None)),
            func.count().filter(~sub.c.active),
        ).select_from(sub)
    ).one()
    return {"active": row[0], "invited": row[1], "deactivated": row[2]}


def recent_events(limit=8) -> list[AuditEvent]:
    return db.session.scalars(
        select(AuditEvent)
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .limit(limit)
    ).all()


@dataclass
class PendingItem:
    """A document the person must acknowledge."""

    document: Document
    changed_at: datetime  # when the material version that asks them was published
    summary: str  # that version's change summary
    since_number: int | None  # the older version they acknowledged, if any


@dataclass
class RecentItem:
    """A recently changed document addressed to the person, already acknowledged or not asked."""

    document: Document
    number: int
    summary: str


@dataclass
class Todo:
    pending: list[PendingItem]
    pending_total: int  # may exceed len(pending): the list stops at TODO_LIMIT
    recent: list[RecentItem]
    training: list[TrainingRow]  # required courses still to complete, most urgent first


@person_statement
def _pending_rows(person, _now):
    """The documents ``person`` must acknowledge, newest material change first."""
    material = aliased(DocumentVersion)
    since = (
        select(func.max(Acknowledgement.version_number))
        .where(Acknowledgement.user_id == person.id, Acknowledgement.document_id == Document.id)
        .correlate(Document)
        .scalar_subquery()
    )
    return (
        pending_for(person)
        .join(
            material,
            and_(material.document_id == Document.id, material.number == Document.ack_from_number),
        )
        .add_columns(material.published_at, material.summary, since, func.count().over())
        .options(*TITLES_ONLY)
        .order_by(material.published_at.desc(), Document.id.desc())
        .limit(TODO_LIMIT)
    )


@person_statement
def _recent_rows(person, _now):
    """Recently changed documents addressed to ``person``, leaving out those pending."""
    current = aliased(DocumentVersion)
    pending_ids = pending_for(person).with_only_columns(Document.id)
    return (
        documents_addressed_to(person)
        .where(Document.id.not_in(pending_ids))
        .join(current, current.id == Document.current_version_id)
        .add_columns(current.number, current.summary)
        .options(*TITLES_ONLY)
        .order_by(Document.changed_at.desc(), Document.id.desc())
        .limit(RECENT_LIMIT)
    )


def todo(person) -> Todo:
    """What ``person`` must do first, then what changed lately (a fixed number of queries,
    each built once per process).

    Pending acknowledgements come newest material change first, required courses most urgent
    first; recently changed documents addressed to them follow, leaving out those pending.
    """
    if not applies_to(person):
        return Todo(pending=[], pending_total=0, recent=[], training=[])
    values = bound_values(person, utcnow())
    pending_rows = db.session.execute(_pending_rows(person), values).all()
    pending = [PendingItem(*row[:4]) for row in pending_rows]
    recent_rows = db.session.execute(_recent_rows(person), values).all()
    return Todo(
        pending=pending,
        pending_total=pending_rows[0][-1] if pending_rows else 0,
        recent=[RecentItem(*row) for row in recent_rows],
        training=due_training(person),
    )

"""What a person sees of announcements: their feed, the unread count, the urgent banner, and
the receipts they leave (opened, acknowledged).

Receipts are written once: a unique constraint plus INSERT ... ON CONFLICT DO NOTHING makes a
second tab or a double click a no-op. A process change's acknowledgement also acknowledges the
document version it announces, one record each.
"""

from dataclasses import dataclass

from flask import has_request_context, request
from sqlalchemy import and_, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import raiseload

from portal.access.bound import applies_to, bound_values, person_statement
from portal.access.visibility import announcements_addressed_to, documents_addressed_to
from portal.acknowledgements import services as document_acks
from portal.announcements.models import (
    Announcement,
    AnnouncementAck,
    AnnouncementRead,
    Priority,
)
from portal.audit.services import Actions, record
from portal.core.clock import utcnow
from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.library.models import AckMethod, Acknowledgement, Document, DocumentVersion

BANNER_LIMIT = 3


def _insert(model):
    return (pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert)(model)


def _receipts_of(person):
    """Outer joins of ``person``'s read and acknowledgement receipts onto Announcement."""
    read = and_(
        AnnouncementRead.announcement_id == Announcement.id, AnnouncementRead.user_id == person.id
    )
    acked = and_(
        AnnouncementAck.announcement_id == Announcement.id, AnnouncementAck.user_id == person.id
    )
    return read, acked


def feed(person, now=None):
    """Select of (Announcement, read_at, acknowledged_at) for ``person``: pinned first, newest
    first."""
    read, acked = _receipts_of(person)
    return (
        announcements_addressed_to(person, now)
        .outerjoin(AnnouncementRead, read)
        .outerjoin(AnnouncementAck, acked)
        .add_columns(AnnouncementRead.read_at, AnnouncementAck.acknowledged_at)
        .order_by(
            Announcement.pinned.desc(), Announcement.publish_at.desc(), Announcement.id.desc()
        )
    )


@dataclass
class NavStatus:
    """What the navigation shows: unread announcements and the urgent ones still open."""

    unread: int = 0
    urgent: list = None

    def __post_init__(self):
        self.urgent = self.urgent or []


@person_statement
def _unread_count(person, now):
    read, _acked = _receipts_of(person)
    unread_ids = (
        announcements_addressed_to(person, now)
        .outerjoin(AnnouncementRead, read)
        .where(AnnouncementRead.id.is_(None))
        .with_only_columns(Announcement.id)
        .subquery()
    )
    return select(func.count()).select_from(unread_ids)


@person_statement
def _urgent_open(person, now):
    read, acked = _receipts_of(person)
    return (
        announcements_addressed_to(person, now)
        .outerjoin(AnnouncementRead, read)
        .outerjoin(AnnouncementAck, acked)
        .where(
            Announcement.priority == Priority.URGENT,
            or_(
                and_(Announcement.requires_ack, AnnouncementAck.id.is_(None)),
                and_(~Announcement.requires_ack, AnnouncementRead.id.is_(None)),
            ),
        )
        .options(raiseload(Announcement.audience))  # the banner shows titles only
        .order_by(Announcement.publish_at.desc(), Announcement.id.desc())
        .limit(BANNER_LIMIT)
    )


def nav_status(person, now=None) -> NavStatus:
    """The unread count and the urgent banner for ``person`` (two queries, any number of rows,
    each built once per process: they run on every page).

    Staff are never in an audience: nothing to count, no query.
    """
    if not applies_to(person):
        return NavStatus()
    values = bound_values(person, now or utcnow())
    unread = db.session.scalar(_unread_count(person), values) or 0
    urgent = db.session.scalars(_urgent_open(person), values).all()
    return NavStatus(unread=unread, urgent=list(urgent))


def is_addressed(person, announcement: Announcement, now=None) -> bool:
    """Whether ``announcement`` is live and addressed to ``person`` now."""
    stmt = announcements_addressed_to(person, now).where(Announcement.id == announcement.id)
    return db.session.scalar(select(stmt.exists())) or False


def mark_read(person, announcement: Announcement, now=None) -> bool:
    """Record that ``person`` opened ``announcement``; True the first time only.

    Only people it is addressed to leave receipts (authors and staff reading it do not).
    """
    if not is_addressed(person, announcement, now):
        return False
    stmt = (
        _insert(AnnouncementRead)
        .values(user_id=person.id, announcement_id=announcement.id, read_at=now or utcnow())
        .on_conflict_do_nothing(index_elements=["user_id", "announcement_id"])
    )
    return db.session.execute(stmt.returning(AnnouncementRead.id)).first() is not None


def receipts_of(person, announcement: Announcement):
    """(read_at, acknowledged_at) of ``person`` for ``announcement``; None where missing."""
    read_at = db.session.scalar(
        select(AnnouncementRead.read_at).where(
            AnnouncementRead.user_id == person.id,
            AnnouncementRead.announcement_id == announcement.id,
        )
    )
    acknowledged_at = db.session.scalar(
        select(AnnouncementAck.acknowledged_at).where(
            AnnouncementAck.user_id == person.id,
            AnnouncementAck.announcement_id == announcement.id,
        )
    )
    return read_at, acknowledged_at


@dataclass
class AckOutcome:
    created: bool  # False: they had acknowledged it already
    document_ack: Acknowledgement | None = None  # the document version's acknowledgement
    # Set when the document moved on to a newer version since the process change.
    newer_version: int | None = None


def acknowledge(person, announcement: Announcement, *, typed_name=None, now=None) -> AckOutcome:
    """Record that ``person`` acknowledged ``announcement``.

    For a process change, also acknowledge the document version it announces when it is
    still the document's current version and the document is addressed to them (one record
    each). Raises InvalidInput, writing nothing, when the announcement asks for no
    acknowledgement, is not live for them, or the document wants a typed name that does not
    match.
    """
    now = now or utcnow()
    if not announcement.requires_ack:
        raise InvalidInput("This announcement does not ask for an acknowledgement.")
    if not is_addressed(person, announcement, now):
        raise InvalidInput("This announcement is no longer live, so it cannot be acknowledged.")
    plan = _document_plan(person, announcement, typed_name)
    stmt = (
        _insert(AnnouncementAck)
        .values(user_id=person.id, announcement_id=announcement.id, acknowledged_at=now)
        .on_conflict_do_nothing(index_elements=["user_id", "announcement_id"])
    )
    if has_request_context():
        stmt = stmt.values(
            ip_address=request.remote_addr, user_agent=(request.user_agent.string or "")[:300]
        )
    created = db.session.execute(stmt.returning(AnnouncementAck.id)).first() is not None
    mark_read(person, announcement, now)
    outcome = AckOutcome(created=created, newer_version=plan.newer_version)
    if plan.document is not None:
        outcome.document_ack = _acknowledge_document(person, plan, typed_name, now)
    if created:
        record(
            Actions.ANNOUNCEMENT_ACKNOWLEDGED,
            actor=person,
            partner_id=person.partner_id,
            target=announcement,
            summary=f"Acknowledged the announcement “{announcement.title}”",
        )
    db.session.flush()
    return outcome


@dataclass
class _DocumentPlan:
    document: Document | None = None  # acknowledge this document's version too
    version_id: int | None = None
    newer_version: int | None = None


def _document_plan(person, announcement: Announcement, typed_name) -> _DocumentPlan:
    if announcement.document_version_id is None:
        return _DocumentPlan()
    document = db.session.scalars(
        documents_addressed_to(person).where(Document.id == announcement.document_id)
    ).first()
    if document is None:
        return _DocumentPlan()
    if document.current_version_id != announcement.document_version_id:
        number = db.session.scalar(
            select(DocumentVersion.number).where(DocumentVersion.id == document.current_version_id)
        )
        return _DocumentPlan(newer_version=number)
    if document.attestation and not document_acks._same_name(typed_name, person.name):
        raise InvalidInput(
            {"typed_name": f"Type your full name exactly as on your profile: {person.name}."}
        )
    return _DocumentPlan(document=document, version_id=announcement.document_version_id)


def _acknowledge_document(person, plan: _DocumentPlan, typed_name, now) -> Acknowledgement:
    document = plan.document
    if document_acks.is_required_of(person, document):
        ack, _created = document_acks.acknowledge(
            person, document, plan.version_id, typed_name=typed_name
        )
        return ack
    # The document asks for no acknowledgement, but the process change did: record that this
    # person acknowledged this version, the same kind of record.
    number = db.session.scalar(
        select(DocumentVersion.number).where(DocumentVersion.id == plan.version_id)
    )
    attested = document.attestation
    stmt = (
        _insert(Acknowledgement)
        .values(
            user_id=person.id,
            document_id=document.id,
            version_id=plan.version_id,
            version_number=number,
            acknowledged_at=now,
            method=AckMethod.ATTESTATION if attested else AckMethod.BUTTON,
            typed_name=" ".join(typed_name.split()) if attested else None,
        )
        .on_conflict_do_nothing(index_elements=["user_id", "version_id"])
    )
    db.session.execute(stmt)
    return db.session.scalars(
        select(Acknowledgement).where(
            Acknowledgement.user_id == person.id, Acknowledgement.version_id == plan.version_id
        )
    ).one()

"""Acknowledgements: who has read and understood which version, and who still must.

A person must acknowledge a document when it is published, asks for acknowledgement and is
addressed to them. Their acknowledgement is current when its version is the latest *material*
version or later (``Document.ack_from_number``): a minor version keeps it valid, a material
one asks again. Records are written once; a double click or a second tab writes nothing more.
"""

from dataclasses import dataclass, field

from flask import has_request_context, request
from sqlalchemy import exists, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from portal.access.bound import applies_to, bound_values, person_statement
from portal.access.visibility import documents_addressed_to
from portal.audit.services import Actions, record
from portal.core.clock import utcnow
from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.library.models import (
    AckMethod,
    Acknowledgement,
    Document,
    DocumentStatus,
    DocumentVersion,
)


@dataclass
class AckStatus:
    """Where one person stands with one document."""

    required: bool  # the document asks this person to acknowledge it
    latest: Acknowledgement | None  # their most recent acknowledgement of any version
    current: Acknowledgement | None  # that one, if it still counts
    # When a material change asks them again: the versions published since the one they
    # acknowledged, newest first (what changed).
    changes: list[DocumentVersion] = field(default_factory=list)

    @property
    def needs_ack(self) -> bool:
        return self.required and self.current is None

    @property
    def since_number(self) -> int | None:
        """The version they last acknowledged, when a material change asks them again."""
        return self.latest.version_number if self.needs_ack and self.latest else None


def _acknowledgement_is_current():
    return exists().where(
        Acknowledgement.document_id == Document.id,
        Acknowledgement.version_number >= Document.ack_from_number,
    )


def is_required_of(person, document: Document) -> bool:
    """Whether ``document`` asks ``person`` for an acknowledgement now."""
    if not document.requires_ack or document.status != DocumentStatus.PUBLISHED:
        return False
    stmt = documents_addressed_to(person).where(Document.id == document.id)
    return db.session.scalar(select(stmt.exists())) or False


def ack_status(person, document: Document) -> AckStatus:
    """``person``'s standing with ``document``.

    Two queries, and a third listing the versions published since their acknowledgement
    when a material change asks them to acknowledge again.
    """
    latest = db.session.scalars(
        select(Acknowledgement)
        .where(Acknowledgement.user_id == person.id, Acknowledgement.document_id == document.id)
        .order_by(Acknowledgement.version_number.desc())
        .limit(1)
    ).first()
    current = (
        latest
        if latest is not None
        and document.ack_from_number is not None
        and latest.version_number >= document.ack_from_number
        else None
    )
    status = AckStatus(required=is_required_of(person, document), latest=latest, current=current)
    if status.since_number is not None:
        status.changes = db.session.scalars(
            select(DocumentVersion)
            .where(
                DocumentVersion.document_id == document.id,
                DocumentVersion.number > status.since_number,
                DocumentVersion.published_at.is_not(None),
            )
            .order_by(DocumentVersion.number.desc())
        ).all()
    return status


def pending_for(person):
    """SQL select of the documents ``person`` must still acknowledge."""
    return documents_addressed_to(person).where(
        Document.requires_ack,
        ~_acknowledgement_is_current().where(Acknowledgement.user_id == person.id),
    )


@person_statement
def _pending_count(person, _now):
    sub = pending_for(person).with_only_columns(Document.id).subquery()
    return select(func.count()).select_from(sub)


def pending_count(person) -> int:
    """How many documents ``person`` must still acknowledge (one query, built once)."""
    if not applies_to(person):
        return 0  # staff, and people no longer active, are in no audience
    return db.session.scalar(_pending_count(person), bound_values(person, utcnow())) or 0


def _same_name(typed: str, name: str) -> bool:
    def norm(value):
        return " ".join((value or "").split()).casefold()

    return bool(norm(typed)) and norm(typed) == norm(name)


def acknowledge(person, document: Document, version_id: int, *, typed_name: str | None = None):
    """Record that ``person`` read and understood ``document`` at version ``version_id``.

    Returns ``(acknowledgement, created)``; a repeat (double click, second tab) returns the
    existing record with ``created`` False, and so does acknowledging again while an earlier
    acknowledgement still counts (a minor version came after it). Raises InvalidInput,
    writing nothing, when the version is missing or not the current one, the document does
    not ask this person, or the typed name does not match.
    """
    if document.status == DocumentStatus.ARCHIVED:
        raise InvalidInput("This document is archived: it no longer asks for acknowledgements.")
    if not is_required_of(person, document):
        raise InvalidInput("This document does not ask you for an acknowledgement.")
    if version_id is None:
        raise InvalidInput("The form did not say which version you read. Reload the page.")
    if version_id != document.current_version_id:
        raise InvalidInput(
            "A newer version of this document was published since you opened it. "
            "Read the current version, then acknowledge it."
        )
    method = AckMethod.BUTTON
    if document.attestation:
        if not _same_name(typed_name, person.name):
            raise InvalidInput(
                {"typed_name": f"Type your full name exactly as on your profile: {person.name}."}
            )
        method = AckMethod.ATTESTATION
    still_current = db.session.scalars(
        select(Acknowledgement)
        .where(
            Acknowledgement.user_id == person.id,
            Acknowledgement.document_id == document.id,
            Acknowledgement.version_number >= document.ack_from_number,
        )
        .order_by(Acknowledgement.version_number.desc())
        .limit(1)
    ).first()
    if still_current is not None:
        return still_current, False
    number = db.session.scalar(
        select(DocumentVersion.number).where(DocumentVersion.id == version_id)
    )
    values = dict(
        user_id=person.id,
        document_id=document.id,
        version_id=version_id,
        version_number=number,
        acknowledged_at=utcnow(),
        method=method,
        typed_name=" ".join(typed_name.split()) if method == AckMethod.ATTESTATION else None,
    )
    if has_request_context():
        values["ip_address"] = request.remote_addr
        values["user_agent"] = (request.user_agent.string or "")[:300]
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(Acknowledgement).values(**values)
    stmt = stmt.on_conflict_do_nothing(index_elements=["user_id", "version_id"])
    # RETURNING gives no row when the record already existed; rowcount is not reliable
    # for ORM-enabled inserts across drivers (psycopg reports -1).
    created = db.session.execute(stmt.returning(Acknowledgement.id)).first() is not None
    ack = db.session.scalars(
        select(Acknowledgement).where(
            Acknowledgement.user_id == person.id, Acknowledgement.version_id == version_id
        )
    ).one()
    if created:
        record(
            Actions.DOCUMENT_ACKNOWLEDGED,
            actor=person,
            partner_id=person.partner_id,
            target=document,
            summary=f"Acknowledged version {number} of “{document.title}”",
            version=number,
            method=method,
        )
        db.session.flush()
    return ack, created

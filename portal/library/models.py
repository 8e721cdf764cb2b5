"""The library: documents, their immutable versions, tags, acknowledgements, attachments, reviews.

A document's text lives in versions. Each publish freezes one version (Markdown source, the
sanitized HTML rendered from it, a change summary, material or minor); editing a published
document works on a draft of the next version. ``Document.ack_from_number`` is the number of
the latest *material* version: an acknowledgement of that version or a later one is current.
"""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    inspect,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.audiences.models import Audience
from portal.audit.models import AppendOnlyError
from portal.core.clock import UTCDateTime, utcnow
from portal.extensions import db


class DocumentKind(StrEnum):
    ONBOARDING = "onboarding"
    BRAND = "brand"
    PLAYBOOK = "playbook"
    POLICY = "policy"
    PRODUCT_UPDATE = "product_update"

    @property
    def label(self) -> str:
        return KIND_LABELS[self]


KIND_LABELS = {
    DocumentKind.ONBOARDING: "Onboarding",
    DocumentKind.BRAND: "Brand guide",
    DocumentKind.PLAYBOOK: "Playbook",
    DocumentKind.POLICY: "Policy",
    DocumentKind.PRODUCT_UPDATE: "Product update",
}


class DocumentStatus(StrEnum):
    DRAFT = "draft"  # never published
    PUBLISHED = "published"
    ARCHIVED = "archived"


class ChangeLevel(StrEnum):
    MATERIAL = "material"  # everyone in the audience acknowledges again
    MINOR = "minor"  # acknowledgements stay valid


class Document(db.Model):
    __tablename__ = "document"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), index=True)
    status: Mapped[str] = mapped_column(String(12), default=DocumentStatus.DRAFT, index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    # Set for a partner-local document (a trainer's); empty for company-wide.
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id"), index=True)
    audience_id: Mapped[int] = mapped_column(ForeignKey("audience.id"), unique=True)
    requires_ack: Mapped[bool] = mapped_column(Boolean, default=False)
    attestation: Mapped[bool] = mapped_column(Boolean, default=False)  # ask for a typed name
    review_by: Mapped[date | None] = mapped_column(Date, index=True)
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("document_version.id", use_alter=True)
    )
    # Number of the latest material version; acknowledgements of it or later are current.
    ack_from_number: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the current version was published: "recently changed" sorts by it.
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    audience: Mapped[Audience] = relationship(lazy="joined")
    owner = relationship("User", lazy="raise", foreign_keys=[owner_id])
    partner = relationship("Partner", lazy="raise")
    current_version: Mapped["DocumentVersion | None"] = relationship(
        foreign_keys=[current_version_id], lazy="raise", post_update=True
    )
    tag_links: Mapped[list["DocumentTag"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="DocumentTag.tag"
    )

    @property
    def tags(self) -> list[str]:
        return [link.tag for link in self.tag_links]

    @property
    def kind_enum(self) -> DocumentKind:
        return DocumentKind(self.kind)

    @property
    def is_published(self) -> bool:
        return self.status == DocumentStatus.PUBLISHED

    def __repr__(self):
        return f"<Document {self.slug}>"


class DocumentTag(db.Model):
    __tablename__ = "document_tag"

    document_id: Mapped[int] = mapped_column(
        ForeignKey("document.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)


class DocumentVersion(db.Model):
    """One version of a document's text. Immutable once published; a draft until then."""

    __tablename__ = "document_version"
    __table_args__ = (UniqueConstraint("document_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown source
    html: Mapped[str | None] = mapped_column(Text)  # sanitized render, cached at publish
    toc_html: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(String(300), default="")
    change_level: Mapped[str] = mapped_column(String(10), default=ChangeLevel.MATERIAL)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    document: Mapped[Document] = relationship(foreign_keys=[document_id], lazy="raise")
    created_by = relationship("User", foreign_keys=[created_by_id], lazy="raise")
    published_by = relationship("User", foreign_keys=[published_by_id], lazy="raise")

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    @property
    def is_material(self) -> bool:
        return self.change_level == ChangeLevel.MATERIAL


@db.event.listens_for(DocumentVersion, "before_update")
@db.event.listens_for(DocumentVersion, "before_delete")
def _freeze_published_versions(_mapper, _connection, target):
    history = inspect(target).attrs.published_at.load_history()
    was_published = any(value is not None for value in (*history.unchanged, *history.deleted))
    if was_published:
        raise AppendOnlyError("a published document version is never rewritten")


class AckMethod(StrEnum):
    BUTTON = "button"
    ATTESTATION = "attestation"  # the reader typed their full name


class Acknowledgement(db.Model):
    """A person read and understood one version. Written once; never updated or deleted."""

    __tablename__ = "acknowledgement"
    __table_args__ = (
        UniqueConstraint("user_id", "version_id"),
        Index("ix_acknowledgement_document_user", "document_id", "user_id", "version_number"),
        # Reports over a period (weekly completions, business reviews).
        Index("ix_acknowledgement_acknowledged_at", "acknowledged_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"))
    version_id: Mapped[int] = mapped_column(ForeignKey("document_version.id"), index=True)
    version_number: Mapped[int] = mapped_column(Integer)
    acknowledged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    method: Mapped[str] = mapped_column(String(12), default=AckMethod.BUTTON)
    typed_name: Mapped[str | None] = mapped_column(String(120))
    ip_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))

    user = relationship("User", lazy="raise")
    document: Mapped[Document] = relationship(lazy="raise")
    version: Mapped[DocumentVersion] = relationship(lazy="raise")


class Attachment(db.Model):
    """A file attached to a document. Removing one hides it; the stored file stays for history."""

    __tablename__ = "attachment"
    __table_args__ = (UniqueConstraint("document_id", "filename"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(300), unique=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    document: Mapped[Document] = relationship(lazy="raise")
    uploaded_by = relationship("User", lazy="raise")


class DocumentReview(db.Model):
    """Someone confirmed a document as still accurate, without a new version. Written once."""

    __tablename__ = "document_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_review_by: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(500), default="")

    reviewed_by = relationship("User", lazy="raise")


@db.event.listens_for(Acknowledgement, "before_update")
@db.event.listens_for(Acknowledgement, "before_delete")
@db.event.listens_for(DocumentReview, "before_update")
@db.event.listens_for(DocumentReview, "before_delete")
def _refuse_rewrite(_mapper, _connection, target):
    raise AppendOnlyError(f"{type(target).__name__} records are written once")

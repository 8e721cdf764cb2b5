"""Announcements: short news to an audience, optionally a process change tied to a document
version, with read receipts and acknowledgements.

An announcement is *live* when it is published, its publish time has come, it has not expired
and it has not been withdrawn. Receipts are compliance records: written once, never updated or
deleted, and kept when the announcement is withdrawn.
"""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.audiences.models import Audience
from portal.audit.models import AppendOnlyError
from portal.core.clock import UTCDateTime, utcnow
from portal.extensions import db


class Priority(StrEnum):
    INFO = "info"
    IMPORTANT = "important"
    URGENT = "urgent"  # a banner on every page until read (or acknowledged)

    @property
    def label(self) -> str:
        return self.value.capitalize()


class AnnouncementStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"  # live from publish_at (scheduled until then)
    WITHDRAWN = "withdrawn"


class Announcement(db.Model):
    __tablename__ = "announcement"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown source
    html: Mapped[str] = mapped_column(Text, default="")  # sanitized render of body
    priority: Mapped[str] = mapped_column(String(12), default=Priority.INFO)
    audience_id: Mapped[int] = mapped_column(ForeignKey("audience.id"), unique=True)
    # Set for a trainer's announcement: only that partner's people are addressed.
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    status: Mapped[str] = mapped_column(String(12), default=AnnouncementStatus.DRAFT, index=True)
    publish_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    requires_ack: Mapped[bool] = mapped_column(Boolean, default=False)
    # A process change: the document version it announces and when it takes effect.
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"), index=True)
    document_version_id: Mapped[int | None] = mapped_column(ForeignKey("document_version.id"))
    effective_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When its audience was notified: set once, by whoever releases it first.
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    audience: Mapped[Audience] = relationship(lazy="joined")
    author = relationship("User", lazy="raise")
    partner = relationship("Partner", lazy="raise")
    document = relationship("Document", lazy="raise")
    document_version = relationship("DocumentVersion", lazy="raise")

    @property
    def is_process_change(self) -> bool:
        return self.document_version_id is not None

    @property
    def priority_enum(self) -> Priority:
        return Priority(self.priority)

    def state(self, now: datetime) -> str:
        """draft, scheduled, live, expired or withdrawn, at ``now``."""
        if self.status == AnnouncementStatus.DRAFT:
            return "draft"
        if self.status == AnnouncementStatus.WITHDRAWN:
            return "withdrawn"
        if self.publish_at is not None and self.publish_at > now:
            return "scheduled"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "live"

    def __repr__(self):
        return f"<Announcement {self.id} {self.title!r}>"


class AnnouncementRead(db.Model):
    """A person opened an announcement. Written once."""

    __tablename__ = "announcement_read"
    __table_args__ = (UniqueConstraint("user_id", "announcement_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcement.id"), index=True)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AnnouncementAck(db.Model):
    """A person acknowledged an announcement. Written once."""

    __tablename__ = "announcement_ack"
    __table_args__ = (UniqueConstraint("user_id", "announcement_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcement.id"), index=True)
    acknowledged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ip_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))


@db.event.listens_for(AnnouncementRead, "before_update")
@db.event.listens_for(AnnouncementRead, "before_delete")
@db.event.listens_for(AnnouncementAck, "before_update")
@db.event.listens_for(AnnouncementAck, "before_delete")
def _refuse_rewrite(_mapper, _connection, target):
    raise AppendOnlyError(f"{type(target).__name__} records are written once")

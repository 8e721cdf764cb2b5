"""The append-only audit log."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.clock import UTCDateTime, utcnow
from portal.extensions import db


class AuditEvent(db.Model):
    """Something that happened: written once, never updated or deleted.

    ``actor_id`` and ``partner_id`` are plain references: the event outlives the person's
    deactivation, and ``actor_email`` keeps who it was even if the account changes.
    """

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    actor_email: Mapped[str | None] = mapped_column(String(254))
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id"), index=True)
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[int | None]
    summary: Mapped[str] = mapped_column(String(500), default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    ip_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))

    actor = relationship("User", lazy="raise")
    partner = relationship("Partner", lazy="raise")


class AppendOnlyError(RuntimeError):
    """Raised when ordinary code tries to rewrite a compliance record."""


@db.event.listens_for(AuditEvent, "before_update")
@db.event.listens_for(AuditEvent, "before_delete")
def _refuse_rewrite(_mapper, _connection, target):
    raise AppendOnlyError(f"{type(target).__name__} records are written once")

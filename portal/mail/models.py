"""The persistent outbox: every email the portal sends waits here until a worker delivers it.

Rows are rendered at send time (in the recipient's language at that moment), so a message
queued for thousands of people costs one small row each.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.clock import UTCDateTime, utcnow
from portal.extensions import db


class OutboxStatus(StrEnum):
    PENDING = "pending"  # waiting for next_attempt_at
    SENDING = "sending"  # claimed by one worker (claim_token) and being delivered
    SENT = "sent"
    FAILED = "failed"  # gave up: a bounce, or MAIL_MAX_ATTEMPTS tries


class OutboxMessage(db.Model):
    __tablename__ = "outbox_message"
    __table_args__ = (
        Index("ix_outbox_message_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    to_address: Mapped[str] = mapped_column(String(254))
    category: Mapped[str] = mapped_column(String(20))
    template: Mapped[str] = mapped_column(String(60))
    context: Mapped[dict] = mapped_column(JSON, default=dict)
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    # A repeat of the same message (same event, same person) is a no-op; NULLs never clash.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(10), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    claim_token: Mapped[str | None] = mapped_column(String(32), index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

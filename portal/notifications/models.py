"""Notifications shown in the portal, and which optional categories a person gets by email.

A category is required (always emailed) or optional (emailed unless the person turned it off
on /notifications/preferences). The in-app notification is written either way.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.clock import UTCDateTime, utcnow
from portal.extensions import db


class Category(StrEnum):
    ANNOUNCEMENT = "announcement"
    DOCUMENT_VERSION = "document_version"
    REQUIREMENT = "requirement"
    OVERDUE = "overdue"
    REMINDER = "reminder"
    DIGEST = "digest"

    @property
    def label(self) -> str:
        return CATEGORY_LABELS[self]

    @property
    def optional(self) -> bool:
        return self in OPTIONAL_CATEGORIES


CATEGORY_LABELS = {
    Category.ANNOUNCEMENT: "Announcements",
    Category.DOCUMENT_VERSION: "New documents and material document changes",
    Category.REQUIREMENT: "Something new you must do",
    Category.OVERDUE: "Something overdue",
    Category.REMINDER: "Reminders of what is due",
    Category.DIGEST: "Digests",
}

# A person may turn email off for these (unless the sender marks one item required, e.g. an
# urgent announcement); the others concern what the person must do, so they always go out.
OPTIONAL_CATEGORIES = (Category.ANNOUNCEMENT, Category.DOCUMENT_VERSION)
REQUIRED_REASON = "These concern something you must do, so they are always sent."


class Notification(db.Model):
    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_user_id_read_at", "user_id", "read_at"),
        # A repeat of the same event (a command run twice) writes nothing; NULLs never clash.
        UniqueConstraint("user_id", "dedupe_key", name="uq_notification_user_id_dedupe_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(500), default="")
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def category_label(self) -> str:
        return Category(self.category).label if self.category in set(Category) else self.category


class NotificationPreference(db.Model):
    """A person's choice for one optional category; no row means email on."""

    __tablename__ = "notification_preference"
    __table_args__ = (
        UniqueConstraint("user_id", "category", name="uq_notification_preference_user_id_category"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(20))
    email: Mapped[bool] = mapped_column(Boolean, default=True)

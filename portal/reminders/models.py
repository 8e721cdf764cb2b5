"""Which reminders went out: one row per person, item, due date and stage, written once.

The unique constraint is what makes ``reminders send`` safe to run every hour, and twice at
once: a run inserts the rows for the stages due today with ON CONFLICT DO NOTHING and mails
only the rows it actually inserted. ``due_on`` is part of the key because a material new
version gives the same document a new due date, whose stages are new reminders.
"""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.audit.models import AppendOnlyError
from portal.core.clock import UTCDateTime, utcnow
from portal.extensions import db


class ItemSource(StrEnum):
    """What kind of thing a reminder is about (onboarding steps come later)."""

    DOCUMENT = "document"  # acknowledge a document's latest material version
    COURSE = "course"  # complete a required course (again, when a completion expires)


class ReminderSent(db.Model):
    __tablename__ = "reminder_sent"
    __table_args__ = (
        UniqueConstraint(
            "user_id",
            "source",
            "item_id",
            "due_on",
            "stage",
            name="uq_reminder_sent_user_id_source_item_id_due_on_stage",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    source: Mapped[str] = mapped_column(String(20))
    item_id: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date] = mapped_column(Date)
    # "before-7", "before-1", "due", "overdue-3", "overdue-6", ...
    stage: Mapped[str] = mapped_column(String(20))
    sent_on: Mapped[date] = mapped_column(Date)  # the person's local date of the run
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@db.event.listens_for(ReminderSent, "before_update")
@db.event.listens_for(ReminderSent, "before_delete")
def _refuse_rewrite(_mapper, _connection, target):
    raise AppendOnlyError("reminder records are written once")

"""A roster import: the uploaded CSV, its preview, and whether it was applied."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.clock import UTCDateTime, utcnow
from portal.extensions import db


class RosterImport(db.Model):
    """One uploaded roster file, kept so that "Apply" needs no second upload.

    ``content`` is the file's text (already decoded); ``rows`` is the preview, one entry per
    row of the file (what will happen and why not); ``summary`` holds the counts. Applying
    sets ``applied_at`` once: a second apply is refused.
    """

    __tablename__ = "roster_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    filename: Mapped[str] = mapped_column(String(255), default="")
    content: Mapped[str] = mapped_column(Text, deferred=True)
    rows: Mapped[list] = mapped_column(JSON, default=list, deferred=True)
    summary: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    applied_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    partner = relationship("Partner", lazy="raise")
    uploaded_by = relationship("User", foreign_keys=[uploaded_by_id], lazy="raise")
    applied_by = relationship("User", foreign_keys=[applied_by_id], lazy="raise")

    @property
    def is_applied(self) -> bool:
        return self.applied_at is not None

    def __repr__(self):
        return f"<RosterImport {self.id} {self.filename!r}>"

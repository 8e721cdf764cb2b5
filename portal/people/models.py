"""People: company staff and partner agents and trainers."""

from datetime import date, datetime

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from werkzeug.security import check_password_hash, generate_password_hash

from portal.access.roles import HasRole
from portal.core.clock import UTCDateTime, utcnow
from portal.extensions import db
from portal.partners.models import Partner, Team


def hash_password(password: str) -> str:
    """Hash with scrypt, Werkzeug's default KDF (tests configure a cheaper work factor)."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def normalize_email(email: str) -> str:
    """Emails are unique case-insensitively: they are stored trimmed and lower-cased."""
    return (email or "").strip().lower()


class User(HasRole, UserMixin, db.Model):
    __tablename__ = "user"
    __table_args__ = (
        CheckConstraint(
            "(role IN ('admin', 'prm') AND partner_id IS NULL) OR "
            "(role IN ('trainer', 'agent') AND partner_id IS NOT NULL)",
            name="staff_have_no_partner",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16), index=True)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"), index=True)
    language: Mapped[str] = mapped_column(String(8), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    hire_date: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # Bumped when the password changes or the account is deactivated: every session and
    # remember-me cookie carries it, so older ones stop working, and so do used links.
    auth_version: Mapped[int] = mapped_column(Integer, default=1)
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    partner: Mapped[Partner | None] = relationship()
    team: Mapped[Team | None] = relationship()

    @validates("email")
    def _normalize_email(self, _key, value):
        return normalize_email(value)

    @property
    def is_active(self) -> bool:
        """Flask-Login's gate: deactivated people, and people of a paused partner, are out."""
        return bool(self.active) and (self.partner_id is None or self.partner.active)

    @property
    def has_password(self) -> bool:
        return self.password_hash is not None

    @property
    def status(self) -> str:
        """'active', 'invited' (no password yet) or 'deactivated'."""
        if not self.active:
            return "deactivated"
        return "active" if self.has_password else "invited"

    def get_id(self) -> str:
        return f"{self.id}:{self.auth_version}"

    def set_password(self, password: str) -> None:
        """Hash the password and end every other session."""
        self.password_hash = hash_password(password)
        self.auth_version = (self.auth_version or 1) + 1

    def check_password(self, password: str) -> bool:
        return self.password_hash is not None and check_password_hash(self.password_hash, password)

    def __repr__(self):
        return f"<User {self.email}>"

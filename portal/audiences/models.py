"""Audiences: who a document (and later announcements, requirements, paths) is for.

An audience with no rules is everyone. Otherwise a person is in it when they match every
dimension that has rules: a *place* (one of the chosen partners, or one of the chosen teams),
one of the chosen roles, one of the chosen languages. Each dimension is its own small table so
that "who is in this audience" is one set-based SQL predicate (see ``services``).
"""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.clock import UTCDateTime, utcnow
from portal.extensions import db
from portal.partners.models import Partner, Team


class Audience(db.Model):
    __tablename__ = "audience"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # selectin: loading any number of audiences costs a fixed number of queries.
    partner_links: Mapped[list["AudiencePartner"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )
    team_links: Mapped[list["AudienceTeam"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )
    role_links: Mapped[list["AudienceRole"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )
    language_links: Mapped[list["AudienceLanguage"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def partner_ids(self) -> list[int]:
        return sorted(link.partner_id for link in self.partner_links)

    @property
    def team_ids(self) -> list[int]:
        return sorted(link.team_id for link in self.team_links)

    @property
    def roles(self) -> list[str]:
        return sorted(link.role for link in self.role_links)

    @property
    def languages(self) -> list[str]:
        return sorted(link.language for link in self.language_links)

    @property
    def is_everyone(self) -> bool:
        return not (self.partner_links or self.team_links or self.role_links or self.language_links)


class AudiencePartner(db.Model):
    __tablename__ = "audience_partner"

    audience_id: Mapped[int] = mapped_column(
        ForeignKey("audience.id", ondelete="CASCADE"), primary_key=True
    )
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"), primary_key=True, index=True)
    partner: Mapped[Partner] = relationship(lazy="joined")


class AudienceTeam(db.Model):
    __tablename__ = "audience_team"

    audience_id: Mapped[int] = mapped_column(
        ForeignKey("audience.id", ondelete="CASCADE"), primary_key=True
    )
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"), primary_key=True, index=True)
    team: Mapped[Team] = relationship(lazy="joined")


class AudienceRole(db.Model):
    __tablename__ = "audience_role"

    audience_id: Mapped[int] = mapped_column(
        ForeignKey("audience.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16), primary_key=True)


class AudienceLanguage(db.Model):
    __tablename__ = "audience_language"

    audience_id: Mapped[int] = mapped_column(
        ForeignKey("audience.id", ondelete="CASCADE"), primary_key=True
    )
    language: Mapped[str] = mapped_column(String(8), primary_key=True)

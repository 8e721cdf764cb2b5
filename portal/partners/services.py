"""Creating and changing partners and their teams."""

import re
from dataclasses import dataclass

from sqlalchemy import func, select

from portal.access.permissions import MANAGE_PARTNERS, can_manage_team
from portal.access.visibility import visible_partners
from portal.audiences.models import AudienceTeam
from portal.audit.services import Actions, record
from portal.core.errors import InvalidInput
from portal.core.locale import LANGUAGES, is_language, is_timezone
from portal.extensions import db
from portal.partners.models import Partner, Team
from portal.people.models import User

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?$")
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")


@dataclass
class PartnerDetails:
    slug: str
    name: str
    country: str | None = None
    timezone: str = "UTC"


@dataclass
class TeamDetails:
    partner_id: int | None
    name: str
    timezone: str | None = None
    language: str = "en"


def _check_partner(details: PartnerDetails, partner: Partner | None) -> dict[str, str]:
    errors = {}
    details.slug = (details.slug or "").strip().lower()
    details.name = (details.name or "").strip()
    details.country = (details.country or "").strip().upper() or None
    details.timezone = (details.timezone or "").strip() or "UTC"
    if not SLUG_RE.match(details.slug):
        errors["slug"] = (
            "Use 1-60 lower-case letters, digits and hyphens, starting and ending with a "
            "letter or digit (e.g. atlas-manila)."
        )
    else:
        clash = db.session.scalars(select(Partner).where(Partner.slug == details.slug)).first()
        if clash is not None and clash is not partner:
            errors["slug"] = f"The slug “{details.slug}” is already taken."
    if not details.name:
        errors["name"] = "Enter the partner's name."
    elif len(details.name) > 120:
        errors["name"] = "Names are at most 120 characters."
    if details.country and not COUNTRY_RE.match(details.country):
        errors["country"] = "Use the two-letter ISO country code, such as PH or CR."
    if not is_timezone(details.timezone):
        errors["timezone"] = (
            f"“{details.timezone}” is not a time zone; use a name like Asia/Manila."
        )
    return errors


def create_partner(actor, details: PartnerDetails) -> Partner:
    """Create a partner; raises InvalidInput with per-field messages."""
    if actor is not None and not MANAGE_PARTNERS(actor):
        raise InvalidInput("Only an administrator can create partners.")
    errors = _check_partner(details, None)
    if errors:
        raise InvalidInput(errors)
    partner = Partner(
        slug=details.slug, name=details.name, country=details.country, timezone=details.timezone
    )
    db.session.add(partner)
    db.session.flush()
    record(
        Actions.PARTNER_CREATED,
        actor=actor,
        partner_id=partner.id,
        target=partner,
        summary=f"Created partner {partner.name}",
    )
    return partner


def update_partner(actor, partner: Partner, details: PartnerDetails) -> None:
    """Change a partner's slug, name, country or time zone."""
    if not MANAGE_PARTNERS(actor):
        raise InvalidInput("Only an administrator can edit partners.")
    errors = _check_partner(details, partner)
    if errors:
        raise InvalidInput(errors)
    changed = [
        k
        for k in ("slug", "name", "country", "timezone")
        if getattr(partner, k) != getattr(details, k)
    ]
    for key in changed:
        setattr(partner, key, getattr(details, key))
    if changed:
        record(
            Actions.PARTNER_UPDATED,
            actor=actor,
            partner_id=partner.id,
            target=partner,
            summary=f"Updated {partner.name}: {', '.join(changed)}",
        )


def set_partner_active(actor, partner: Partner, active: bool) -> None:
    """Pause or restore a partner: while paused, none of its people can sign in."""
    if not MANAGE_PARTNERS(actor):
        raise InvalidInput("Only an administrator can deactivate partners.")
    if partner.active == active:
        return
    partner.active = active
    record(
        Actions.PARTNER_REACTIVATED if active else Actions.PARTNER_DEACTIVATED,
        actor=actor,
        partner_id=partner.id,
        target=partner,
        summary=f"{'Reactivated' if active else 'Deactivated'} partner {partner.name}",
    )


def _check_team(actor, details: TeamDetails, team: Team | None) -> tuple[dict, Partner | None]:
    errors = {}
    details.name = (details.name or "").strip()
    partner = None
    if not details.partner_id:
        errors["partner_id"] = "Choose the team's partner."
    else:
        partner = db.session.scalars(
            visible_partners(actor).where(Partner.id == details.partner_id)
        ).first()
        if partner is None:
            errors["partner_id"] = "Choose one of the partners you manage."
    if not details.name:
        errors["name"] = "Enter the team's name."
    elif len(details.name) > 120:
        errors["name"] = "Names are at most 120 characters."
    elif partner is not None:
        clash = db.session.scalars(
            select(Team).where(
                Team.partner_id == partner.id, func.lower(Team.name) == details.name.lower()
            )
        ).first()
        if clash is not None and clash is not team:
            errors["name"] = f"{partner.name} already has a team called “{details.name}”."
    if details.timezone and not is_timezone(details.timezone):
        errors["timezone"] = (
            f"“{details.timezone}” is not a time zone; use a name like Asia/Manila."
        )
    if not is_language(details.language or ""):
        errors["language"] = f"Choose one of: {', '.join(LANGUAGES)}."
    return errors, partner


def create_team(actor, details: TeamDetails) -> Team:
    """Create a team in a partner the actor manages."""
    errors, partner = _check_team(actor, details, None)
    if errors:
        raise InvalidInput(errors)
    team = Team(
        partner_id=partner.id,
        name=details.name,
        timezone=details.timezone or partner.timezone,
        language=details.language,
    )
    db.session.add(team)
    db.session.flush()
    record(
        Actions.TEAM_CREATED,
        actor=actor,
        partner_id=partner.id,
        target=team,
        summary=f"Created team {team.name} at {partner.name}",
    )
    return team


def update_team(actor, team: Team, details: TeamDetails) -> None:
    """Rename a team or change its time zone or language (it stays with its partner)."""
    if not can_manage_team(actor, team):
        raise InvalidInput("You cannot edit this team.")
    details.partner_id = team.partner_id
    errors, _ = _check_team(actor, details, team)
    if errors:
        raise InvalidInput(errors)
    changed = []
    for key in ("name", "timezone", "language"):
        value = getattr(details, key) or getattr(team, key)
        if getattr(team, key) != value:
            setattr(team, key, value)
            changed.append(key)
    if changed:
        record(
            Actions.TEAM_UPDATED,
            actor=actor,
            partner_id=team.partner_id,
            target=team,
            summary=f"Updated team {team.name}: {', '.join(changed)}",
        )


def delete_team(actor, team: Team) -> None:
    """Delete an empty team; a team with members must be emptied first."""
    if not can_manage_team(actor, team):
        raise InvalidInput("You cannot delete this team.")
    members = db.session.scalar(select(func.count()).where(User.team_id == team.id))
    if members:
        raise InvalidInput(
            f"{team.name} still has {members} member(s). Move them to another team first."
        )
    # Deleting a team an audience names would silently widen that audience to everyone.
    addressed = db.session.scalar(
        select(func.count()).select_from(AudienceTeam).where(AudienceTeam.team_id == team.id)
    )
    if addressed:
        raise InvalidInput(
            f"{team.name} is the audience of {addressed} document(s) or announcement(s). "
            "Change their audience first."
        )
    record(
        Actions.TEAM_DELETED,
        actor=actor,
        partner_id=team.partner_id,
        summary=f"Deleted team {team.name}",
        team_id=team.id,
    )
    db.session.delete(team)


def team_member_counts(team_ids) -> dict[int, int]:
    """Active members per team id (one query)."""
    if not team_ids:
        return {}
    rows = db.session.execute(
        select(User.team_id, func.count())
        .where(User.team_id.in_(list(team_ids)), User.active)
        .group_by(User.team_id)
    ).all()
    return dict(rows)

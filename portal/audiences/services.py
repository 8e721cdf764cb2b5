"""Choosing an audience, checking it, and asking who is in it, in SQL.

The rule, used for every kind of content: an audience addresses partner people (agents and
trainers). A person is in it when they match each dimension that has rules:

* place: one of the chosen partners, or one of the chosen teams (no partners and no teams: any);
* role: one of the chosen roles (none chosen: any);
* language: one of the chosen languages (none chosen: any).

:func:`audience_includes` turns that into one SQL predicate whose person arguments may be
constants (one viewer) or columns (every person, for reports), so lists and reports never loop
over people in Python.
"""

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, exists, false, or_, select

from portal.access.roles import PARTNER_ROLES, Role
from portal.audiences.models import (
    Audience,
    AudienceLanguage,
    AudiencePartner,
    AudienceRole,
    AudienceTeam,
)
from portal.core.locale import LANGUAGES
from portal.extensions import db
from portal.partners.models import Partner, Team
from portal.people.models import User

AUDIENCE_ROLES = (Role.AGENT.value, Role.TRAINER.value)


@dataclass
class AudienceSpec:
    """An audience as chosen in a form or front matter (ids, role and language codes)."""

    partner_ids: list[int] = field(default_factory=list)
    team_ids: list[int] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, audience: Audience | None) -> "AudienceSpec":
        if audience is None:
            return cls()
        return cls(audience.partner_ids, audience.team_ids, audience.roles, audience.languages)

    @property
    def is_everyone(self) -> bool:
        return not (self.partner_ids or self.team_ids or self.roles or self.languages)


def check_audience(spec: AudienceSpec, *, partner_id: int | None) -> dict[str, str]:
    """Messages for what is wrong with ``spec`` ({} when it is fine); normalizes ``spec``.

    ``partner_id`` is set for partner-local content: then the audience may only name that
    partner and its teams.
    """
    errors = {}
    spec.partner_ids = sorted(set(spec.partner_ids))
    spec.team_ids = sorted(set(spec.team_ids))
    spec.roles = sorted(set(spec.roles))
    spec.languages = sorted(set(spec.languages))
    if spec.partner_ids:
        known = set(db.session.scalars(select(Partner.id).where(Partner.id.in_(spec.partner_ids))))
        if missing := [p for p in spec.partner_ids if p not in known]:
            errors["audience_partners"] = f"Unknown partner id(s): {', '.join(map(str, missing))}."
        elif partner_id is not None and set(spec.partner_ids) - {partner_id}:
            errors["audience_partners"] = (
                "Partner-local content can only be addressed to its own partner."
            )
    if spec.team_ids:
        teams = dict(
            db.session.execute(
                select(Team.id, Team.partner_id).where(Team.id.in_(spec.team_ids))
            ).all()
        )
        if missing := [t for t in spec.team_ids if t not in teams]:
            errors["audience_teams"] = f"Unknown team id(s): {', '.join(map(str, missing))}."
        elif partner_id is not None and any(p != partner_id for p in teams.values()):
            errors["audience_teams"] = (
                "Partner-local content can only name its own partner's teams."
            )
    if bad := [r for r in spec.roles if r not in AUDIENCE_ROLES]:
        errors["audience_roles"] = (
            f"Audiences are agents and trainers; {', '.join(bad)} cannot be chosen."
        )
    if bad := [lang for lang in spec.languages if lang not in LANGUAGES]:
        errors["audience_languages"] = f"Unknown language code(s): {', '.join(bad)}."
    return errors


def apply_audience(audience: Audience, spec: AudienceSpec) -> Audience:
    """Make ``audience`` hold exactly the (already checked) rules of ``spec``."""
    audience.partner_links = [AudiencePartner(partner_id=p) for p in spec.partner_ids]
    audience.team_links = [AudienceTeam(team_id=t) for t in spec.team_ids]
    audience.role_links = [AudienceRole(role=r) for r in spec.roles]
    audience.language_links = [AudienceLanguage(language=lang) for lang in spec.languages]
    return audience


def _rules(model, audience_id, *conditions):
    # Correlated with every other table, at any depth: audience checks are nested inside
    # other subqueries (a requirement looked up per person), where automatic correlation
    # only sees the nearest enclosing select.
    return exists().where(model.audience_id == audience_id, *conditions).correlate_except(model)


def audience_includes(audience_id, partner_id, team_id, role, language) -> ColumnElement[bool]:
    """SQL: the audience ``audience_id`` includes a person with these attributes.

    Every argument may be a Python value (one person) or a column (all people, in reports).
    """
    if partner_id is None:
        return false()
    no_place = and_(~_rules(AudiencePartner, audience_id), ~_rules(AudienceTeam, audience_id))
    place = [
        no_place,
        _rules(AudiencePartner, audience_id, AudiencePartner.partner_id == partner_id),
    ]
    if team_id is not None:
        place.append(_rules(AudienceTeam, audience_id, AudienceTeam.team_id == team_id))
    return and_(
        or_(*place),
        or_(
            ~_rules(AudienceRole, audience_id),
            _rules(AudienceRole, audience_id, AudienceRole.role == role),
        ),
        or_(
            ~_rules(AudienceLanguage, audience_id),
            _rules(AudienceLanguage, audience_id, AudienceLanguage.language == language),
        ),
    )


def audience_includes_person(audience_id, person) -> ColumnElement[bool]:
    """SQL: the audience includes this one person (a User); never staff."""
    if person is None or person.role not in PARTNER_ROLES:
        return false()
    return audience_includes(
        audience_id, person.partner_id, person.team_id, person.role, person.language
    )


def audience_reaches_partner(audience_id, partner_id) -> ColumnElement[bool]:
    """SQL: the audience's place rules include some of ``partner_id``'s people (any role).

    Trainers see what is addressed to their partner, whatever role or language it names,
    because they answer for their people reading it.
    """
    if partner_id is None:
        return false()
    team_of_partner = select(Team.id).where(Team.partner_id == partner_id)
    return or_(
        and_(~_rules(AudiencePartner, audience_id), ~_rules(AudienceTeam, audience_id)),
        _rules(AudiencePartner, audience_id, AudiencePartner.partner_id == partner_id),
        _rules(AudienceTeam, audience_id, AudienceTeam.team_id.in_(team_of_partner)),
    )


def people_in_audience(audience_id, *, partner_id: int | None = None):
    """SQL select of the active partner people in the audience (optionally of one partner).

    Pass ``partner_id`` for partner-local content: only that partner's people are in it.
    """
    stmt = select(User).where(
        User.active,
        User.role.in_(AUDIENCE_ROLES),
        audience_includes(audience_id, User.partner_id, User.team_id, User.role, User.language),
    )
    if partner_id is not None:
        stmt = stmt.where(User.partner_id == partner_id)
    return stmt


def describe(audience: Audience | None) -> str:
    """The audience in words, e.g. 'Agents at Northwind Manila, in English'."""
    if audience is None or audience.is_everyone:
        return "Everyone"
    parts = []
    roles = [Role(r).label + "s" for r in audience.roles]
    parts.append(" and ".join(roles) if roles else "Everyone")
    places = [link.partner.name for link in audience.partner_links] + [
        f"{link.team.name} team" for link in audience.team_links
    ]
    if places:
        parts.append("at " + ", ".join(places))
    if audience.languages:
        parts.append("in " + ", ".join(LANGUAGES.get(lang, lang) for lang in audience.languages))
    return " ".join(parts)

"""Inviting, editing, deactivating people: the rules about who may do what to whom."""

from dataclasses import dataclass, fields
from datetime import date, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select

from portal.access.permissions import assignable_roles, can_manage_person
from portal.access.roles import Role
from portal.access.visibility import visible_partners, visible_people
from portal.audit.services import Actions, record
from portal.auth.services import send_invitation
from portal.core.errors import InvalidInput
from portal.core.locale import LANGUAGES, is_language, is_timezone
from portal.extensions import db
from portal.onboarding.enrolment import person_saved
from portal.partners.models import Partner, Team
from portal.people.models import User, normalize_email

# How far ahead a hire date may be (people are often loaded before their first day).
MAX_HIRE_DATE_AHEAD = timedelta(days=366)


@dataclass
class PersonDetails:
    """What an inviter or editor says about a person."""

    email: str
    name: str
    role: str
    partner_id: int | None = None
    team_id: int | None = None
    language: str | None = None
    timezone: str | None = None
    hire_date: date | None = None


def clean_email(value: str) -> str:
    """The address normalized, or ValueError with a message a person can act on."""
    value = (value or "").strip()
    if not value:
        raise ValueError("Enter an email address.")
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError as error:
        raise ValueError(f"“{value[:80]}” is not a valid email address: {error}") from None
    return normalize_email(result.normalized)


def check_hire_date(value: date | None, today: date | None = None) -> None:
    """ValueError unless ``value`` is empty or a plausible hire date."""
    if value is None:
        return
    today = today or date.today()
    if value > today + MAX_HIRE_DATE_AHEAD:
        raise ValueError("The hire date is more than a year away; check the year.")
    if value.year < 1950:
        raise ValueError("The hire date is too far in the past; check the year.")


def _check(actor, details: PersonDetails, person: User | None) -> tuple[dict, Partner | None]:
    errors: dict[str, str] = {}
    try:
        details.email = clean_email(details.email)
    except ValueError as error:
        errors["email"] = str(error)
    else:
        clash = db.session.scalars(select(User).where(User.email == details.email)).first()
        if clash is not None and clash is not person:
            errors["email"] = "Someone already has this email address."

    details.name = (details.name or "").strip()
    if not details.name:
        errors["name"] = "Enter the person's name."
    elif len(details.name) > 120:
        errors["name"] = "Names are at most 120 characters."

    try:
        role = Role(details.role)
    except ValueError:
        role = None
        errors["role"] = "Choose a role."
    allowed = assignable_roles(actor)
    keeping_role = person is not None and person.role == details.role
    if role is not None and role not in allowed and not keeping_role:
        errors["role"] = f"You cannot give the role “{role.label}”."

    partner = None
    if role is not None and role.is_staff:
        if details.partner_id or details.team_id:
            errors["partner_id"] = "Company staff (administrators and PRMs) belong to no partner."
    elif role is not None:
        if not details.partner_id:
            errors["partner_id"] = "Choose the person's partner."
        else:
            partner = db.session.scalars(
                visible_partners(actor).where(Partner.id == details.partner_id)
            ).first()
            if partner is None:
                errors["partner_id"] = "Choose one of the partners you manage."
            elif not partner.active and (person is None or person.partner_id != partner.id):
                errors["partner_id"] = "This partner is deactivated."
        if details.team_id and partner is not None:
            team = db.session.get(Team, details.team_id)
            if team is None or team.partner_id != partner.id:
                errors["team_id"] = "Choose a team of the person's partner."

    if details.language and not is_language(details.language):
        errors["language"] = f"Choose one of: {', '.join(LANGUAGES)}."
    if details.timezone and not is_timezone(details.timezone):
        errors["timezone"] = "Choose a time zone from the list, such as Europe/Vilnius."
    try:
        check_hire_date(details.hire_date)
    except ValueError as error:
        errors["hire_date"] = str(error)
    return errors, partner


def _defaults(details: PersonDetails, partner: Partner | None) -> None:
    team = db.session.get(Team, details.team_id) if details.team_id else None
    if not details.timezone:
        details.timezone = (team and team.timezone) or (partner and partner.timezone) or "UTC"
    if not details.language:
        details.language = (team and team.language) or "en"
    if partner is None:
        details.team_id = None


def invite_person(actor, details: PersonDetails, *, send=True) -> User:
    """Create an account without a password and email its owner an invitation.

    Raises InvalidInput (nothing written) when the details or the actor's rights do not allow it.
    """
    errors, partner = _check(actor, details, None)
    if errors:
        raise InvalidInput(errors)
    _defaults(details, partner)
    person = User(**{f.name: getattr(details, f.name) for f in fields(details)})
    db.session.add(person)
    db.session.flush()
    record(
        Actions.PERSON_CREATED,
        actor=actor,
        partner_id=person.partner_id,
        target=person,
        summary=f"Created {person.email} ({person.role})",
    )
    person_saved(person)
    if send:
        send_invitation(person, actor=actor)
    return person


def update_person(actor, person: User, details: PersonDetails) -> list[str]:
    """Apply edits to ``person``; returns the names of the fields that changed."""
    if not can_manage_person(actor, person):
        raise InvalidInput("You cannot edit this person.")
    if person.id == getattr(actor, "id", None) and details.role != person.role:
        raise InvalidInput({"role": "You cannot change your own role."})
    errors, partner = _check(actor, details, person)
    if errors:
        raise InvalidInput(errors)
    _defaults(details, partner)
    changed = []
    old_role = person.role
    for f in fields(details):
        new = getattr(details, f.name)
        if getattr(person, f.name) != new:
            setattr(person, f.name, new)
            changed.append(f.name)
    if not changed:
        return changed
    if "role" in changed:
        record(
            Actions.ROLE_CHANGED,
            actor=actor,
            partner_id=person.partner_id,
            target=person,
            summary=f"{person.email}: {old_role} → {person.role}",
            old=old_role,
            new=person.role,
        )
    record(
        Actions.PERSON_UPDATED,
        actor=actor,
        partner_id=person.partner_id,
        target=person,
        summary=f"Updated {person.email}: {', '.join(changed)}",
        fields=changed,
    )
    db.session.flush()
    person_saved(person, changed)
    return changed


def set_active(actor, person: User, active: bool) -> None:
    """Deactivate (ending every session) or reactivate ``person``."""
    if not can_manage_person(actor, person):
        raise InvalidInput("You cannot change this person's access.")
    if person.id == getattr(actor, "id", None):
        raise InvalidInput("You cannot deactivate your own account.")
    if person.active == active:
        return
    if active and person.partner_id:
        partner = db.session.get(Partner, person.partner_id)
        if not partner.active:
            raise InvalidInput("Reactivate the person's partner first.")
    person.active = active
    person.auth_version += 1  # ends every session and makes earlier links unusable
    record(
        Actions.REACTIVATED if active else Actions.DEACTIVATED,
        actor=actor,
        partner_id=person.partner_id,
        target=person,
        summary=f"{'Reactivated' if active else 'Deactivated'} {person.email}",
    )


def resend_invitation(actor, person: User) -> str:
    """Send a fresh invitation to someone who has not set a password yet."""
    if not can_manage_person(actor, person):
        raise InvalidInput("You cannot invite this person.")
    if not person.active:
        raise InvalidInput("Reactivate this person before inviting them.")
    if person.has_password:
        raise InvalidInput(
            f"{person.name} has already set a password; they can reset it from the sign-in page."
        )
    return send_invitation(person, actor=actor)


def people_counts_by_partner(viewer) -> dict[int, dict[str, int]]:
    """Per partner: active people, trainers, and invitations not yet accepted (one query).

    Counts only the people ``viewer`` may see.
    """
    people = visible_people(viewer).subquery()
    rows = db.session.execute(
        select(
            people.c.partner_id,
            func.count().filter(people.c.active),
            func.count().filter(people.c.active, people.c.role == Role.TRAINER.value),
            func.count().filter(people.c.active, people.c.password_hash.is_(None)),
        )
        .where(people.c.partner_id.is_not(None))
        .group_by(people.c.partner_id)
    ).all()
    return {pid: {"active": a, "trainers": t, "invited": i} for pid, a, t, i in rows}


def update_profile(user: User, *, name: str, language: str, timezone: str) -> None:
    """A person's own name, language and time zone."""
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = "Enter your name."
    if not is_language(language or ""):
        errors["language"] = "Choose a language from the list."
    if not is_timezone(timezone or ""):
        errors["timezone"] = "Choose a time zone from the list."
    if errors:
        raise InvalidInput(errors)
    user.name, user.language, user.timezone = name[:120], language, timezone


def filter_people(stmt, *, q=None, partner_id=None, team_id=None, role=None, status=None):
    """Narrow a people query (already limited by the visibility gate) by the list's filters."""
    if q:
        like = f"%{q.strip().lower()}%"
        stmt = stmt.where(func.lower(User.name).like(like) | User.email.like(like))
    if partner_id:
        stmt = stmt.where(User.partner_id == partner_id)
    if team_id:
        stmt = stmt.where(User.team_id == team_id)
    if role:
        stmt = stmt.where(User.role == role)
    if status == "active":
        stmt = stmt.where(User.active, User.password_hash.is_not(None))
    elif status == "invited":
        stmt = stmt.where(User.active, User.password_hash.is_(None))
    elif status == "deactivated":
        stmt = stmt.where(~User.active)
    return stmt

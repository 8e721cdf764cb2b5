"""Checking each row of a roster against the portal: what it would do, or why it cannot.

One pass over the rows with a fixed number of queries, whatever the file's length: the
partner's teams once, existing people by email in chunks.
"""

import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache

from sqlalchemy import select

from portal.access.permissions import assignable_roles
from portal.access.roles import ROLE_LABELS, Role
from portal.core.locale import LANGUAGES, timezone_names
from portal.extensions import db
from portal.partners.models import Partner, Team
from portal.people.models import User
from portal.people.services import check_hire_date, clean_email
from portal.roster.reading import RosterRow

EMAIL_CHUNK = 500  # emails per IN (...) query: well under every database's parameter limit
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
ROLE_NAMES = {r.value: r for r in Role} | {label.casefold(): r for r, label in ROLE_LABELS.items()}
LANGUAGE_NAMES = {c: c for c in LANGUAGES} | {n.casefold(): c for c, n in LANGUAGES.items()}
# What a row may change on a person, and how the preview names it.
FIELD_LABELS = {
    "name": "name",
    "team_id": "team",
    "role": "role",
    "hire_date": "hire date",
    "language": "language",
    "timezone": "time zone",
}


@dataclass
class RowPlan:
    """What one row of the file would do: ``action`` is new, update, unchanged or error."""

    number: int
    email: str
    name: str
    action: str = "error"
    errors: list[str] = field(default_factory=list)
    changes: list[list[str]] = field(default_factory=list)  # [label, old, new]
    notes: list[str] = field(default_factory=list)
    values: dict = field(default_factory=dict)  # the person's attributes after applying
    person: User | None = None
    email_ok: bool = False

    def as_json(self, teams_by_id: dict[int, Team]) -> dict:
        team = teams_by_id.get(self.values.get("team_id"))
        return {
            "row": self.number,
            "email": self.email,
            "name": self.name,
            "action": self.action,
            "team": team.name if team else "",
            "role": self.values.get("role", ""),
            "errors": self.errors,
            "changes": self.changes,
            "notes": self.notes,
        }


def count(plans: list[RowPlan]) -> dict[str, int]:
    """How many rows are new, updated, unchanged and with errors."""
    totals = {"new": 0, "update": 0, "unchanged": 0, "error": 0}
    for plan in plans:
        totals[plan.action] += 1
    return {
        "rows": len(plans),
        "new": totals["new"],
        "updated": totals["update"],
        "unchanged": totals["unchanged"],
        "errors": totals["error"],
    }


def people_by_email(emails) -> dict[str, User]:
    """Existing accounts with these (normalized) emails, in a few chunked queries."""
    emails = sorted(set(emails))
    found = {}
    for start in range(0, len(emails), EMAIL_CHUNK):
        chunk = emails[start : start + EMAIL_CHUNK]
        for person in db.session.scalars(select(User).where(User.email.in_(chunk))):
            found[person.email] = person
    return found


def plan_rows(actor, partner: Partner, rows: list[RosterRow]):
    """What each row would do for ``partner``; returns (plans, the partner's teams by id).

    Runs a fixed number of queries however long the file is: the partner's teams once and
    existing people by email in chunks.
    """
    teams = list(db.session.scalars(select(Team).where(Team.partner_id == partner.id)))
    teams_by_name = {t.name.strip().casefold(): t for t in teams}
    teams_by_id = {t.id: t for t in teams}
    plans = [_start(row) for row in rows]
    seen: dict[str, list[int]] = {}
    for plan in plans:
        if plan.email_ok:
            seen.setdefault(plan.email, []).append(plan.number)
    existing = people_by_email(seen)
    context = _Context(
        actor, partner, teams, teams_by_name, teams_by_id, existing, assignable_roles(actor)
    )
    for plan, row in zip(plans, rows, strict=True):
        others = [n for n in seen.get(plan.email, ()) if n != plan.number]
        if others:
            plan.errors.append(
                f"The same email is also on row {', '.join(map(str, others))}; "
                "list each person once."
            )
        _check_row(context, plan, row.cells)
    return plans, teams_by_id


@dataclass
class _Context:
    actor: object
    partner: Partner
    teams: list[Team]
    teams_by_name: dict[str, Team]
    teams_by_id: dict[int, Team]
    existing: dict[str, User]
    roles: list[Role]


def _start(row: RosterRow) -> RowPlan:
    raw_email = row.cells["email"]
    plan = RowPlan(number=row.number, email=raw_email, name=row.cells["name"])
    if row.problem:
        plan.errors.append(row.problem)
    try:
        plan.email = clean_email(raw_email)
        plan.email_ok = True
    except ValueError as error:
        plan.errors.append(str(error))
    return plan


def _check_row(ctx: _Context, plan: RowPlan, cells: dict[str, str]) -> None:
    person = ctx.existing.get(plan.email)
    if person is not None and person.partner_id != ctx.partner.id:
        plan.errors.append("This email is already used by another account.")
        person = None
    given = {}  # attribute -> value, for the cells that are filled in

    if not plan.name:
        plan.errors.append("The name is empty.")
    elif len(plan.name) > 120:
        plan.errors.append("The name is longer than 120 characters.")
    given["name"] = plan.name

    for column, attribute, check in (
        ("team", "team_id", _team),
        ("role", "role", _role),
        ("hire_date", "hire_date", _hire_date),
        ("language", "language", _language),
        ("timezone", "timezone", _timezone),
    ):
        raw = cells[column]
        if not raw:
            continue
        try:
            given[attribute] = check(ctx, raw)
        except ValueError as error:
            plan.errors.append(str(error))

    role = given.get("role")
    is_actor = person is not None and person.id == getattr(ctx.actor, "id", None)
    if is_actor and role is not None and role != person.role:
        plan.errors.append("You cannot change your own role.")
    if plan.errors:
        plan.action = "error"
        return
    if person is None:
        _plan_new(ctx, plan, given)
    else:
        _plan_update(ctx, plan, person, given)


def _plan_new(ctx: _Context, plan: RowPlan, given: dict) -> None:
    team = ctx.teams_by_id.get(given.get("team_id"))
    plan.action = "new"
    plan.values = {
        "name": given["name"],
        "team_id": given.get("team_id"),
        "role": given.get("role", Role.AGENT.value),
        "hire_date": given.get("hire_date"),
        "language": given.get("language") or (team and team.language) or "en",
        "timezone": given.get("timezone")
        or (team and team.timezone)
        or ctx.partner.timezone
        or "UTC",
    }


def _plan_update(ctx: _Context, plan: RowPlan, person: User, given: dict) -> None:
    plan.person = person
    plan.values = {attribute: getattr(person, attribute) for attribute in FIELD_LABELS}
    for attribute, new in given.items():
        old = getattr(person, attribute)
        if new != old:
            plan.values[attribute] = new
            plan.changes.append(
                [FIELD_LABELS[attribute], _shown(ctx, attribute, old), _shown(ctx, attribute, new)]
            )
    plan.action = "update" if plan.changes else "unchanged"
    if not person.active:
        plan.notes.append("Deactivated: the details are updated, access stays off.")


def _shown(ctx: _Context, attribute: str, value) -> str:
    if value is None or value == "":
        return "—"
    if attribute == "team_id":
        team = ctx.teams_by_id.get(value)
        return team.name if team else f"team #{value}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _quoted(raw: str) -> str:
    return f"“{raw if len(raw) <= 60 else raw[:59] + '…'}”"


def _team(ctx: _Context, raw: str) -> int:
    team = ctx.teams_by_name.get(raw.casefold())
    if team is not None:
        return team.id
    if not ctx.teams:
        hint = "It has no teams yet: create them first, or leave team blank."
    elif len(ctx.teams) <= 8:
        hint = "Its teams are: " + ", ".join(sorted(t.name for t in ctx.teams)) + "."
    else:
        hint = "Check the spelling against its list of teams."
    raise ValueError(f"{ctx.partner.name} has no team {_quoted(raw)}. {hint}")


def _role(ctx: _Context, raw: str) -> str:
    role = ROLE_NAMES.get(raw.casefold())
    if role is None:
        raise ValueError(f"Unknown role {_quoted(raw)}: use agent or trainer.")
    if role not in ctx.roles:
        raise ValueError(f"You cannot give the role “{role.label}”: use agent or trainer.")
    if role.is_staff:
        raise ValueError(
            f"{role.label}s are company staff and belong to no partner: use agent or trainer."
        )
    return role.value


def _hire_date(ctx: _Context, raw: str) -> date:
    try:
        if not ISO_DATE.fullmatch(raw):
            raise ValueError
        value = date.fromisoformat(raw)
    except ValueError:
        raise ValueError(
            f"The hire date {_quoted(raw)} is not a date: write it as YYYY-MM-DD, e.g. 2026-01-05."
        ) from None
    check_hire_date(value)
    return value


def _language(ctx: _Context, raw: str) -> str:
    code = LANGUAGE_NAMES.get(raw.casefold())
    if code is None:
        raise ValueError(f"Unknown language {_quoted(raw)}: use one of {', '.join(LANGUAGES)}.")
    return code


@cache
def _timezones() -> dict[str, str]:
    return {name.casefold(): name for name in timezone_names()}


def _timezone(ctx: _Context, raw: str) -> str:
    name = _timezones().get(raw.casefold())
    if name is None:
        raise ValueError(
            f"Unknown time zone {_quoted(raw)}: use a name such as Europe/Vilnius or Asia/Manila."
        )
    return name

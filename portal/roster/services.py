"""Roster import: upload a CSV, preview what it would do, then apply it in one go.

Nothing is written to people until :func:`apply_import`; an upload only stores the file and
its preview in a :class:`RosterImport`. Applying re-checks every row against the database as
it is then, skips rows with errors, and can run once. Re-importing a file that is already in
the portal changes nothing. Blank optional cells keep an existing person's value; for a new
person they take the defaults of their team and partner, and the role ``agent``.
"""

from sqlalchemy import update

from portal.access.permissions import IMPORT_ROSTER
from portal.access.visibility import visible_partners
from portal.audit.services import Actions, record
from portal.auth.services import send_invitation
from portal.core.clock import utcnow
from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.onboarding.enrolment import enrol_new_hires
from portal.partners.models import Partner
from portal.people.models import User
from portal.roster.models import RosterImport
from portal.roster.planning import count, plan_rows
from portal.roster.reading import COLUMNS, parse, read_roster


def importable_partners(actor) -> list[Partner]:
    """Active partners ``actor`` may import a roster into, by name."""
    if not IMPORT_ROSTER(actor):
        return []
    stmt = visible_partners(actor).where(Partner.active).order_by(Partner.name)
    return list(db.session.scalars(stmt))


def _partner_for(actor, partner_id) -> Partner:
    partner = None
    if IMPORT_ROSTER(actor) and isinstance(partner_id, int):
        partner = db.session.scalars(
            visible_partners(actor).where(Partner.id == partner_id)
        ).first()
    if partner is None:
        raise InvalidInput({"partner_id": "Choose one of the partners you manage."})
    if not partner.active:
        raise InvalidInput(
            {"partner_id": f"{partner.name} is deactivated; reactivate it before importing."}
        )
    return partner


def create_import(actor, partner_id: int | None, filename: str, data: bytes) -> RosterImport:
    """Read an uploaded roster and store it with its preview; writes no person.

    Raises InvalidInput (keys ``partner_id`` and ``file``) when the partner is not one the
    actor may import into, or the file cannot be used as a roster.
    """
    errors = {}
    try:
        partner = _partner_for(actor, partner_id)
    except InvalidInput as error:
        errors.update(error.errors)
    try:
        roster = read_roster(data)
    except InvalidInput as error:
        errors.update(error.errors)
    if errors:
        raise InvalidInput(errors)
    plans, teams_by_id = plan_rows(actor, partner, roster.rows)
    roster_import = RosterImport(
        partner_id=partner.id,
        uploaded_by_id=actor.id,
        filename=(filename or "roster.csv")[:255],
        content=roster.text,
        rows=[plan.as_json(teams_by_id) for plan in plans],
        summary=count(plans),
    )
    db.session.add(roster_import)
    db.session.flush()
    return roster_import


def _already_applied(roster_import: RosterImport) -> InvalidInput:
    when = roster_import.applied_at.strftime("%d %b %Y, %H:%M UTC")
    return InvalidInput(
        f"This import was already applied on {when}. To import the file again, upload it again."
    )


def apply_import(actor, roster_import: RosterImport, *, send_invitations: bool = True) -> dict:
    """Create and update the people of a previewed import; returns the counts.

    Every row is checked again against the database as it is now; rows with errors are
    skipped. New people get an invitation email when ``send_invitations``. Writes one
    ``ROSTER_IMPORTED`` audit event plus the usual per-person events, and flushes: the caller
    commits once. Raises InvalidInput if the import was applied before or the actor may no
    longer import into its partner.
    """
    if roster_import.applied_at is not None:
        raise _already_applied(roster_import)
    partner = _partner_for(actor, roster_import.partner_id)
    now = utcnow()
    # Claim the import first, so two clicks (or two people) cannot both apply it.
    claimed = db.session.execute(
        update(RosterImport)
        .where(RosterImport.id == roster_import.id, RosterImport.applied_at.is_(None))
        .values(applied_at=now, applied_by_id=actor.id)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        db.session.refresh(roster_import)
        raise _already_applied(roster_import)

    plans, teams_by_id = plan_rows(actor, partner, parse(roster_import.content).rows)
    created = []
    for plan in plans:
        if plan.action == "new":
            plan.person = User(email=plan.email, partner_id=partner.id, **plan.values)
            created.append(plan.person)
        elif plan.action == "update":
            for attribute, value in plan.values.items():
                setattr(plan.person, attribute, value)
    db.session.add_all(created)
    db.session.flush()
    _record_people(actor, partner, plans)
    saved = [plan.person.id for plan in plans if plan.action in ("new", "update")]
    if saved:
        enrol_new_hires(user_ids=saved)
    invited = 0
    if send_invitations:
        for person in created:
            send_invitation(person, actor=actor)
            invited += 1

    summary = count(plans) | {"invited": invited}
    roster_import.applied_at = now
    roster_import.applied_by_id = actor.id
    roster_import.rows = [plan.as_json(teams_by_id) for plan in plans]
    roster_import.summary = summary
    record(
        Actions.ROSTER_IMPORTED,
        actor=actor,
        partner_id=partner.id,
        target=roster_import,
        summary=(
            f"Imported {roster_import.filename} into {partner.name}: {summary['new']} new, "
            f"{summary['updated']} updated, {summary['unchanged']} unchanged, "
            f"{summary['errors']} skipped"
        ),
        **summary,
    )
    db.session.flush()
    return summary


def _record_people(actor, partner, plans) -> None:
    for plan in plans:
        person = plan.person
        if plan.action == "new":
            record(
                Actions.PERSON_CREATED,
                actor=actor,
                partner_id=partner.id,
                target=person,
                summary=f"Created {plan.email} ({plan.values['role']}) by roster import",
            )
        elif plan.action == "update":
            fields = [label for label, _old, _new in plan.changes]
            role_change = next((c for c in plan.changes if c[0] == "role"), None)
            if role_change:
                record(
                    Actions.ROLE_CHANGED,
                    actor=actor,
                    partner_id=partner.id,
                    target=person,
                    summary=f"{person.email}: {role_change[1]} → {role_change[2]}",
                    old=role_change[1],
                    new=role_change[2],
                )
            record(
                Actions.PERSON_UPDATED,
                actor=actor,
                partner_id=partner.id,
                target=person,
                summary=f"Updated {person.email} by roster import: {', '.join(fields)}",
                fields=fields,
            )


def template_csv() -> str:
    """A roster file to start from: the header row and one example person."""
    example = ("ana.santos@example.com", "Ana Santos", "", "agent", "2026-01-05", "en", "")
    return ",".join(COLUMNS) + "\r\n" + ",".join(example) + "\r\n"

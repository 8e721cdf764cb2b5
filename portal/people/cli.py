"""``flask --app wsgi users …``"""

from datetime import datetime

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from portal.access.roles import Role
from portal.auth.services import invitation_link
from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.partners.cli import fail
from portal.partners.models import Partner, Team
from portal.people import services

users_cli = AppGroup("users", help="Create people and invite them.")


class _Operator:
    """The command line acts with an administrator's rights."""

    id = None
    email = None
    name = "An administrator"
    partner_id = None
    is_authenticated = True
    active = True
    is_staff = True
    role_enum = Role.ADMIN


def _date(_ctx, _param, value):
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD.") from None


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--partner", "partner_slug", default=None, help="Partner slug (trainers, agents).")
@click.option("--team", default=None, help="Team name within the partner.")
@click.option("--hire-date", default=None, callback=_date, help="YYYY-MM-DD.")
@click.option("--language", default=None, help="Language code, e.g. en.")
@click.option("--timezone", default=None, help="IANA time zone; defaults to the team's.")
@click.option(
    "--password", default=None, help="Set a password; without it an invitation link is printed."
)
def create(email, name, role, partner_slug, team, hire_date, language, timezone, password):
    """Create a person; prints an invitation link unless --password is given."""
    partner = team_obj = None
    if partner_slug:
        partner = db.session.scalars(select(Partner).where(Partner.slug == partner_slug)).first()
        if partner is None:
            fail(InvalidInput({"partner": f"No partner has the slug {partner_slug!r}."}))
    if team:
        if partner is None:
            fail(InvalidInput({"team": "Give --partner with --team."}))
        team_obj = db.session.scalars(
            select(Team).where(Team.partner_id == partner.id, func.lower(Team.name) == team.lower())
        ).first()
        if team_obj is None:
            fail(InvalidInput({"team": f"{partner.name} has no team called {team!r}."}))
    if password is not None and len(password) < 10:
        fail(InvalidInput({"password": "Use at least 10 characters."}))
    details = services.PersonDetails(
        email=email,
        name=name,
        role=role,
        partner_id=partner and partner.id,
        team_id=team_obj and team_obj.id,
        language=language,
        timezone=timezone,
        hire_date=hire_date,
    )
    try:
        person = services.invite_person(_Operator(), details, send=False)
    except InvalidInput as error:
        db.session.rollback()
        options = {"partner_id": "partner", "team_id": "team", "hire_date": "hire-date"}
        fail(InvalidInput({options.get(k, k): v for k, v in error.errors.items()}))
    if password:
        person.set_password(password)
        db.session.commit()
        click.echo(f"Created {person.email} ({role}) with the given password.")
        return
    db.session.commit()
    click.echo(f"Created {person.email} ({role}). Invitation link (works once):")
    click.echo(invitation_link(person))

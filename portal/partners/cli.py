"""``flask --app wsgi partners …``"""

import click
from flask.cli import AppGroup

from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.partners import services

partners_cli = AppGroup("partners", help="Create partners (BPO vendors).")


def fail(error: InvalidInput):
    """Print every message of a refused command and exit non-zero."""
    for field, message in error.errors.items():
        click.echo(f"Error: {'--' + field + ': ' if field else ''}{message}", err=True)
    raise SystemExit(1)


@partners_cli.command("create")
@click.option("--slug", required=True, help="Short unique name, e.g. atlas-manila.")
@click.option("--name", required=True, help="The partner's display name.")
@click.option("--country", default=None, help="Two-letter ISO country code, e.g. PH.")
@click.option("--timezone", default="UTC", show_default=True, help="IANA time zone.")
def create(slug, name, country, timezone):
    """Create a partner."""
    details = services.PartnerDetails(slug=slug, name=name, country=country, timezone=timezone)
    try:
        partner = services.create_partner(None, details)
    except InvalidInput as error:
        db.session.rollback()
        fail(error)
    db.session.commit()
    click.echo(f"Created partner {partner.name} ({partner.slug}), id {partner.id}.")

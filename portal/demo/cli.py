"""``flask --app wsgi demo …``"""

import click
from flask.cli import AppGroup

from portal.core.errors import InvalidInput
from portal.demo import services
from portal.demo.announcements import load_announcements
from portal.demo.library import load_library
from portal.demo.onboarding import load_onboarding
from portal.demo.training import load_training
from portal.extensions import db
from portal.library.cli import tally
from portal.partners.cli import fail

demo_cli = AppGroup("demo", help="Demo data for trying the portal.")


@demo_cli.command("load")
def load():
    """Load the demo partners, teams, people, library and announcements; safe to run again
    (it adds only what is missing).

    The library comes from the content/ folder (as `content sync` loads it), with some history
    and acknowledgements added. Prints the demo sign-ins every time.
    """
    try:
        result = services.load_demo()
        library = load_library()
        announcements = load_announcements()
        training = load_training()
        onboarding = load_onboarding()
    except InvalidInput as error:
        db.session.rollback()
        fail(error)
    db.session.commit()

    width = max(len(kind) for kind in ("partners", "teams", "people"))
    for kind in ("partners", "teams", "people"):
        count = getattr(result, kind)
        label = f"{kind.capitalize()}:".ljust(width + 1)
        click.echo(f"{label} {count.created:3d} created, {count.present:3d} already present")
    _print_library(library)
    click.echo(f"Announcements: {announcements} created")
    click.echo(f"Training:  {training.summary}")
    click.echo(f"Onboarding: {onboarding.summary}")
    if not (
        result.created_anything
        or library.created_anything
        or announcements
        or training.created_anything
        or onboarding.created_anything
    ):
        click.echo("The demo data was already loaded; nothing changed.")
    click.echo()
    _print_sign_ins(result.sign_ins)
    if library.errors:
        raise SystemExit(1)


def _print_library(library):
    click.echo(f"Library:   content/ files: {tally(library.sync_results)}")
    click.echo(
        f"           {library.acknowledgements} demo acknowledgements and "
        f"{library.local_documents} partner-local document(s) added"
    )
    for failed in library.errors:
        click.echo(f"Error: content/{failed.file}: {failed.message}", err=True)


def _print_sign_ins(rows):
    header = ("role", "email", "password")
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(3)]
    click.echo(
        f"Demo sign-ins (every active demo account uses the password {services.DEMO_PASSWORD}):"
    )
    click.echo()
    for row in (header, tuple("-" * w for w in widths), *rows):
        click.echo(
            "  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        )

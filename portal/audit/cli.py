"""``flask --app wsgi audit verify``: prove the audit log was not edited or cut."""

import click
from flask.cli import AppGroup

from portal.audit import services
from portal.core.cli import progress_every

audit_cli = AppGroup("audit", help="Check the audit log.")


@audit_cli.command("verify")
@progress_every("events")
def verify(every):
    """Check every audit event against its hash and the one before it.

    Exits 0 and prints the number of events and the last hash when the chain is whole;
    exits 1 naming the first event that was edited, deleted or inserted otherwise.
    """
    check = services.verify_chain(
        every=every, on_progress=lambda n: click.echo(f"Checked {n} events…", err=True)
    )
    if not check.ok:
        click.echo(f"Error: {check.problem}", err=True)
        click.echo(f"The {check.checked} events before it are intact.", err=True)
        raise SystemExit(1)
    if check.last_id is None:
        click.echo("OK: the audit log is empty.")
        return
    click.echo(
        f"OK: {check.checked} events, each matching its hash and the one before it. "
        f"Last event {check.last_id}, hash {check.last_hash}."
    )

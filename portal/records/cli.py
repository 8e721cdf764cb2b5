"""``flask --app wsgi records export PATH`` and ``records verify PATH``."""

import click
from flask.cli import AppGroup

from portal.core.cli import progress_every
from portal.core.errors import InvalidInput
from portal.partners.cli import fail
from portal.records import services

records_cli = AppGroup("records", help="Export compliance records to a file, and check one.")

_every = progress_every("rows")


def _describe(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {n}" for name, n in counts.items() if n) or "no records"


@records_cli.command("export")
@click.argument("path")
@click.option("--force", is_flag=True, help="Replace PATH if it exists.")
@_every
def export(path, force, every):
    """Write every compliance record to PATH (JSON Lines, sealed with its SHA-256).

    Acknowledgements, document reviews, announcement reads and acknowledgements, lesson
    progress, quiz attempts, completions, onboarding start changes and sign-offs, and the
    audit log, with the people, partners and content they name. Check the file later with
    `records verify PATH`.
    """

    def progress(kind, count):
        click.echo(f"  {kind}: {count} exported", err=True)

    try:
        summary = services.export_records(path, force=force, every=every, on_progress=progress)
    except InvalidInput as error:
        fail(error)
    head = summary.chain_head
    click.echo(f"Exported {summary.total} rows to {summary.path}: {_describe(summary.counts)}.")
    click.echo(f"SHA-256 {summary.sha256}")
    if head.get("event_id") is not None:
        click.echo(f"Audit chain head: event {head['event_id']}, hash {head['hash']}.")


@records_cli.command("verify")
@click.argument("path")
@_every
def verify(path, every):
    """Check a file `records export` wrote: its seal, every line and the counts per type."""
    try:
        summary = services.verify_export(
            path, every=every, on_progress=lambda n: click.echo(f"  read {n} lines", err=True)
        )
    except services.DamagedExport as error:
        click.echo(f"Error: {error}", err=True)
        raise SystemExit(1) from None
    click.echo(
        f"OK: {path} is intact: {summary.total} rows ({_describe(summary.counts)}), "
        f"exported {summary.exported_at}."
    )
    click.echo(f"SHA-256 {summary.sha256}")
    head = summary.chain_head
    if head.get("event_id") is not None:
        click.echo(f"Audit chain head at export: event {head['event_id']}, hash {head['hash']}.")

"""`flask --app wsgi reminders send`: the reminder run, meant for cron every hour."""

import sys
from datetime import date

import click
from flask.cli import AppGroup

from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.partners.cli import fail
from portal.reminders import sending, services

reminders_cli = AppGroup("reminders", help="Remind people of what is due.")

BATCH_SIZE = 200  # people per transaction (and per step of the progress bar)


def _parse_today(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(InvalidInput({"today": f"“{value}” is not a date; use YYYY-MM-DD."}))


@reminders_cli.command("send")
@click.option("--today", default=None, help="Run as if every person's local date were YYYY-MM-DD.")
@click.option("--dry-run", is_flag=True, help="Count what would be sent; write nothing.")
def send(today, dry_run):
    """Send today's reminders: one digest per person, one overdue digest per trainer.

    Safe to run every hour, and twice at once: nobody gets the same reminder twice. Each
    person's "today" is their own local date unless --today pins it.
    """
    pinned = _parse_today(today)
    try:
        services.cadence()
    except InvalidInput as error:
        fail(error)
    plan = sending.plan(services.reminders_due(pinned))
    # End the read transaction: each batch below starts with its write (see send_batch).
    db.session.commit()
    summary = sending.Summary()
    finish = db.session.rollback if dry_run else db.session.commit
    # Progress goes to stderr so the summary on stdout stays one clean line for cron mail;
    # without a terminal (cron, logs) the bar is hidden, so large runs print a line per batch.
    stream = sys.stderr
    lines = plan.people > BATCH_SIZE and not stream.isatty()
    done = 0
    with click.progressbar(
        length=plan.people, label="Reminding people", show_pos=True, file=stream
    ) as bar:
        for batch in plan.batches(BATCH_SIZE):
            summary.add(sending.send_batch(batch))
            finish()
            bar.update(len(batch))
            done += len(batch)
            if lines:
                click.echo(f"Processed {done} of {plan.people} people.", err=True)
    summary.add(sending.send_trainer_digests(pinned))
    finish()
    click.echo(summary.describe())
    if dry_run:
        click.echo("Dry run: nothing was recorded or queued.")

"""``flask --app wsgi mail send-pending``: the outbox worker, for cron or a service."""

import logging
import time

import click
from flask.cli import AppGroup

from portal.core.clock import utcnow
from portal.extensions import db
from portal.mail import outbox

log = logging.getLogger("portal.mail")

mail_cli = AppGroup("mail", help="Send queued email.")


def _release_announcements(now) -> int:
    """Publish announcements whose time has come (their notifications join this run)."""
    try:
        from portal.announcements.services import release_due
    except ImportError:
        return 0
    try:
        released = release_due(now)
        db.session.commit()
    except Exception:  # mail must still go out when announcements break
        db.session.rollback()
        log.exception("releasing scheduled announcements failed")
        click.echo("Releasing scheduled announcements failed (see the log); sending mail anyway.")
        return 0
    return released or 0


def run_once(batch_size: int | None) -> outbox.SendSummary:
    now = utcnow()
    released = _release_announcements(now)
    if released:
        click.echo(f"Released {released} scheduled announcement(s).")
    due = outbox.due_count()
    db.session.commit()
    if due:
        click.echo(f"{due} message(s) due.")

    def progress(batch: outbox.SendSummary):
        click.echo(f"  batch: {batch}")

    summary = outbox.send_pending(batch_size=batch_size, on_batch=progress)
    click.echo(f"Mail: {summary}.")
    if summary.stopped:
        click.echo(f"Stopped early, the mail server is unavailable: {summary.stopped}", err=True)
    return summary


@mail_cli.command("send-pending")
@click.option("--batch", "batch_size", type=click.IntRange(min=1), help="Messages per connection.")
@click.option(
    "--loop",
    "loop_seconds",
    type=click.IntRange(min=1),
    help="Keep running, checking for due mail every SECONDS (instead of once, for cron).",
)
def send_pending_command(batch_size, loop_seconds):
    """Release scheduled announcements, then send every due message in batches."""
    while True:
        summary = run_once(batch_size)
        if not loop_seconds:
            if summary.stopped:
                raise SystemExit(1)
            return
        time.sleep(loop_seconds)

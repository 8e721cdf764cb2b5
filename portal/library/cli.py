"""`flask --app wsgi content ...`: documents kept as Markdown files."""

from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.library import sync as content_sync
from portal.partners.cli import fail
from portal.people.models import User, normalize_email

content_cli = AppGroup("content", help="Load the library's documents from Markdown files.")


@content_cli.command("sync")
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--owner", default=None, help="Email of the admin or PRM who owns new documents.")
@click.option("--dry-run", is_flag=True, help="Check every file and report; write nothing.")
def sync(folder, owner, dry_run):
    """Create and update company-wide documents from FOLDER's Markdown files (default: content/).

    A new version is published only when a file's title or text changed. Prints one line per
    file; exits with status 1 if any file failed (the good files are applied all the same).
    """
    folder = folder or content_sync.default_folder()
    if not folder.is_dir():
        fail(InvalidInput(f"There is no folder {folder}."))
    owner_user = _owner(owner) if owner else None
    results = content_sync.sync_folder(folder, owner=owner_user, dry_run=dry_run)
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    if not results:
        click.echo(f"No Markdown files in {folder}.")
        return
    click.echo(format_results(results, dry_run=dry_run))
    if any(r.failed for r in results):
        raise SystemExit(1)


def _owner(email: str) -> User:
    user = db.session.scalars(select(User).where(User.email == normalize_email(email))).first()
    if user is None or not user.active or not user.is_staff:
        fail(InvalidInput({"owner": f"No active admin or PRM has the email {email}."}))
    return user


def format_results(results, *, dry_run=False) -> str:
    """One aligned line per file (name, outcome, message), then a summary line."""
    name_width = max(len(r.file) for r in results)
    label_width = max(len(r.label) for r in results)
    lines = [
        f"{r.file.ljust(name_width)}  {r.label.ljust(label_width)}  {r.message}".rstrip()
        for r in results
    ]
    files = f"{len(results)} file{'s' if len(results) != 1 else ''}"
    lines.append(f"{files}: {tally(results)}.")
    if any(r.failed for r in results):
        lines.append("Files with errors changed nothing; fix them and sync again.")
    if dry_run:
        lines.append("Dry run: nothing was written.")
    return "\n".join(lines)


def tally(results) -> str:
    """'12 created, 2 new versions, 0 errors': each outcome that occurred, and the errors."""
    counts = {outcome: 0 for outcome in content_sync.OUTCOMES}
    for r in results:
        counts[r.outcome] += 1
    plurals = {content_sync.NEW_VERSION: "new versions", content_sync.ERROR: "errors"}
    return ", ".join(
        f"{n} {plurals.get(outcome, outcome) if n != 1 else outcome}"
        for outcome, n in counts.items()
        if n or outcome == content_sync.ERROR
    )

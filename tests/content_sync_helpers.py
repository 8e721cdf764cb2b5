"""Writing content files and reading back what `content sync` did, for the sync tests."""

from pathlib import Path

from sqlalchemy import func, select

from portal.extensions import db
from portal.library.models import Document, DocumentVersion

REPO = Path(__file__).resolve().parent.parent


def content_file(
    slug, *, title=None, kind="playbook", body="Read this first.\n\n## Steps\n\nDo it.", **fields
):
    """A content file: front matter from ``fields`` (values written as YAML) and a body."""
    lines = ["---", f"title: {title or slug.replace('-', ' ').capitalize()}", f"slug: {slug}"]
    lines.append(f"kind: {kind}")
    lines += [f"{key}: {value}" for key, value in fields.items()]
    return "\n".join([*lines, "---", body, ""])


def write_file(folder, name, text):
    path = folder / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def sync(runner, folder, *args):
    return runner.invoke(args=["content", "sync", str(folder), *args])


def output_lines(output):
    """{file name: the rest of its output line}."""
    return {
        line.split()[0]: line.split(None, 1)[1]
        for line in output.splitlines()
        if line.split() and line.split()[0].endswith(".md")
    }


def document_by_slug(slug):
    return db.session.scalars(select(Document).where(Document.slug == slug)).first()


def versions_of(document):
    return db.session.scalars(
        select(DocumentVersion)
        .where(DocumentVersion.document_id == document.id)
        .order_by(DocumentVersion.number)
    ).all()


def count_rows(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))

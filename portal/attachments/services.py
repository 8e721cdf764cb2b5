"""Attachments: checked uploads kept in file storage, listed and served per document."""

from sqlalchemy import select

from portal.extensions import db
from portal.library.models import Attachment


def list_attachments(document) -> list[Attachment]:
    """The document's attachments that have not been removed, by file name."""
    return db.session.scalars(
        select(Attachment)
        .where(Attachment.document_id == document.id, Attachment.removed_at.is_(None))
        .order_by(Attachment.filename)
    ).all()

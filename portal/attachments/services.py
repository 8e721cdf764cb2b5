"""Attachments: checked uploads kept in file storage, listed and served per document.

Rules that live here: only someone who may edit the document adds or removes its files, and
not while it is archived; a file's name and content are checked (see :mod:`.filetypes`)
before anything is stored; the file is stored first and its row written after, and a
transaction that does not commit deletes the stored file again. Removing a file hides it (its
URL answers 404) but keeps the stored bytes for the record. Services flush; the caller commits.
"""

import hashlib
import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO
from uuid import uuid4

from flask import Response, current_app
from sqlalchemy import event, func, select
from sqlalchemy.orm import joinedload

from portal.access.permissions import can_edit_document
from portal.attachments.filetypes import (
    KINDS,
    MAX_FILENAME,
    ContentScan,
    FileKind,
    accept_attribute,
    allowed_list,
    check_content,
    clean_filename,
)
from portal.audit.services import Actions, record
from portal.core.clock import utcnow
from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.library.models import Attachment, Document, DocumentStatus
from portal.storage import FileStorage, get_storage

log = logging.getLogger(__name__)

MB = 1024 * 1024
MAX_FILES = 100  # per document: the list on the document page stays short
CHUNK = 64 * 1024
INLINE_TYPES = frozenset(kind.content_type for kind in KINDS.values() if kind.inline)
_UNCOMMITTED = "portal.attachments.uncommitted_files"


@dataclass(frozen=True)
class UploadRules:
    """What the upload form tells people: the limit and the allowed types."""

    max_mb: int
    extensions: str  # 'pdf, png, …'
    accept: str  # '.pdf,.png,…' for the file input


def upload_rules() -> UploadRules:
    """The configured upload limit and the allow-list, for the upload form."""
    return UploadRules(
        max_mb=current_app.config["MAX_UPLOAD_MB"],
        extensions=allowed_list(),
        accept=accept_attribute(),
    )


def kind_label(attachment: Attachment) -> str:
    """'PDF document', 'PNG image', … for an attachment."""
    kind = KINDS.get(attachment.filename.rpartition(".")[2])
    return kind.label if kind else attachment.content_type


def is_image(attachment: Attachment) -> bool:
    """Whether the attachment can be shown in a page (and embedded with Markdown)."""
    return attachment.content_type in INLINE_TYPES


def list_attachments(document) -> list[Attachment]:
    """The document's attachments that have not been removed, by file name."""
    return db.session.scalars(
        select(Attachment)
        .options(joinedload(Attachment.uploaded_by))
        .where(Attachment.document_id == document.id, Attachment.removed_at.is_(None))
        .order_by(Attachment.filename)
    ).all()


def add_attachment(actor, document: Document, filename: str, stream: BinaryIO) -> Attachment:
    """Check an upload, store it and record it as an attachment of ``document``.

    ``actor`` None is an operator command. Refused with InvalidInput, storing nothing, when
    the actor may not edit the document, the document is archived, the name is taken, or the
    file is empty, too large, of a type not on the allow-list, or not what its name says.
    The file is stored under ``documents/<id>/<random>/<filename>`` before the row is added.
    """
    _check_editor(actor, document, "add files to")
    if document.status == DocumentStatus.ARCHIVED:
        raise InvalidInput("This document is archived. Restore it before adding files.")
    if stream is None:
        raise InvalidInput("Choose a file to upload.")
    filename, kind = clean_filename(filename)
    removed_namesake = _check_room(document, filename)
    limit_mb = current_app.config["MAX_UPLOAD_MB"]
    storage = get_storage()
    key = f"documents/{document.id}/{uuid4().hex}/{filename}"
    with _readable_once(stream, kind, limit_mb * MB) as upload:
        if upload.size == 0:
            raise InvalidInput(f"“{filename}” is empty.")
        if upload.size > limit_mb * MB:
            raise InvalidInput(
                f"The file is {upload.size / MB:.1f} MB; attachments can be at most {limit_mb} MB."
            )
        check_content(filename, kind, upload.scan, upload.file)
        storage.save(key, upload.file, kind.content_type)
    _delete_unless_committed(storage, key)
    if removed_namesake is not None:
        # The (document, filename) pair is unique; a removed file gives its name up.
        suffix = f"~removed-{removed_namesake.id}"
        removed_namesake.filename = removed_namesake.filename[: MAX_FILENAME - len(suffix)] + suffix
        db.session.flush()
    attachment = Attachment(
        document_id=document.id,
        filename=filename,
        content_type=kind.content_type,
        size=upload.size,
        sha256=upload.sha256,
        storage_key=key,
        uploaded_by_id=getattr(actor, "id", None),
    )
    db.session.add(attachment)
    db.session.flush()
    record(
        Actions.ATTACHMENT_ADDED,
        actor=actor,
        partner_id=document.partner_id,
        target=document,
        summary=f"Attached “{filename}” to “{document.title}”",
        attachment_id=attachment.id,
        filename=filename,
        size=upload.size,
        sha256=upload.sha256,
    )
    return attachment


def remove_attachment(actor, document: Document, attachment: Attachment) -> None:
    """Hide ``attachment`` from the document; the stored file stays for the record."""
    _check_editor(actor, document, "remove files from")
    if attachment.document_id != document.id or attachment.removed_at is not None:
        raise InvalidInput("That file is not attached to this document.")
    if document.status == DocumentStatus.ARCHIVED:
        raise InvalidInput("This document is archived. Restore it before removing files.")
    attachment.removed_at = utcnow()
    record(
        Actions.ATTACHMENT_REMOVED,
        actor=actor,
        partner_id=document.partner_id,
        target=document,
        summary=f"Removed “{attachment.filename}” from “{document.title}”",
        attachment_id=attachment.id,
        filename=attachment.filename,
    )
    db.session.flush()


def open_attachment(attachment: Attachment) -> BinaryIO:
    """The attachment's bytes as a file object; the caller closes it."""
    return get_storage().open(attachment.storage_key)


def serve_attachment(attachment: Attachment) -> Response:
    """The download response: raster images inline, everything else as a download.

    Every response carries ``X-Content-Type-Options: nosniff`` and a sandboxing CSP, so even
    a file opened directly in a tab cannot run script in the portal's origin.
    """
    inline = is_image(attachment)
    response = get_storage().download_response(
        attachment.storage_key,
        filename=attachment.filename,
        content_type=attachment.content_type,
        inline=inline,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox"
    return response


def _check_editor(actor, document: Document, doing: str) -> None:
    if actor is not None and not can_edit_document(actor, document):
        raise InvalidInput(f"You cannot {doing} this document.")


def _check_room(document: Document, filename: str) -> Attachment | None:
    """Refuse a name already in use; return a removed attachment holding it, if any."""
    namesake = db.session.scalars(
        select(Attachment).where(
            Attachment.document_id == document.id, Attachment.filename == filename
        )
    ).first()
    if namesake is not None and namesake.removed_at is None:
        raise InvalidInput(
            f"This document already has a file named “{filename}”. Remove that file first "
            "to replace it, or rename yours."
        )
    count = db.session.scalar(
        select(func.count(Attachment.id)).where(
            Attachment.document_id == document.id, Attachment.removed_at.is_(None)
        )
    )
    if count >= MAX_FILES:
        raise InvalidInput(f"A document holds at most {MAX_FILES} files; remove one first.")
    return namesake


@dataclass
class _Upload:
    file: BinaryIO  # seekable, positioned at the first byte of the upload
    size: int
    sha256: str
    scan: ContentScan


@contextmanager
def _readable_once(stream: BinaryIO, kind: FileKind, limit: int) -> Iterator[_Upload]:
    """Read the upload once: size, SHA-256 and the content checks' input in one pass.

    A seekable stream (what Flask hands over) is read in place and rewound; any other is
    copied to a temporary file on the way, up to the limit.
    """
    try:
        seekable = stream.seekable()
    except (AttributeError, OSError, ValueError):
        seekable = False
    if seekable:
        start = stream.tell()
        upload = _scan(stream, kind, None, limit)
        stream.seek(start)
        upload.file = stream
        yield upload
        return
    with tempfile.SpooledTemporaryFile(max_size=MB) as copy:
        upload = _scan(stream, kind, copy, limit)
        copy.seek(0)
        upload.file = copy
        yield upload


def _scan(stream, kind: FileKind, copy, limit: int) -> _Upload:
    digest = hashlib.sha256()
    scan = ContentScan(text=kind.check == "text")
    size = 0
    while chunk := stream.read(CHUNK):
        size += len(chunk)
        if size > limit:
            continue  # too large: keep counting for the message, stop doing work
        digest.update(chunk)
        scan.feed(chunk)
        if copy is not None:
            copy.write(chunk)
    scan.finish()
    return _Upload(file=None, size=size, sha256=digest.hexdigest(), scan=scan)


def _delete_unless_committed(storage: FileStorage, key: str) -> None:
    db.session.info.setdefault(_UNCOMMITTED, []).append((storage, key))


@event.listens_for(db.session, "after_commit")
def _keep_committed_files(session):
    session.info.pop(_UNCOMMITTED, None)


@event.listens_for(db.session, "after_transaction_end")
def _delete_uncommitted_files(session, transaction):
    # The outermost transaction ended without a commit (rollback, failed commit, or the
    # session closed at the end of a request): its rows are gone, so are its files.
    if transaction.parent is not None:
        return
    for storage, key in session.info.pop(_UNCOMMITTED, []):
        try:
            storage.delete(key)
        except Exception:
            log.exception("could not delete uncommitted file %s from %r", key, storage)

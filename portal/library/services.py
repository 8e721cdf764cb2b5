"""Writing, publishing, archiving and reviewing documents.

Rules that live here: a published version is never rewritten (edits go to a draft of the next
version); the first version is always material; a material version makes everyone in the
audience acknowledge again; trainers write only partner-local documents for their own partner.
Services add to the session and flush; the caller commits once.
"""

import re
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select

from portal.access.permissions import AUTHOR_DOCUMENTS, can_edit_document
from portal.audiences.models import Audience
from portal.audiences.services import AudienceSpec, apply_audience, check_audience
from portal.audit.services import Actions, record
from portal.core.clock import utcnow
from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.library.models import (
    Attachment,
    ChangeLevel,
    Document,
    DocumentKind,
    DocumentReview,
    DocumentStatus,
    DocumentTag,
    DocumentVersion,
)
from portal.library.rendering import render
from portal.notifications.services import notify_document_published
from portal.search.indexing import mark_for_reindex

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$")
TAG_RE = re.compile(r"^[a-z0-9][a-z0-9 _-]{0,39}$")
MAX_TAGS = 12
MAX_BODY = 200_000


@dataclass
class DocumentDetails:
    """Everything about a document except its text."""

    title: str
    kind: str
    slug: str = ""
    tags: list[str] = field(default_factory=list)
    audience: AudienceSpec = field(default_factory=AudienceSpec)
    requires_ack: bool = False
    attestation: bool = False
    review_by: date | None = None


def slugify(text: str) -> str:
    """'Refund requests (2027)' -> 'refund-requests-2027'."""
    slug = re.sub(r"[^a-z0-9]+", "-", (text or "").lower()).strip("-")
    return slug[:80].rstrip("-")


def attachment_path(document_id: int, attachment_id: int, filename: str) -> str:
    """Where an attachment is served; rendered pages link here (works without a request)."""
    return f"/library/{document_id}/files/{attachment_id}/{filename}"


def _check_details(details: DocumentDetails, document: Document | None, partner_id) -> dict:
    errors = {}
    details.title = (details.title or "").strip()
    details.slug = (details.slug or "").strip().lower() or slugify(details.title)
    if not details.title:
        errors["title"] = "Give the document a title."
    elif len(details.title) > 200:
        errors["title"] = "Titles are at most 200 characters."
    if details.kind not in set(DocumentKind):
        kinds = ", ".join(k.value for k in DocumentKind)
        errors["kind"] = f"“{details.kind}” is not a kind of document; use one of {kinds}."
    if not SLUG_RE.match(details.slug):
        errors["slug"] = (
            "Use 1-80 lower-case letters, digits and hyphens, starting and ending with a "
            "letter or digit (e.g. refund-requests)."
        )
    else:
        clash = db.session.scalars(select(Document).where(Document.slug == details.slug)).first()
        if clash is not None and clash is not document:
            errors["slug"] = f"Another document already uses the slug “{details.slug}”."
    tags = []
    for tag in details.tags:
        tag = (tag or "").strip().lower()
        if not tag or tag in tags:
            continue
        if not TAG_RE.match(tag):
            errors["tags"] = f"“{tag}” is not a tag: use up to 40 letters, digits, spaces, - or _."
        tags.append(tag)
    if len(tags) > MAX_TAGS:
        errors["tags"] = f"Use at most {MAX_TAGS} tags."
    details.tags = tags
    details.attestation = bool(details.attestation and details.requires_ack)
    errors.update(check_audience(details.audience, partner_id=partner_id))
    return errors


def _check_author(actor, document: Document | None = None) -> None:
    if actor is None:  # operators' commands (content sync) act for the company
        return
    if not AUTHOR_DOCUMENTS(actor) or (
        document is not None and not can_edit_document(actor, document)
    ):
        raise InvalidInput("You cannot edit this document.")


def create_document(
    actor, details: DocumentDetails, *, body: str = "", summary: str = "", owner=None
) -> Document:
    """Create a document (status draft) with its first draft version.

    A trainer's document is local to their partner; staff documents are company-wide.
    """
    _check_author(actor)
    partner_id = actor.partner_id if actor is not None and not actor.is_staff else None
    errors = _check_details(details, None, partner_id)
    errors.update(_check_text(details.title, body))
    if errors:
        raise InvalidInput(errors)
    owner = owner if owner is not None else actor
    document = Document(
        slug=details.slug,
        title=details.title,
        kind=details.kind,
        status=DocumentStatus.DRAFT,
        owner_id=getattr(owner, "id", None),
        partner_id=partner_id,
        audience=apply_audience(Audience(), details.audience),
    )
    _apply_details(document, details)
    db.session.add(document)
    db.session.flush()
    db.session.add(
        DocumentVersion(
            document_id=document.id,
            number=1,
            title=details.title,
            body=body,
            summary=(summary or "First version").strip()[:300],
            change_level=ChangeLevel.MATERIAL,
            created_by_id=getattr(actor, "id", None),
        )
    )
    record(
        Actions.DOCUMENT_CREATED,
        actor=actor,
        partner_id=partner_id,
        target=document,
        summary=f"Created “{document.title}”",
    )
    db.session.flush()
    return document


def _apply_details(document: Document, details: DocumentDetails) -> None:
    document.kind = details.kind
    document.slug = details.slug
    document.requires_ack = bool(details.requires_ack)
    document.attestation = bool(details.attestation)
    document.review_by = details.review_by
    document.tag_links = [DocumentTag(tag=t) for t in details.tags]


def update_details(actor, document: Document, details: DocumentDetails) -> Document:
    """Change a document's kind, slug, tags, audience, acknowledgement and review settings.

    The title is part of the text and changes with a new version (see :func:`save_draft`).
    """
    _check_author(actor, document)
    details.title = details.title or document.title
    errors = _check_details(details, document, document.partner_id)
    if errors:
        raise InvalidInput(errors)
    before = AudienceSpec.of(document.audience)
    _apply_details(document, details)
    apply_audience(document.audience, details.audience)
    record(
        Actions.DOCUMENT_UPDATED,
        actor=actor,
        partner_id=document.partner_id,
        target=document,
        summary=f"Changed the settings of “{document.title}”",
        audience_changed=before != details.audience,
    )
    db.session.flush()
    mark_for_reindex(document.id)
    return document


def _check_text(title: str, body: str) -> dict:
    errors = {}
    if not (title or "").strip():
        errors["title"] = "Give the document a title."
    elif len(title.strip()) > 200:
        errors["title"] = "Titles are at most 200 characters."
    if len(body or "") > MAX_BODY:
        errors["body"] = f"The text is longer than {MAX_BODY:,} characters; split the document."
    return errors


def current_draft(document: Document) -> DocumentVersion | None:
    """The unpublished next version of ``document``, if someone started one."""
    return db.session.scalars(
        select(DocumentVersion).where(
            DocumentVersion.document_id == document.id, DocumentVersion.published_at.is_(None)
        )
    ).first()


def published_versions(document: Document) -> list[DocumentVersion]:
    """Every published version, newest first."""
    return db.session.scalars(
        select(DocumentVersion)
        .where(
            DocumentVersion.document_id == document.id, DocumentVersion.published_at.is_not(None)
        )
        .order_by(DocumentVersion.number.desc())
    ).all()


def save_draft(
    actor,
    document: Document,
    *,
    title: str,
    body: str,
    summary: str = "",
    change_level: str = ChangeLevel.MATERIAL,
) -> DocumentVersion:
    """Write the text of the next version; the published versions stay as they are."""
    _check_author(actor, document)
    if document.status == DocumentStatus.ARCHIVED:
        raise InvalidInput("This document is archived. Restore it before editing.")
    errors = _check_text(title, body)
    if change_level not in set(ChangeLevel):
        errors["change_level"] = f"“{change_level}” is not a change level; use material or minor."
    if len(summary or "") > 300:
        errors["summary"] = "Keep the change summary under 300 characters."
    if errors:
        raise InvalidInput(errors)
    draft = current_draft(document)
    if draft is None:
        last = db.session.scalar(
            select(func.max(DocumentVersion.number)).where(
                DocumentVersion.document_id == document.id
            )
        )
        draft = DocumentVersion(document_id=document.id, number=(last or 0) + 1)
        db.session.add(draft)
    draft.title = title.strip()
    draft.body = body or ""
    draft.summary = (summary or "").strip()
    draft.change_level = change_level
    draft.created_by_id = getattr(actor, "id", None)
    draft.created_at = utcnow()
    db.session.flush()
    return draft


def attachment_urls(document: Document) -> dict[str, str]:
    """File name -> URL of the document's current attachments (for rendering images)."""
    rows = db.session.scalars(
        select(Attachment).where(
            Attachment.document_id == document.id, Attachment.removed_at.is_(None)
        )
    ).all()
    return {a.filename: attachment_path(document.id, a.id, a.filename) for a in rows}


def publish(actor, document: Document) -> DocumentVersion:
    """Publish the draft as the new current version.

    The first version is always material. Later ones need a change summary; a material one
    asks everyone in the audience to acknowledge again.
    """
    _check_author(actor, document)
    if document.status == DocumentStatus.ARCHIVED:
        raise InvalidInput("This document is archived. Restore it before publishing.")
    draft = current_draft(document)
    if draft is None:
        raise InvalidInput("There is no draft to publish: edit the document first.")
    if not draft.body.strip():
        raise InvalidInput({"body": "Write the document's text before publishing it."})
    first = document.current_version_id is None
    if not first:
        current = db.session.get(DocumentVersion, document.current_version_id)
        if current.title == draft.title and current.body == draft.body:
            raise InvalidInput(
                f"The draft is the same as version {current.number}; change the text first."
            )
        if not draft.summary:
            raise InvalidInput({"summary": "Say in a sentence what changed in this version."})
    now = utcnow()
    rendered = render(draft.body, attachment_urls(document))
    draft.html = rendered.html
    draft.toc_html = rendered.toc_html
    draft.change_level = ChangeLevel.MATERIAL if first else draft.change_level
    draft.summary = draft.summary or "First version"
    draft.published_at = now
    draft.published_by_id = getattr(actor, "id", None)
    document.current_version_id = draft.id
    document.title = draft.title
    if draft.change_level == ChangeLevel.MATERIAL:
        document.ack_from_number = draft.number
    document.status = DocumentStatus.PUBLISHED
    document.changed_at = now
    document.first_published_at = document.first_published_at or now
    record(
        Actions.DOCUMENT_PUBLISHED,
        actor=actor,
        partner_id=document.partner_id,
        target=document,
        summary=f"Published version {draft.number} of “{document.title}” ({draft.change_level})",
        version=draft.number,
        change_level=draft.change_level,
    )
    db.session.flush()
    mark_for_reindex(document.id)
    notify_document_published(document, draft)
    return draft


def archive(actor, document: Document) -> None:
    """Take a document out of the library; its versions and acknowledgements stay."""
    _check_author(actor, document)
    if document.status == DocumentStatus.ARCHIVED:
        raise InvalidInput("This document is already archived.")
    document.status = DocumentStatus.ARCHIVED
    document.archived_at = utcnow()
    record(
        Actions.DOCUMENT_ARCHIVED,
        actor=actor,
        partner_id=document.partner_id,
        target=document,
        summary=f"Archived “{document.title}”",
    )
    db.session.flush()
    mark_for_reindex(document.id)


def restore(actor, document: Document) -> None:
    """Bring an archived document back: published if it ever was, else a draft again."""
    _check_author(actor, document)
    if document.status != DocumentStatus.ARCHIVED:
        raise InvalidInput("Only archived documents can be restored.")
    document.status = (
        DocumentStatus.PUBLISHED if document.current_version_id else DocumentStatus.DRAFT
    )
    document.archived_at = None
    record(
        Actions.DOCUMENT_RESTORED,
        actor=actor,
        partner_id=document.partner_id,
        target=document,
        summary=f"Restored “{document.title}”",
    )
    db.session.flush()
    mark_for_reindex(document.id)


def confirm_review(
    actor, document: Document, *, next_review_by: date, note: str = "", today: date | None = None
) -> DocumentReview:
    """Record that ``actor`` checked the document is still accurate; no new version."""
    _check_author(actor, document)
    today = today or date.today()
    if document.status != DocumentStatus.PUBLISHED:
        raise InvalidInput("Only published documents are reviewed.")
    if next_review_by is None or next_review_by <= today:
        raise InvalidInput({"next_review_by": "Choose a next review date after today."})
    if len(note or "") > 500:
        raise InvalidInput({"note": "Keep the note under 500 characters."})
    review = DocumentReview(
        document_id=document.id,
        reviewed_by_id=actor.id,
        next_review_by=next_review_by,
        note=(note or "").strip(),
    )
    db.session.add(review)
    document.review_by = next_review_by
    document.last_reviewed_at = utcnow()
    record(
        Actions.DOCUMENT_REVIEWED,
        actor=actor,
        partner_id=document.partner_id,
        target=document,
        summary=f"Confirmed “{document.title}” as accurate; next review {next_review_by}",
    )
    db.session.flush()
    return review


def due_for_review(stmt, today: date | None = None):
    """Narrow a document select to published documents past their review-by date."""
    today = today or date.today()
    return stmt.where(
        Document.status == DocumentStatus.PUBLISHED,
        Document.review_by.is_not(None),
        Document.review_by < today,
    )

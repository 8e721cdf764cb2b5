"""Finding documents and versions to show: list filters, what one may edit, history.

Every function narrows a select that already went through the visibility gate
(``portal.access.visibility.visible_documents``); none of them widens it.
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, false, func, or_, select
from sqlalchemy.orm import joinedload, raiseload, selectinload

from portal.access.permissions import AUTHOR_DOCUMENTS, can_edit_document
from portal.extensions import db
from portal.library.models import (
    Document,
    DocumentKind,
    DocumentReview,
    DocumentStatus,
    DocumentTag,
    DocumentVersion,
)
from portal.library.services import due_for_review

# Authors' status filter; "" is the default view: drafts and published, not archived.
STATUS_FILTERS = {
    "": "Drafts and published",
    DocumentStatus.DRAFT.value: "Drafts",
    DocumentStatus.PUBLISHED.value: "Published",
    DocumentStatus.ARCHIVED.value: "Archived",
    "all": "All, including archived",
}


@dataclass
class LibraryFilters:
    """The library list's filters, as read from the query string."""

    kind: str = ""
    tag: str = ""
    status: str = ""
    due: bool = False
    todo: bool = False  # only what the viewer must still acknowledge

    @classmethod
    def from_args(cls, args, *, author: bool) -> "LibraryFilters":
        kind = args.get("kind", "")
        status = args.get("status", "")
        return cls(
            kind=kind if kind in set(DocumentKind) else "",
            tag=(args.get("tag") or "").strip().lower()[:40],
            status=status if author and status in STATUS_FILTERS else "",
            due=author and args.get("due") == "1",
            todo=args.get("todo") == "1",
        )


def filter_documents(stmt: Select, filters: LibraryFilters, today: date | None = None) -> Select:
    """Narrow a visible-documents select to the list's filters, newest changed first."""
    if filters.kind:
        stmt = stmt.where(Document.kind == filters.kind)
    if filters.tag:
        stmt = stmt.where(
            Document.tag_links.any(DocumentTag.tag == filters.tag),
        )
    if filters.due:
        stmt = due_for_review(stmt, today)
    elif filters.status == "all":
        pass
    elif filters.status:
        stmt = stmt.where(Document.status == filters.status)
    else:
        stmt = stmt.where(Document.status != DocumentStatus.ARCHIVED)
    changed = func.coalesce(Document.changed_at, Document.created_at)
    return stmt.options(joinedload(Document.partner), raiseload(Document.audience)).order_by(
        changed.desc(), Document.id.desc()
    )


def tags_in(stmt: Select) -> list[str]:
    """Every tag used by the documents ``stmt`` selects (for the tag filter)."""
    ids = stmt.with_only_columns(Document.id).order_by(None).scalar_subquery()
    return db.session.scalars(
        select(DocumentTag.tag)
        .where(DocumentTag.document_id.in_(ids))
        .distinct()
        .order_by(DocumentTag.tag)
    ).all()


def editable_by(stmt: Select, viewer) -> Select:
    """Narrow a document select to what ``viewer`` may edit (see ``can_edit_document``)."""
    if not AUTHOR_DOCUMENTS(viewer):
        return stmt.where(false())
    if viewer.is_staff:
        return stmt
    return stmt.where(Document.partner_id.is_not(None), Document.partner_id == viewer.partner_id)


def reviews_due(stmt: Select, viewer, today: date | None = None) -> Select:
    """Documents past their review-by date that ``viewer`` may edit, most overdue first."""
    return (
        due_for_review(editable_by(stmt, viewer), today)
        .options(
            joinedload(Document.partner), joinedload(Document.owner), raiseload(Document.audience)
        )
        .order_by(Document.review_by, Document.id)
    )


def version_history(document: Document) -> Select:
    """Published versions of ``document``, newest first, with who published them."""
    return (
        select(DocumentVersion)
        .where(
            DocumentVersion.document_id == document.id, DocumentVersion.published_at.is_not(None)
        )
        .options(joinedload(DocumentVersion.published_by))
        .order_by(DocumentVersion.number.desc())
    )


def version_numbers(document: Document, *, with_draft: bool) -> list[int]:
    """Numbers of the versions one may compare: published ones, plus the draft for authors."""
    stmt = select(DocumentVersion.number).where(DocumentVersion.document_id == document.id)
    if not with_draft:
        stmt = stmt.where(DocumentVersion.published_at.is_not(None))
    return db.session.scalars(stmt.order_by(DocumentVersion.number.desc())).all()


def find_version(document: Document, number: int, viewer) -> DocumentVersion | None:
    """Version ``number`` of ``document`` if ``viewer`` may read it (drafts: authors only)."""
    version = db.session.scalars(
        select(DocumentVersion)
        .where(DocumentVersion.document_id == document.id, DocumentVersion.number == number)
        .options(
            selectinload(DocumentVersion.published_by), selectinload(DocumentVersion.created_by)
        )
    ).first()
    if version is None or (not version.is_published and not can_edit_document(viewer, document)):
        return None
    return version


def versions_between(document: Document, low: int, high: int) -> list[DocumentVersion]:
    """Published versions after ``low`` up to ``high``, oldest first (what a diff spans)."""
    return db.session.scalars(
        select(DocumentVersion)
        .where(
            DocumentVersion.document_id == document.id,
            DocumentVersion.number > low,
            DocumentVersion.number <= high,
            or_(DocumentVersion.published_at.is_not(None), DocumentVersion.number == high),
        )
        .order_by(DocumentVersion.number)
    ).all()


def latest_reviews(document: Document, limit: int = 5) -> list[DocumentReview]:
    """The document's most recent confirmed reviews, with who confirmed them."""
    return db.session.scalars(
        select(DocumentReview)
        .where(DocumentReview.document_id == document.id)
        .options(joinedload(DocumentReview.reviewed_by))
        .order_by(DocumentReview.reviewed_at.desc(), DocumentReview.id.desc())
        .limit(limit)
    ).all()


def is_review_due(document: Document, today: date | None = None) -> bool:
    """Whether a published document is past its review-by date."""
    today = today or date.today()
    return bool(
        document.status == DocumentStatus.PUBLISHED
        and document.review_by is not None
        and document.review_by < today
    )

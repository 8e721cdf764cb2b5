"""The library: browsing and reading documents.

Writing (editor_routes), history and diffs (history_routes) and reviews (review_routes)
register on the same blueprint; they are imported at the bottom of this module.
"""

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.access.permissions import AUTHOR_DOCUMENTS, can_edit_document
from portal.access.visibility import get_visible_or_404, visible_documents
from portal.acknowledgements.services import ack_status, pending_for
from portal.attachments.services import list_attachments
from portal.audiences.services import describe
from portal.extensions import db
from portal.library import browsing
from portal.library.forms import ConfirmForm
from portal.library.models import KIND_LABELS, Document, DocumentKind, DocumentVersion
from portal.library.rendering import render
from portal.library.services import attachment_urls, current_draft

bp = Blueprint("library", __name__)


@bp.app_template_filter("kind_label")
def kind_label(kind: str) -> str:
    try:
        return KIND_LABELS[DocumentKind(kind)]
    except ValueError:
        return kind


def document_or_404(document_id: int, *, editable: bool = False, **options) -> Document:
    """The document if the signed-in person may see it (and edit it, when asked), else 404."""
    stmt = visible_documents(current_user)
    if options.get("with_version"):
        stmt = stmt.options(joinedload(Document.current_version))
    document = get_visible_or_404(stmt, Document, document_id)
    if editable and not can_edit_document(current_user, document):
        abort(404)
    return document


@bp.route("/library/")
@login_required
def index():
    author = AUTHOR_DOCUMENTS(current_user)
    filters = browsing.LibraryFilters.from_args(request.args, author=author)
    visible = visible_documents(current_user)
    listed = visible
    if filters.todo:
        pending_ids = pending_for(current_user).with_only_columns(Document.id)
        listed = visible.where(Document.id.in_(pending_ids))
    page = db.paginate(browsing.filter_documents(listed, filters), per_page=25, error_out=False)
    drafts = set()
    if author and page.items:
        ids = [d.id for d in page.items]
        drafts = set(
            db.session.scalars(
                select(DocumentVersion.document_id).where(
                    DocumentVersion.document_id.in_(ids),
                    DocumentVersion.published_at.is_(None),
                    DocumentVersion.number > 1,
                )
            )
        )
    return render_template(
        "library/index.html",
        page=page,
        filters=filters,
        author=author,
        kinds=list(DocumentKind),
        tags=browsing.tags_in(visible),
        statuses=browsing.STATUS_FILTERS,
        with_drafts=drafts,
    )


def _ack_report_url(document: Document) -> str | None:
    # Another part of the portal builds the report; link to it only once it exists.
    if "acknowledgements.report" not in current_app.view_functions:
        return None
    return url_for("acknowledgements.report", document_id=document.id)


@bp.route("/library/<int:document_id>")
@login_required
def show(document_id):
    document = get_visible_or_404(
        visible_documents(current_user).options(
            joinedload(Document.current_version),
            joinedload(Document.owner),
            joinedload(Document.partner),
        ),
        Document,
        document_id,
    )
    can_edit = can_edit_document(current_user, document)
    version = document.current_version
    draft = current_draft(document) if can_edit else None
    unpublished = None
    if version is None:
        if draft is None:  # never published: only its authors may read the draft
            abort(404)
        unpublished = render(draft.body, attachment_urls(document))
    return render_template(
        "library/show.html",
        document=document,
        version=version,
        draft=draft,
        unpublished=unpublished,
        can_edit=can_edit,
        audience=describe(document.audience) if AUTHOR_DOCUMENTS(current_user) else None,
        ack=ack_status(current_user, document) if version is not None else None,
        attachments=list_attachments(document),
        ack_report_url=_ack_report_url(document) if can_edit else None,
        review_due=browsing.is_review_due(document),
        confirm=ConfirmForm(),
    )


from portal.library import editor_routes, history_routes, review_routes  # noqa: E402, F401

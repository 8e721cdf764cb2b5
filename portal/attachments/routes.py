"""Uploading, listing and downloading a document's attachments."""

from flask import Blueprint, abort, flash, redirect, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.access.permissions import can_edit_document
from portal.access.visibility import get_visible_or_404, visible_documents
from portal.attachments import services
from portal.attachments.forms import RemoveForm, UploadForm
from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.library.models import Attachment, Document

bp = Blueprint("attachments", __name__)


def _document(document_id: int) -> Document:
    return get_visible_or_404(visible_documents(current_user), Document, document_id)


def _attachment(document: Document, attachment_id: int) -> Attachment:
    attachment = db.session.scalars(
        select(Attachment).where(
            Attachment.id == attachment_id,
            Attachment.document_id == document.id,
            Attachment.removed_at.is_(None),
        )
    ).first()
    if attachment is None:
        abort(404)
    return attachment


def _editable(document_id: int) -> Document:
    document = _document(document_id)
    if not can_edit_document(current_user, document):
        abort(403, "Only the document's editors can change its files.")
    return document


def _back_to(document: Document):
    return redirect(url_for("library.show", document_id=document.id, _anchor="attachments"))


@bp.route("/library/<int:document_id>/attachments", methods=["POST"])
@login_required
def upload(document_id):
    document = _editable(document_id)
    form = UploadForm()
    if not form.validate_on_submit():
        flash(" ".join(form.file.errors) or "Choose a file to upload.", "danger")
        return _back_to(document)
    file = form.file.data
    try:
        attachment = services.add_attachment(current_user, document, file.filename, file.stream)
        db.session.commit()
    except InvalidInput as error:
        db.session.rollback()
        flash(f"{error} Nothing was uploaded.", "danger")
    except IntegrityError:
        # Someone attached a file of the same name a moment ago; the stored copy is removed
        # by the rollback hook.
        db.session.rollback()
        flash(
            f"A file named “{file.filename}” was attached to this document a moment ago. "
            "Nothing was uploaded; rename your file or remove the other one first.",
            "danger",
        )
    else:
        flash(f"Attached “{attachment.filename}”.", "success")
    return _back_to(document)


@bp.route("/library/<int:document_id>/files/<int:attachment_id>/remove", methods=["POST"])
@login_required
def remove(document_id, attachment_id):
    document = _editable(document_id)
    attachment = _attachment(document, attachment_id)
    if RemoveForm().validate_on_submit():
        try:
            services.remove_attachment(current_user, document, attachment)
        except InvalidInput as error:
            db.session.rollback()
            flash(str(error), "danger")
        else:
            db.session.commit()
            flash(f"Removed “{attachment.filename}”.", "success")
    return _back_to(document)


@bp.route("/library/<int:document_id>/files/<int:attachment_id>", endpoint="download")
@bp.route("/library/<int:document_id>/files/<int:attachment_id>/<path:filename>")
@login_required
def download(document_id, attachment_id, filename=None):
    attachment = _attachment(_document(document_id), attachment_id)
    if filename is not None and filename != attachment.filename:
        abort(404)
    try:
        return services.serve_attachment(attachment)
    except FileNotFoundError:
        abort(404, "The file is missing from storage. Ask the document's owner to upload it again.")


@bp.app_template_global("attachment_upload_rules")
def attachment_upload_rules():
    """The upload limit and allowed types, for the upload form on a document page."""
    return services.upload_rules()


@bp.app_template_filter("attachment_kind")
def attachment_kind(attachment) -> str:
    return services.kind_label(attachment)


@bp.app_template_test("image_attachment")
def image_attachment(attachment) -> bool:
    return services.is_image(attachment)

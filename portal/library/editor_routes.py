"""Writing documents: new, text of the next version, settings, publish, archive, restore."""

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from portal.access.permissions import AUTHOR_DOCUMENTS, requires
from portal.audiences.forms import prepare_audience_fields
from portal.core.errors import InvalidInput
from portal.core.forms import apply_errors
from portal.extensions import db
from portal.library import services
from portal.library.forms import ConfirmForm, DraftForm, NewDocumentForm, SettingsForm
from portal.library.models import ChangeLevel, DocumentStatus
from portal.library.rendering import render
from portal.library.routes import bp, document_or_404

# Errors the author fixes on the edit page rather than on the document page.
TEXT_FIELDS = {"title", "body", "summary", "change_level"}


@bp.route("/library/new", methods=["GET", "POST"])
@login_required
@requires(AUTHOR_DOCUMENTS)
def new():
    form = NewDocumentForm()
    prepare_audience_fields(form, current_user)
    preview = None
    if form.is_submitted() and form.preview.data:
        preview = render(form.body.data or "")
    elif form.validate_on_submit():
        try:
            document = services.create_document(
                current_user, form.details(title=form.title.data), body=form.body.data or ""
            )
        except InvalidInput as error:
            db.session.rollback()
            apply_errors(form, error)
        else:
            db.session.commit()
            flash(
                f"“{document.title}” is saved as a draft. Readers see it once you publish it.",
                "success",
            )
            return redirect(url_for("library.show", document_id=document.id))
    return render_template("library/new.html", form=form, preview=preview)


@bp.route("/library/preview", methods=["POST"])
@login_required
@requires(AUTHOR_DOCUMENTS)
def live_preview():
    """Live preview for the editor's script: sanitized HTML of the posted Markdown."""
    urls = {}
    document_id = request.form.get("document_id", type=int)
    if document_id:
        urls = services.attachment_urls(document_or_404(document_id, editable=True))
    body = request.form.get("body", "")
    if len(body) > services.MAX_BODY:
        return jsonify(error=f"The text is longer than {services.MAX_BODY:,} characters."), 400
    rendered = render(body, urls)
    return jsonify(html=rendered.html, toc_html=rendered.toc_html)


@bp.route("/library/<int:document_id>/edit", methods=["GET", "POST"])
@login_required
@requires(AUTHOR_DOCUMENTS)
def edit(document_id):
    document = document_or_404(document_id, editable=True, with_version=True)
    if document.status == DocumentStatus.ARCHIVED:
        flash("This document is archived. Restore it before editing its text.", "warning")
        return redirect(url_for("library.show", document_id=document.id))
    draft = services.current_draft(document)
    first = document.current_version is None
    readers_see = "nothing yet" if first else f"version {document.current_version.number}"
    form = DraftForm()
    if not form.is_submitted():
        source = draft or document.current_version
        form.title.data, form.body.data = source.title, source.body
        if draft is not None and not first:
            form.summary.data, form.change_level.data = draft.summary, draft.change_level
    preview = None
    if form.is_submitted() and form.preview.data:
        preview = render(form.body.data or "", services.attachment_urls(document))
    elif form.validate_on_submit():
        try:
            draft = services.save_draft(
                current_user,
                document,
                title=form.title.data,
                body=form.body.data or "",
                summary=form.summary.data or "",
                change_level=ChangeLevel.MATERIAL if first else form.change_level.data,
            )
        except InvalidInput as error:
            db.session.rollback()
            apply_errors(form, error)
        else:
            db.session.commit()
            flash(
                f"Draft of version {draft.number} saved. Readers still see {readers_see} "
                "until you publish it.",
                "success",
            )
            return redirect(url_for("library.show", document_id=document.id))
    return render_template(
        "library/edit.html", form=form, document=document, draft=draft, first=first,
        preview=preview,
    )  # fmt: skip


@bp.route("/library/<int:document_id>/settings", methods=["GET", "POST"])
@login_required
@requires(AUTHOR_DOCUMENTS)
def settings(document_id):
    document = document_or_404(document_id, editable=True)
    form = SettingsForm()
    prepare_audience_fields(form, current_user)
    if not form.is_submitted():
        form.fill_details(document)
    elif form.validate():
        try:
            services.update_details(current_user, document, form.details(title=document.title))
        except InvalidInput as error:
            db.session.rollback()
            apply_errors(form, error)
        else:
            db.session.commit()
            flash("Settings saved.", "success")
            return redirect(url_for("library.show", document_id=document.id))
    return render_template("library/settings.html", form=form, document=document)


def _act(document_id, action, done: str):
    """Run one confirmed action (publish, archive, restore) and go back to the document."""
    document = document_or_404(document_id, editable=True)
    if ConfirmForm().validate_on_submit():
        try:
            result = action(current_user, document)
        except InvalidInput as error:
            db.session.rollback()
            for message in error.errors.values():
                flash(message, "danger")
            if set(error.errors) & TEXT_FIELDS:
                return redirect(url_for("library.edit", document_id=document.id))
        else:
            db.session.commit()
            flash(done.format(document=document, result=result), "success")
    return redirect(url_for("library.show", document_id=document.id))


@bp.route("/library/<int:document_id>/publish", methods=["POST"])
@login_required
@requires(AUTHOR_DOCUMENTS)
def publish(document_id):
    return _act(
        document_id,
        services.publish,
        "Version {result.number} of “{document.title}” is published.",
    )


@bp.route("/library/<int:document_id>/archive", methods=["POST"])
@login_required
@requires(AUTHOR_DOCUMENTS)
def archive(document_id):
    return _act(
        document_id,
        services.archive,
        "“{document.title}” is archived: readers no longer find it; its history and "
        "acknowledgements are kept.",
    )


@bp.route("/library/<int:document_id>/restore", methods=["POST"])
@login_required
@requires(AUTHOR_DOCUMENTS)
def restore(document_id):
    return _act(document_id, services.restore, "“{document.title}” is back in the library.")

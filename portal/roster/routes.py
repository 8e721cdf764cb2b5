"""Roster import (CSV): upload, preview with per-row errors, apply."""

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.orm import joinedload, undefer

from portal.access.permissions import IMPORT_ROSTER, requires
from portal.access.visibility import get_visible_or_404, visible_roster_imports
from portal.core.errors import InvalidInput
from portal.core.forms import apply_errors
from portal.extensions import db
from portal.roster import services
from portal.roster.forms import ApplyForm, UploadForm
from portal.roster.models import RosterImport
from portal.roster.reading import COLUMNS, MAX_FILE_BYTES, MAX_ROWS

bp = Blueprint("roster", __name__)

ROWS_PER_PAGE = 100


class RowsPage(Pagination):
    """One page of an import's preview rows (a list kept on the import, not a query)."""

    def _query_items(self):
        start = (self.page - 1) * self.per_page
        return self._query_args["rows"][start : start + self.per_page]

    def _query_count(self):
        return len(self._query_args["rows"])


def _with_people(stmt):
    return stmt.options(
        joinedload(RosterImport.partner),
        joinedload(RosterImport.uploaded_by),
        joinedload(RosterImport.applied_by),
    )


@bp.route("/people/import", methods=["GET", "POST"])
@login_required
@requires(IMPORT_ROSTER)
def upload():
    partners = services.importable_partners(current_user)
    form = UploadForm(partners=partners)
    if request.method == "GET" and current_user.partner_id:
        form.partner_id.data = current_user.partner_id
    if form.validate_on_submit():
        upload = form.file.data
        try:
            roster_import = services.create_import(
                current_user, form.partner_id.data, upload.filename, upload.read(MAX_FILE_BYTES + 1)
            )
        except InvalidInput as error:
            db.session.rollback()
            apply_errors(form, error)
        else:
            db.session.commit()
            return redirect(url_for("roster.preview", import_id=roster_import.id))
    recent = db.session.scalars(
        _with_people(visible_roster_imports(current_user))
        .order_by(RosterImport.created_at.desc(), RosterImport.id.desc())
        .limit(10)
    ).all()
    return render_template(
        "roster/upload.html",
        form=form,
        partners=partners,
        recent=recent,
        columns=COLUMNS,
        max_rows=MAX_ROWS,
    )


@bp.route("/people/import/template.csv")
@login_required
@requires(IMPORT_ROSTER)
def template():
    return Response(
        "\ufeff" + services.template_csv(),  # the byte-order mark makes Excel read UTF-8
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=roster-template.csv"},
    )


@bp.route("/people/import/<int:import_id>")
@login_required
@requires(IMPORT_ROSTER)
def preview(import_id):
    roster_import = get_visible_or_404(
        _with_people(visible_roster_imports(current_user)).options(undefer(RosterImport.rows)),
        RosterImport,
        import_id,
    )
    only_errors = request.args.get("show") == "errors"
    rows = roster_import.rows or []
    if only_errors:
        rows = [row for row in rows if row["action"] == "error"]
    page = RowsPage(
        page=max(request.args.get("page", 1, type=int), 1),
        per_page=ROWS_PER_PAGE,
        error_out=False,
        rows=rows,
    )
    return render_template(
        "roster/preview.html",
        roster_import=roster_import,
        summary=roster_import.summary or {},
        page=page,
        only_errors=only_errors,
        form=ApplyForm(),
    )


@bp.route("/people/import/<int:import_id>/apply", methods=["POST"])
@login_required
@requires(IMPORT_ROSTER)
def apply(import_id):
    roster_import = get_visible_or_404(
        visible_roster_imports(current_user), RosterImport, import_id
    )
    form = ApplyForm()
    if form.validate_on_submit():
        try:
            summary = services.apply_import(
                current_user, roster_import, send_invitations=form.send_invitations.data
            )
        except InvalidInput as error:
            db.session.rollback()
            flash(str(error), "danger")
        else:
            db.session.commit()
            message = (
                f"Roster applied: {summary['new']} new, {summary['updated']} updated, "
                f"{summary['unchanged']} unchanged, {summary['errors']} skipped."
            )
            if summary["invited"]:
                message += f" {summary['invited']} invitation emails are on their way."
            flash(message, "success")
    return redirect(url_for("roster.preview", import_id=roster_import.id))

"""Acknowledging documents, and who has acknowledged what."""

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from portal.access.permissions import VIEW_ACKNOWLEDGEMENTS, requires
from portal.access.visibility import (
    get_visible_or_404,
    visible_documents,
    visible_partners,
    visible_teams,
)
from portal.acknowledgements import reporting, services
from portal.acknowledgements.forms import AcknowledgeForm
from portal.core.clock import utcnow
from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.library.models import Document
from portal.partners.models import Partner, Team

bp = Blueprint("acknowledgements", __name__)


@bp.route("/library/<int:document_id>/acknowledge", methods=["POST"])
@login_required
def acknowledge(document_id):
    document = get_visible_or_404(visible_documents(current_user), Document, document_id)
    back = redirect(url_for("library.show", document_id=document.id))
    form = AcknowledgeForm()
    if not form.validate_on_submit():
        messages = [m for errors in form.errors.values() for m in errors]
        flash(" ".join(messages) or "Reload the page and try again.", "error")
        return back
    try:
        ack, created = services.acknowledge(
            current_user, document, form.version_id.data, typed_name=form.typed_name.data
        )
    except InvalidInput as error:
        db.session.rollback()
        flash(" ".join(error.errors.values()), "error")
        return back
    db.session.commit()
    if created:
        flash(
            f"Thank you — your acknowledgement of version {ack.version_number} is recorded.",
            "success",
        )
    else:
        flash(f"You had already acknowledged version {ack.version_number}.", "info")
    return back


def _filters() -> reporting.ReportFilters:
    args = request.args
    status = args.get("status")
    partner_id = args.get("partner", type=int) if current_user.is_staff else None
    return reporting.ReportFilters(
        partner_id=partner_id,
        team_id=args.get("team", type=int),
        status=status if status in set(reporting.AckState) else None,
    )


def _filter_args(filters: reporting.ReportFilters) -> dict:
    """The filters as URL arguments, for links that keep them (CSV, summary figures)."""
    args = {"partner": filters.partner_id, "team": filters.team_id, "status": filters.status}
    return {name: value for name, value in args.items() if value is not None}


def _report_document(document_id: int) -> Document:
    return get_visible_or_404(visible_documents(current_user), Document, document_id)


def _filter_choices(document: Document):
    """Partners (staff only) and teams the filters offer."""
    partners = []
    if current_user.is_staff:
        stmt = visible_partners(current_user).order_by(Partner.name)
        if document.partner_id is not None:
            stmt = stmt.where(Partner.id == document.partner_id)
        partners = db.session.scalars(stmt).all()
    teams = visible_teams(current_user).join(Team.partner).options(joinedload(Team.partner))
    if document.partner_id is not None:
        teams = teams.where(Team.partner_id == document.partner_id)
    teams = db.session.scalars(teams.order_by(Partner.name, Team.name)).all()
    return partners, teams


@bp.route("/library/<int:document_id>/acknowledgements")
@login_required
@requires(VIEW_ACKNOWLEDGEMENTS)
def report(document_id):
    document = _report_document(document_id)
    if not document.requires_ack:
        return render_template("acknowledgements/not_required.html", document=document)
    filters = _filters()
    page = reporting.paginate_rows(reporting.report_rows(current_user, document, filters))
    partners, teams = _filter_choices(document)
    return render_template(
        "acknowledgements/report.html",
        document=document,
        filters=filters,
        page=page,
        counts=reporting.status_counts(current_user, document, filters),
        by_partner=(
            reporting.partner_counts(current_user, document, filters)
            if current_user.is_staff
            else []
        ),
        partners=partners,
        teams=teams,
        filter_args=_filter_args(filters),
        states=list(reporting.AckState),
        state_labels=reporting.STATE_LABELS,
        method_labels=reporting.METHOD_LABELS,
    )


@bp.route("/library/<int:document_id>/acknowledgements.csv")
@login_required
@requires(VIEW_ACKNOWLEDGEMENTS)
def export(document_id):
    document = _report_document(document_id)
    if not document.requires_ack:
        return redirect(url_for("acknowledgements.report", document_id=document.id))
    stmt = reporting.report_rows(current_user, document, _filters())
    filename = f"acknowledgements-{document.slug}-{utcnow().date().isoformat()}.csv"
    return Response(
        stream_with_context(reporting.csv_lines(stmt)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )

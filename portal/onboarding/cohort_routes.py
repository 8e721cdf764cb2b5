"""The PRM's onboarding cohorts: new hires by partner and hire month, and their CSV.

Admins and PRMs see every partner; a trainer sees the same page limited to their own partner.
Agents see none of it. A filter naming a path or partner the viewer cannot see answers 404,
like its id would.
"""

from flask import Blueprint, Response, abort, render_template, request
from flask_login import current_user, login_required

from portal.access.permissions import Permission, requires
from portal.access.roles import Role
from portal.access.visibility import visible_partners
from portal.core.clock import utcnow
from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.onboarding import cohorts
from portal.partners.models import Partner
from portal.training.learning import ListPage

bp = Blueprint("onboarding_cohorts", __name__, url_prefix="/onboarding")

VIEW_ONBOARDING_COHORTS = Permission("view_onboarding_cohorts", Role.ADMIN, Role.PRM, Role.TRAINER)
PARTNERS_PER_PAGE = 10


def _today():
    return utcnow().date()


def _choices():
    """(paths, partners) the filters offer; a trainer is offered no partners (only their own)."""
    paths = db.session.scalars(
        cohorts.cohort_paths(current_user).order_by(cohorts.OnboardingPath.title)
    ).all()
    partners = []
    if current_user.is_staff:
        partners = db.session.scalars(
            visible_partners(current_user).where(Partner.active).order_by(Partner.name)
        ).all()
    return paths, partners


def _asked(paths, partners):
    """(path, partner id, months or the InvalidInput about them); 404 for what is not offered."""
    args = request.args
    path_id, partner_id = args.get("path", type=int), args.get("partner", type=int)
    if "path" in args and path_id is None:
        abort(404)
    path = cohorts.default_path(paths)
    if path_id is not None:
        path = next((p for p in paths if p.id == path_id), None)
        if path is None:
            abort(404)
    if "partner" in args and args["partner"] and partner_id is None:
        abort(404)
    own = None if current_user.is_staff else current_user.partner_id
    if partner_id is not None and partner_id != own and partner_id not in {p.id for p in partners}:
        abort(404)
    try:
        months = cohorts.parse_months(args.get("from"), args.get("to"), _today())
    except InvalidInput as error:
        months = error
    return path, partner_id, months


@bp.route("/cohorts")
@login_required
@requires(VIEW_ONBOARDING_COHORTS)
def index():
    paths, partners = _choices()
    path, partner_id, months = _asked(paths, partners)
    context = {
        "paths": paths,
        "partners": partners,
        "path": path,
        "partner_id": partner_id,
        "month_values": {key: request.args.get(key, "") for key in ("from", "to")},
        "errors": months.errors if isinstance(months, InvalidInput) else {},
        "filters": None,
        "page": None,
    }
    if path is None or context["errors"]:
        status = 400 if context["errors"] else 200
        return render_template("onboarding/cohorts.html", **context), status
    filters = cohorts.Filters(path.id, *months, partner_id=partner_id)
    everyone, by_partner = cohorts.cohort_table(current_user, filters, _today())
    context.update(
        filters=filters,
        month_values={"from": filters.args()["from"], "to": filters.args()["to"]},
        everyone=everyone,
        page=ListPage(
            rows=by_partner,
            page=request.args.get("page", type=int),
            per_page=PARTNERS_PER_PAGE,
            error_out=False,
        ),
        median=cohorts.median_words,
    )
    return render_template("onboarding/cohorts.html", **context)


@bp.route("/cohorts.csv")
@login_required
@requires(VIEW_ONBOARDING_COHORTS)
def export():
    paths, partners = _choices()
    path, partner_id, months = _asked(paths, partners)
    if path is None:
        abort(404)
    if isinstance(months, InvalidInput):
        return Response(" ".join(months.errors.values()), status=400, mimetype="text/plain")
    filters = cohorts.Filters(path.id, *months, partner_id=partner_id)
    everyone, by_partner = cohorts.cohort_table(current_user, filters, _today())
    text = cohorts.csv_text(everyone, by_partner, staff=current_user.is_staff)
    filename = f"onboarding-cohorts-{_today().isoformat()}.csv"
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )

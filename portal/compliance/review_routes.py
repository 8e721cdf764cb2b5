"""The business-review page: one partner over one period, printable for the quarterly review.

Admins and PRMs choose any partner; a trainer gets the same page for their own partner only
(another partner's id answers 404, like an id that does not exist). Agents are refused. A bad
period gets a message next to the dates and nothing is computed.
"""

from datetime import date

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import or_

from portal.access.permissions import Permission, requires
from portal.access.roles import Role
from portal.access.visibility import visible_partners
from portal.compliance import charts, review, review_lag
from portal.core.clock import utcnow
from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.onboarding import cohorts
from portal.partners.models import Partner

bp = Blueprint("business_review", __name__, url_prefix="/reports")

VIEW_BUSINESS_REVIEW = Permission("view_business_review", Role.ADMIN, Role.PRM, Role.TRAINER)


def _now():
    return utcnow()


def _partners():
    """The partners the viewer may review: every partner for staff, their own for a trainer."""
    return db.session.scalars(visible_partners(current_user).order_by(Partner.name)).all()


def _asked_partner(partners) -> Partner | None:
    """The partner asked for (a trainer's own by default); 404 for one the viewer cannot see."""
    text = request.args.get("partner", "").strip()
    if not text:
        return None if current_user.is_staff else next(iter(partners), None)
    if not text.isdigit():
        abort(404)
    partner = next((p for p in partners if p.id == int(text)), None)
    if partner is None:
        abort(404)
    return partner


def _paths(partner):
    """Published onboarding paths that can reach ``partner``'s people (company-wide or theirs)."""
    stmt = cohorts.cohort_paths(current_user).where(
        or_(
            cohorts.OnboardingPath.partner_id.is_(None),
            cohorts.OnboardingPath.partner_id == partner.id,
        )
    )
    return db.session.scalars(stmt.order_by(cohorts.OnboardingPath.title)).all()


def _asked_path(paths):
    path_id = request.args.get("path", "").strip()
    if not path_id:
        return cohorts.default_path(paths)
    path = next((p for p in paths if str(p.id) == path_id), None)
    if path is None:
        abort(404)
    return path


def _week_label(monday: date) -> str:
    return f"{monday.day} {monday:%b}"


def _trend(period, partner, weeks, done, overdue):
    """Section 1's chart: done and went-overdue counts per week for the partner."""
    mine = done[partner.id]
    return charts.line_chart(
        chart_id="trend",
        title=f"Completion and overdue trend, weekly: {partner.name}",
        description=(
            f"Acknowledgements and course completions made each week, and required items "
            f"that went overdue each week, {period.start:%d %b %Y} to {period.end:%d %b %Y}."
        ),
        x_labels=[_week_label(w) for w in weeks],
        series=[
            charts.Series("Done (acknowledgements + completions)", [w.done for w in mine], True),
            charts.Series("Went overdue", overdue),
        ],
        y_label="Items",
    )


def _by_partner(period, partner, partners, weeks, done):
    """The PRM's chart: weekly done counts, one line per partner."""
    series = [
        charts.Series(p.name, [w.done for w in done[p.id]], emphasis=p.id == partner.id)
        for p in partners
    ]
    return series, charts.line_chart(
        chart_id="by-partner",
        title="Completion over time (weekly) by partner",
        description=(
            "Acknowledgements plus course completions made each week by each partner's "
            f"active people, {period.start:%d %b %Y} to {period.end:%d %b %Y}."
        ),
        x_labels=[_week_label(w) for w in weeks],
        series=series,
        y_label="Items done",
    )


def _lag_chart(partner, lag):
    return charts.bar_chart(
        chart_id="lag",
        title=f"Acknowledgement lag after material changes: {partner.name}",
        description="How many acknowledgements came within each time after publication; "
        "the last bar counts people who have not acknowledged yet.",
        bars=lag.buckets,
        y_label="People × versions",
    )


def _figures(partner, partners, period, path, today):
    """Every section's figures and charts (a fixed number of statements, whatever the size)."""
    weeks = period.weeks()
    compared = partners if current_user.is_staff else [partner]
    compared = [p for p in compared if p.active or p.id == partner.id]
    done = review.weekly_done(period, [p.id for p in compared])
    overdue = review.weekly_overdue(period, partner.id, today)
    lag = review_lag.acknowledgement_lag(period, partner.id)
    reads = review.announcement_reads(period, partner.id)
    figures = {
        "weeks": weeks,
        "done": done[partner.id],
        "overdue": overdue,
        "trend_chart": _trend(period, partner, weeks, done, overdue),
        "lag": lag,
        "lag_chart": _lag_chart(partner, lag),
        "reads": reads,
        "read_totals": review.read_totals(reads),
        "late": review.most_late(period, partner.id, today),
        "cohort": None,
        "cohort_months": [],
    }
    if current_user.is_staff:
        figures["compared"] = compared
        figures["compared_done"] = done
        figures["by_partner_series"], figures["by_partner_chart"] = _by_partner(
            period, partner, compared, weeks, done
        )
    if path is not None:
        first, last = cohorts.month_start(period.start), cohorts.month_start(period.end)
        filters = cohorts.Filters(path.id, first, last, partner_id=partner.id)
        everyone, found = cohorts.cohort_table(current_user, filters, today)
        figures["cohort"] = everyone
        figures["cohort_months"] = found[0].months if found else []
        figures["cohort_filters"] = filters
    return figures


@bp.route("/review")
@login_required
@requires(VIEW_BUSINESS_REVIEW)
def index():
    now = _now()
    today = now.date()
    partners = _partners()
    partner = _asked_partner(partners)
    paths = _paths(partner) if partner is not None else []
    path = _asked_path(paths) if partner is not None else None
    context = {
        "partners": partners,
        "partner": partner,
        "paths": paths,
        "path": path,
        "values": {key: request.args.get(key, "") for key in ("from", "to")},
        "errors": {},
        "period": None,
        "generated_at": now,
        "stroke_of": charts.stroke_of,
        "median": cohorts.median_words,
    }
    try:
        period = review.parse_period(request.args.get("from"), request.args.get("to"), today)
    except InvalidInput as error:
        context["errors"] = error.errors
        return render_template("compliance/review.html", **context), 400
    context.update(period=period, values=period.args())
    if partner is not None:
        context.update(_figures(partner, partners, period, path, today))
    return render_template("compliance/review.html", **context)

"""The administrator's view of the audit log."""

from datetime import datetime, time, timedelta

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select

from portal.access.permissions import VIEW_AUDIT_LOG, requires
from portal.access.visibility import visible_partners
from portal.audit.models import AuditEvent
from portal.audit.services import Actions, events_query
from portal.core.clock import zone
from portal.extensions import db
from portal.partners.models import Partner

bp = Blueprint("audit", __name__)


def _parse_day(value: str | None, errors: list, label: str):
    """A YYYY-MM-DD date in the reader's time zone, as the UTC instant it starts."""
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        errors.append(f"“{value}” is not a date for {label}; use YYYY-MM-DD.")
        return None
    return datetime.combine(day, time.min, tzinfo=zone(current_user.timezone))


@bp.route("/admin/audit")
@login_required
@requires(VIEW_AUDIT_LOG)
def index():
    args = request.args
    errors: list[str] = []
    since = _parse_day(args.get("since"), errors, "“from”")
    until = _parse_day(args.get("until"), errors, "“until”")
    action = args.get("action") if args.get("action") in Actions.all() else None
    stmt = events_query(
        action=action,
        actor=args.get("actor") or None,
        partner_id=args.get("partner", type=int),
        since=since,
        until=until + timedelta(days=1) if until else None,
    )
    page = db.paginate(stmt, per_page=50, error_out=False)
    partner_names = dict(
        db.session.execute(select(Partner.id, Partner.name).order_by(Partner.name)).all()
    )
    partners = db.session.scalars(visible_partners(current_user).order_by(Partner.name)).all()
    return render_template(
        "audit/index.html",
        page=page,
        actions=Actions.all(),
        partners=partners,
        partner_names=partner_names,
        errors=errors,
        AuditEvent=AuditEvent,
    )

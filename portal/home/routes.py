"""Each role's home page."""

from flask import Blueprint, g, render_template
from flask_login import current_user, login_required

from portal.access.permissions import VIEW_AUDIT_LOG
from portal.access.roles import Role
from portal.core.clock import local, utcnow
from portal.home import services
from portal.onboarding.board import home_summary

bp = Blueprint("home", __name__)


@bp.route("/")
@login_required
def home():
    role = current_user.role_enum
    today = local(utcnow(), current_user.timezone).date()
    context = {
        "today": today,
        "onboarding_day": services.onboarding_day(current_user.hire_date, today),
    }
    if not current_user.is_staff:
        context["todo"] = todo = services.todo(current_user)
        # The navigation's badge counts the same things: no need to query them again.
        g.todo_count = todo.pending_total + len(todo.training)
        context["onboarding"] = home_summary(current_user, today)
    if role is Role.AGENT:
        return render_template("home/agent.html", **context)
    context["new_hires"] = services.new_hires(current_user, today=today)
    context["roster"] = services.roster_counts(current_user)
    if role is Role.TRAINER:
        context["teams"] = services.team_overview(current_user)
        return render_template("home/trainer.html", **context)
    context["partners"] = services.partner_overview(current_user)
    if VIEW_AUDIT_LOG(current_user):
        context["events"] = services.recent_events()
    return render_template("home/staff.html", **context)

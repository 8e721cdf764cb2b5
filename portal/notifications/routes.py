"""The person's notifications (/notifications) and email preferences."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from portal.core.errors import InvalidInput
from portal.core.urls import safe_next
from portal.extensions import db
from portal.notifications import services
from portal.notifications.forms import PreferencesForm
from portal.notifications.models import REQUIRED_REASON, Category

bp = Blueprint("notifications", __name__)


@bp.route("/notifications")
@login_required
def index():
    page = db.paginate(
        services.notifications_for(current_user),
        per_page=25,
        error_out=False,
    )
    return render_template(
        "notifications/index.html", page=page, unread=services.unread_count(current_user)
    )


@bp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@login_required
def mark_read(notification_id):
    if services.mark_read(current_user, notification_id) is None:
        abort(404)
    db.session.commit()
    return redirect(safe_next(request.form.get("next")) or url_for("notifications.index"))


@bp.route("/notifications/read-all", methods=["POST"])
@login_required
def mark_all_read():
    count = services.mark_all_read(current_user)
    db.session.commit()
    flash(f"Marked {count} notification{'' if count == 1 else 's'} as read.", "success")
    return redirect(url_for("notifications.index"))


@bp.route("/notifications/preferences", methods=["GET", "POST"])
@login_required
def preferences():
    current = services.email_preferences(current_user)
    form = PreferencesForm(data={c.value: on for c, on in current.items()})
    if form.validate_on_submit():
        try:
            services.set_email_preferences(current_user, form.choices())
        except InvalidInput as exc:
            flash(str(exc), "danger")
        else:
            db.session.commit()
            flash("Your email preferences are saved.", "success")
            return redirect(url_for("notifications.preferences"))
    required = [c for c in Category if not c.optional]
    return render_template(
        "notifications/preferences.html",
        form=form,
        required=required,
        required_reason=REQUIRED_REASON,
    )

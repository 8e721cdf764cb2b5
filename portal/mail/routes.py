"""The administrator's view of the outbox (/admin/mail): what is queued, sent and failed."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from portal.access.permissions import VIEW_AUDIT_LOG, requires
from portal.extensions import db
from portal.mail import outbox
from portal.mail.models import OutboxStatus

bp = Blueprint("mail", __name__)


@bp.route("/admin/mail")
@login_required
@requires(VIEW_AUDIT_LOG)
def index():
    status = request.args.get("status") or None
    error = None
    if status is not None and status not in set(OutboxStatus):
        error = f"“{status}” is not a status; showing every message."
        status = None
    page = db.paginate(outbox.outbox_messages(status), per_page=25, error_out=False)
    return render_template(
        "mail/outbox.html",
        page=page,
        status=status,
        statuses=list(OutboxStatus),
        counts=outbox.status_counts(),
        error=error,
    )


@bp.route("/admin/mail/<int:message_id>/retry", methods=["POST"])
@login_required
@requires(VIEW_AUDIT_LOG)
def retry(message_id):
    message = outbox.retry_now(message_id)
    if message is None:
        if db.session.get(outbox.OutboxMessage, message_id) is None:
            abort(404)
        flash("Only a failed message can be retried; this one is not failed.", "warning")
    else:
        db.session.commit()
        flash(
            f"The message to {message.to_address} is queued again; "
            "the next mail send-pending run sends it.",
            "success",
        )
    return redirect(url_for("mail.index", status=request.form.get("status") or None))

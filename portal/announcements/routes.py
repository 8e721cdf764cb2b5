"""Announcement pages: the feed, one announcement, writing and publishing, receipts."""

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import select

from portal.access.permissions import PUBLISH_ANNOUNCEMENTS, can_edit_announcement, requires
from portal.access.visibility import get_visible_or_404, visible_announcements, visible_documents
from portal.acknowledgements.reporting import paginate_rows
from portal.announcements import reading, reporting, services
from portal.announcements.forms import AcknowledgeForm, AnnouncementForm, PublishForm
from portal.announcements.models import Announcement
from portal.audiences.forms import prepare_audience_fields
from portal.audiences.services import describe
from portal.core.clock import utcnow
from portal.core.errors import InvalidInput
from portal.core.forms import apply_errors
from portal.extensions import db
from portal.library.diffing import diff_text, title_change
from portal.library.models import Document, DocumentVersion

bp = Blueprint("announcements", __name__, url_prefix="/announcements")


def _announcement(announcement_id: int, *, editable=False) -> Announcement:
    announcement = get_visible_or_404(
        visible_announcements(current_user), Announcement, announcement_id
    )
    if editable and not can_edit_announcement(current_user, announcement):
        abort(404)
    return announcement


def _managed():
    """Announcements the signed-in author manages: staff all, a trainer their partner's."""
    stmt = visible_announcements(current_user)
    if not current_user.is_staff:
        stmt = stmt.where(Announcement.partner_id == current_user.partner_id)
    return stmt


@bp.route("/")
@login_required
def index():
    if current_user.is_staff:
        return redirect(url_for("announcements.manage"))
    page = paginate_rows(reading.feed(current_user), request.args.get("page", type=int))
    return render_template("announcements/index.html", page=page)


@bp.route("/manage")
@login_required
@requires(PUBLISH_ANNOUNCEMENTS)
def manage():
    stmt = _managed().order_by(Announcement.updated_at.desc(), Announcement.id.desc())
    page = db.paginate(stmt, per_page=25, error_out=False)
    return render_template("announcements/manage.html", page=page, now=utcnow())


def _form() -> AnnouncementForm:
    form = AnnouncementForm()
    prepare_audience_fields(form, current_user)
    form.prepare(current_user)
    return form


@bp.route("/new", methods=["GET", "POST"])
@login_required
@requires(PUBLISH_ANNOUNCEMENTS)
def new():
    form = _form()
    if form.validate_on_submit():
        try:
            announcement = services.create_announcement(
                current_user, form.details(current_user.timezone)
            )
        except InvalidInput as error:
            db.session.rollback()
            apply_errors(form, error)
        else:
            db.session.commit()
            flash(f"“{announcement.title}” is saved as a draft. Publish it when ready.", "success")
            return redirect(url_for("announcements.show", announcement_id=announcement.id))
    return render_template("announcements/edit.html", form=form, announcement=None)


@bp.route("/<int:announcement_id>/edit", methods=["GET", "POST"])
@login_required
@requires(PUBLISH_ANNOUNCEMENTS)
def edit(announcement_id):
    announcement = _announcement(announcement_id, editable=True)
    if announcement.state(utcnow()) not in ("draft", "scheduled"):
        flash("Only drafts and scheduled announcements can be edited.", "warning")
        return redirect(url_for("announcements.show", announcement_id=announcement.id))
    form = _form()
    if not form.is_submitted():
        form.fill(announcement, current_user.timezone)
    elif form.validate():
        try:
            services.update_announcement(
                current_user, announcement, form.details(current_user.timezone)
            )
        except InvalidInput as error:
            db.session.rollback()
            apply_errors(form, error)
        else:
            db.session.commit()
            flash("Your changes are saved.", "success")
            return redirect(url_for("announcements.show", announcement_id=announcement.id))
    return render_template("announcements/edit.html", form=form, announcement=announcement)


def _process_change(announcement: Announcement):
    """(document if the viewer may open it, the version, the diff from the previous one)."""
    if not announcement.is_process_change:
        return None
    version = db.session.get(DocumentVersion, announcement.document_version_id)
    previous = db.session.scalars(
        select(DocumentVersion)
        .where(
            DocumentVersion.document_id == version.document_id,
            DocumentVersion.number < version.number,
            DocumentVersion.published_at.is_not(None),
        )
        .order_by(DocumentVersion.number.desc())
        .limit(1)
    ).first()
    document = db.session.scalars(
        visible_documents(current_user).where(Document.id == version.document_id)
    ).first()
    return {
        "document": document,
        "version": version,
        "previous": previous,
        "changes": diff_text(previous.body, version.body) if previous else None,
        "title": title_change(previous.title, version.title) if previous else None,
    }


@bp.route("/<int:announcement_id>")
@login_required
def show(announcement_id):
    announcement = _announcement(announcement_id)
    now = utcnow()
    if reading.mark_read(current_user, announcement, now):
        db.session.commit()
    read_at, acknowledged_at = reading.receipts_of(current_user, announcement)
    editable = can_edit_announcement(current_user, announcement)
    return render_template(
        "announcements/show.html",
        announcement=announcement,
        state=announcement.state(now),
        addressed=read_at is not None,
        read_at=read_at,
        acknowledged_at=acknowledged_at,
        change=_process_change(announcement),
        audience=describe(announcement.audience),
        editable=editable,
        publish_form=PublishForm() if editable else None,
        ack_form=AcknowledgeForm(),
        may_see_receipts=PUBLISH_ANNOUNCEMENTS(current_user),
    )


def _back(announcement):
    return redirect(url_for("announcements.show", announcement_id=announcement.id))


@bp.route("/<int:announcement_id>/publish", methods=["POST"])
@login_required
@requires(PUBLISH_ANNOUNCEMENTS)
def publish(announcement_id):
    announcement = _announcement(announcement_id, editable=True)
    form = PublishForm()
    if not form.validate_on_submit():
        flash(" ".join(m for ms in form.errors.values() for m in ms) or "Try again.", "error")
        return _back(announcement)
    when = form.publish_time(current_user.timezone)
    if form.when.data == "later" and when is None:
        flash("Choose the date and time to publish it, or publish it now.", "error")
        return _back(announcement)
    try:
        live = services.publish(current_user, announcement, publish_at=when)
    except InvalidInput as error:
        db.session.rollback()
        flash(" ".join(error.errors.values()), "error")
        return _back(announcement)
    db.session.commit()
    if live:
        flash("Published: its audience can read it now and has been notified.", "success")
    else:
        flash(
            "Scheduled: it goes live and its audience is notified at the time you chose.", "success"
        )
    return _back(announcement)


@bp.route("/<int:announcement_id>/withdraw", methods=["POST"])
@login_required
@requires(PUBLISH_ANNOUNCEMENTS)
def withdraw(announcement_id):
    announcement = _announcement(announcement_id, editable=True)
    try:
        services.withdraw(current_user, announcement)
    except InvalidInput as error:
        db.session.rollback()
        flash(" ".join(error.errors.values()), "error")
        return _back(announcement)
    db.session.commit()
    flash("Withdrawn: readers no longer see it. Its receipts are kept.", "success")
    return _back(announcement)


@bp.route("/<int:announcement_id>/acknowledge", methods=["POST"])
@login_required
def acknowledge(announcement_id):
    announcement = _announcement(announcement_id)
    form = AcknowledgeForm()
    if not form.validate_on_submit():
        flash("Reload the page and try again.", "error")
        return _back(announcement)
    try:
        outcome = reading.acknowledge(current_user, announcement, typed_name=form.typed_name.data)
    except InvalidInput as error:
        db.session.rollback()
        flash(" ".join(error.errors.values()), "error")
        return _back(announcement)
    db.session.commit()
    if not outcome.created:
        flash("You had already acknowledged this announcement.", "info")
    elif outcome.document_ack is not None:
        flash(
            f"Thank you — your acknowledgement is recorded, for this announcement and for "
            f"version {outcome.document_ack.version_number} of the document.",
            "success",
        )
    elif outcome.newer_version is not None:
        flash(
            "Thank you — your acknowledgement of this announcement is recorded. The document "
            f"has changed since (now version {outcome.newer_version}): acknowledge it in the "
            "library.",
            "success",
        )
    else:
        flash("Thank you — your acknowledgement is recorded.", "success")
    return _back(announcement)


def _show_filter() -> str:
    show = request.args.get("show", "unread")
    return show if show in reporting.SHOWS else "unread"


@bp.route("/<int:announcement_id>/receipts")
@login_required
@requires(PUBLISH_ANNOUNCEMENTS)
def receipts(announcement_id):
    announcement = _announcement(announcement_id)
    show = _show_filter()
    totals, partners = reporting.receipt_counts(current_user, announcement)
    page = paginate_rows(
        reporting.people_rows(current_user, announcement, show),
        request.args.get("page", type=int),
    )
    return render_template(
        "announcements/receipts.html",
        announcement=announcement,
        totals=totals,
        partners=partners,
        page=page,
        show=show,
        shows=reporting.SHOWS,
    )


@bp.route("/<int:announcement_id>/receipts.csv")
@login_required
@requires(PUBLISH_ANNOUNCEMENTS)
def receipts_csv(announcement_id):
    announcement = _announcement(announcement_id)
    stmt = reporting.people_rows(current_user, announcement, _show_filter())
    filename = f"announcement-{announcement.id}-receipts-{utcnow().date().isoformat()}.csv"
    return Response(
        stream_with_context(reporting.csv_lines(stmt)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )

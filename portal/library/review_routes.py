"""Review-by dates: the documents due for a check, and confirming one as still accurate."""

from datetime import date, timedelta

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from portal.access.permissions import AUTHOR_DOCUMENTS, requires
from portal.access.visibility import visible_documents
from portal.core.errors import InvalidInput
from portal.core.forms import apply_errors
from portal.extensions import db
from portal.library import browsing, services
from portal.library.forms import ReviewForm
from portal.library.routes import bp, document_or_404

# What the form suggests as the next review date.
DEFAULT_REVIEW_INTERVAL = timedelta(days=182)


@bp.route("/library/reviews")
@login_required
@requires(AUTHOR_DOCUMENTS)
def reviews():
    today = date.today()
    stmt = browsing.reviews_due(visible_documents(current_user), current_user, today)
    page = db.paginate(stmt, per_page=25, error_out=False)
    return render_template("library/reviews.html", page=page, today=today)


@bp.route("/library/<int:document_id>/review", methods=["GET", "POST"])
@login_required
@requires(AUTHOR_DOCUMENTS)
def review(document_id):
    document = document_or_404(document_id, editable=True)
    today = date.today()
    form = ReviewForm()
    if not form.is_submitted():
        form.next_review_by.data = today + DEFAULT_REVIEW_INTERVAL
    elif form.validate():
        try:
            services.confirm_review(
                current_user,
                document,
                next_review_by=form.next_review_by.data,
                note=form.note.data or "",
                today=today,
            )
        except InvalidInput as error:
            db.session.rollback()
            apply_errors(form, error)
        else:
            db.session.commit()
            flash(
                f"Thank you: “{document.title}” is confirmed as accurate until "
                f"{form.next_review_by.data:%d %b %Y}.",
                "success",
            )
            if request.form.get("back") == "reviews":
                return redirect(url_for("library.reviews"))
            return redirect(url_for("library.show", document_id=document.id))
    return render_template(
        "library/review.html",
        form=form,
        document=document,
        due=browsing.is_review_due(document, today),
        history=browsing.latest_reviews(document),
        back=request.values.get("back", ""),
    )

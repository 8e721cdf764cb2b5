"""/search: the library's search page (the navigation's search box sends ``q`` here)."""

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from portal.library.models import KIND_LABELS
from portal.search.services import MAX_QUERY_CHARS, search_library

bp = Blueprint("search", __name__)


@bp.route("/search")
@login_required
def search():
    query, results = search_library(
        current_user,
        request.args.get("q", ""),
        kind=request.args.get("kind"),
        tag=request.args.get("tag"),
        page=request.args.get("page", 1, type=int),
    )
    return render_template(
        "search/results.html",
        query=query,
        results=results,
        max_chars=MAX_QUERY_CHARS,
        kind_labels={kind.value: label for kind, label in KIND_LABELS.items()},
    )

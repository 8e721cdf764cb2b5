"""/search: the library's search page."""

from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("search", __name__)


@bp.route("/search")
@login_required
def search():
    return render_template("search/results.html")

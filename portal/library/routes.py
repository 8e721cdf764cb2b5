"""The library: browsing, reading, writing, history."""

from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("library", __name__)


@bp.route("/library/")
@login_required
def index():
    return render_template("library/index.html")

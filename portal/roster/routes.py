"""Roster import (CSV): upload, preview with per-row errors, apply."""

from flask import Blueprint, abort
from flask_login import login_required

from portal.access.permissions import IMPORT_ROSTER, requires

bp = Blueprint("roster", __name__)


@bp.route("/people/import", methods=["GET", "POST"])
@login_required
@requires(IMPORT_ROSTER)
def upload():
    abort(404)

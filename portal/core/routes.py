"""Endpoints that belong to no feature: the load balancer's health check."""

import logging

from flask import Blueprint, jsonify
from sqlalchemy import text

from portal.extensions import db, limiter

bp = Blueprint("core", __name__)
log = logging.getLogger("portal")


@bp.route("/healthz")
@limiter.exempt  # probed every few seconds by every load balancer; never refused
def health():
    """200 when the app can reach its database, 503 otherwise; no sign-in needed.

    The answer is JSON (``{"status": "ok"}``, or ``"unavailable"`` with the reason) and
    never cached, so the load balancer always sees the current state.
    """
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as error:  # any database failure means "take me out of rotation"
        log.warning("health check: database unreachable: %s", error)
        db.session.rollback()
        response = jsonify(status="unavailable", database="unreachable")
        response.status_code = 503
    else:
        response = jsonify(status="ok")
    response.headers["Cache-Control"] = "no-store"
    return response

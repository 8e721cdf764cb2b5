"""Endpoints that belong to no feature: the load balancer's health check."""

from flask import Blueprint, jsonify
from sqlalchemy import text

from portal.extensions import db

bp = Blueprint("core", __name__)


@bp.route("/healthz")
def health():
    """200 when the app can reach its database, 503 otherwise."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any database failure means "take me out of rotation"
        db.session.rollback()
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok")

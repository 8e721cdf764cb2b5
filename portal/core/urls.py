"""Building links for mail and operator commands, and checking where to send people back."""

from urllib.parse import urlsplit

from flask import current_app, has_request_context, url_for


def external_url(endpoint: str, **values) -> str:
    """An absolute link to ``endpoint``, based on ``PORTAL_BASE_URL`` outside a request."""
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    with current_app.test_request_context(base_url=current_app.config["PORTAL_BASE_URL"]):
        return url_for(endpoint, _external=True, **values)


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path inside the portal, else None (no open redirects)."""
    if not target:
        return None
    target = target.strip().replace("\\", "/")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target

"""Building links for mail and operator commands, and checking where to send people back."""

import re
from urllib.parse import unquote, urlsplit

from flask import current_app, has_request_context, url_for

MAX_NEXT_LENGTH = 2048
# Printable ASCII only: our own links are percent-encoded, so whitespace, control characters
# (browsers drop tabs and newlines, turning "/\t/evil" into "//evil") and anything beyond
# ASCII only ever come from someone crafting a link.
_PRINTABLE_ASCII = re.compile(r"[\x21-\x7e]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def external_url(endpoint: str, **values) -> str:
    """An absolute link to ``endpoint``, based on ``PORTAL_BASE_URL`` outside a request."""
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    with current_app.test_request_context(base_url=current_app.config["PORTAL_BASE_URL"]):
        return url_for(endpoint, _external=True, **values)


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path inside the portal (``/library?kind=playbook``), else None.

    Every ``next=`` the portal follows (after sign-in, after marking a notification read)
    goes through here, so nobody can build a portal link that lands on another site. Refused:
    a scheme or host (``https://evil``, ``//evil``, ``javascript:``), backslashes (browsers
    read ``/\\evil`` as ``//evil``), whitespace and control characters, and the same tricks
    percent-encoded (``/%2F%2Fevil``, ``/%5Cevil``, ``/%09/evil``).
    """
    if not isinstance(target, str) or not 0 < len(target) <= MAX_NEXT_LENGTH:
        return None
    if not _PRINTABLE_ASCII.fullmatch(target) or "\\" in target:
        return None
    decoded = _decoded(target)
    for form in (target, decoded):
        if not form.startswith("/") or form[1:2] in ("/", "\\"):
            return None
    if "\\" in decoded or _CONTROL.search(decoded):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _decoded(value: str, rounds: int = 3) -> str:
    """``value`` percent-decoded until it stops changing (double encoding included)."""
    for _ in range(rounds):
        decoded = unquote(value)
        if decoded == value:
            break
        value = decoded
    return value

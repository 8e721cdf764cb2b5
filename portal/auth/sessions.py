"""How long a sign-in lasts: an idle limit and an absolute limit, remember-me included.

A sign-in ends ``SESSION_IDLE_MINUTES`` after the person's last request and
``SESSION_MAX_HOURS`` after they typed their password, whichever comes first; the next
request signs them out and says why. Both times live in the signed session cookie, so no
request writes to the database for this.

"Keep me signed in" makes the sign-in survive closing the browser, within the same limits.
The session cookie then persists, and Flask-Login's remember cookie can restore the sign-in
when the session cookie is gone. That cookie only says who the person is, so a companion
cookie (``remember_clock``, signed with ``SECRET_KEY``) carries the two times for the same
person; a remember cookie without a valid companion restores nothing.
"""

import time
from dataclasses import dataclass

from flask import abort, current_app, flash, g, redirect, request, session, url_for
from flask_login import logout_user
from flask_login.utils import decode_cookie
from itsdangerous import BadSignature, URLSafeSerializer

from portal.core.errors import wants_json
from portal.core.urls import safe_next

SIGNED_IN_AT = "signed_in_at"
LAST_SEEN_AT = "last_seen_at"
CLOCK_COOKIE = "remember_clock"
TOUCH_EVERY = 60  # seconds: the last-seen time is rewritten at most once a minute
UNTIMED = "Your sign-in has ended. Sign in again to continue."
# Requests that never touch a sign-in: the load balancer's probe and static files.
UNTIMED_ENDPOINTS = frozenset({"static", "core.health"})


def _now() -> int:
    return int(time.time())


@dataclass(frozen=True)
class Clock:
    """When the person signed in and when they were last seen, in Unix seconds."""

    signed_in_at: int
    last_seen_at: int

    def ended_because(self, now: int, idle_minutes: int, max_hours: int) -> str | None:
        """Why the sign-in is over at ``now``, or None while it lasts."""
        if now - self.signed_in_at >= max_hours * 3600:
            return (
                f"You were signed out {max_hours} hours after signing in. "
                "Sign in again to continue."
            )
        if now - self.last_seen_at >= idle_minutes * 60:
            return f"You were signed out after {idle_minutes} minutes without activity."
        return None


def start() -> None:
    """Start the clock of a sign-in that has just happened in this request."""
    now = _now()
    _keep(Clock(now, now))


def check_request():
    """Sign out a sign-in past its limits; otherwise note that the person was seen.

    Returns a redirect to the sign-in page when the sign-in ended (the sign-in pages
    themselves just show the message; JSON clients get a 401 saying why), else None.
    """
    if request.endpoint in UNTIMED_ENDPOINTS:
        return None
    remembered = _remembered_id() is not None
    if "_user_id" not in session and not remembered:
        return None
    clock = _clock_in_session() or (_clock_in_cookie() if remembered else None)
    config = current_app.config
    now = _now()
    reason = (
        UNTIMED
        if clock is None
        else clock.ended_because(now, config["SESSION_IDLE_MINUTES"], config["SESSION_MAX_HOURS"])
    )
    if reason:
        return _sign_out(reason)
    if SIGNED_IN_AT not in session:  # restored by the remember cookie: it stays remembered
        session.permanent = True
        _keep(Clock(clock.signed_in_at, now))
    elif now - clock.last_seen_at >= TOUCH_EVERY:
        _keep(Clock(clock.signed_in_at, now))
    return None


def save_clock_cookie(response):
    """Keep the remember cookie's companion in step with the session (or delete it)."""
    if session.get("_remember") == "clear":  # Flask-Login is deleting the remember cookie
        if CLOCK_COOKIE in request.cookies:
            _delete_clock_cookie(response)
        return response
    clock = _clock_in_session()
    renewing = session.get("_remember") == "set" or g.get("session_clock_moved")
    who = session.get("_user_id") or _remembered_id()
    if clock and who and session.permanent and renewing:
        _set_clock_cookie(response, who, clock)
    return response


def _keep(clock: Clock) -> None:
    session[SIGNED_IN_AT] = clock.signed_in_at
    session[LAST_SEEN_AT] = clock.last_seen_at
    g.session_clock_moved = True


def _clock_in_session() -> Clock | None:
    signed_in_at, last_seen_at = session.get(SIGNED_IN_AT), session.get(LAST_SEEN_AT)
    if not isinstance(signed_in_at, int) or not isinstance(last_seen_at, int):
        return None
    return Clock(signed_in_at, last_seen_at)


def _clock_in_cookie() -> Clock | None:
    """The companion cookie's clock, if it is genuine and names the remembered person."""
    try:
        who, signed_in_at, last_seen_at = _serializer().loads(request.cookies[CLOCK_COOKIE])
    except (KeyError, BadSignature, TypeError, ValueError):
        return None
    if who != _remembered_id() or not isinstance(signed_in_at, int):
        return None
    if not isinstance(last_seen_at, int):
        return None
    return Clock(signed_in_at, last_seen_at)


def _remembered_id() -> str | None:
    """Who the remember cookie names, if it is genuine and not being deleted."""
    name = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    if name not in request.cookies or session.get("_remember") == "clear":
        return None
    return decode_cookie(request.cookies[name])


def _sign_out(reason: str):
    logout_user()  # also marks the remember cookie for deletion
    forget_remember_cookie = session.get("_remember")
    session.clear()
    if forget_remember_cookie:
        session["_remember"] = forget_remember_cookie
    if wants_json():
        abort(401, description=reason)
    flash(reason, "warning")
    if request.blueprint == "auth":
        return None
    target = safe_next(request.full_path.rstrip("?")) if request.method == "GET" else None
    return redirect(url_for("auth.login", next=target))


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="portal.remember-clock")


def _cookie_options() -> dict:
    config = current_app.config
    return {
        "domain": config.get("REMEMBER_COOKIE_DOMAIN"),
        "path": config.get("REMEMBER_COOKIE_PATH", "/"),
        "secure": config.get("REMEMBER_COOKIE_SECURE", False),
        "httponly": config.get("REMEMBER_COOKIE_HTTPONLY", True),
        "samesite": config.get("REMEMBER_COOKIE_SAMESITE"),
    }


def _set_clock_cookie(response, who: str, clock: Clock) -> None:
    ends_at = clock.signed_in_at + current_app.config["SESSION_MAX_HOURS"] * 3600
    response.set_cookie(
        CLOCK_COOKIE,
        _serializer().dumps([who, clock.signed_in_at, clock.last_seen_at]),
        max_age=max(ends_at - _now(), 0),
        **_cookie_options(),
    )


def _delete_clock_cookie(response) -> None:
    options = _cookie_options()
    response.delete_cookie(
        CLOCK_COOKIE,
        path=options["path"],
        domain=options["domain"],
        secure=options["secure"],
        httponly=options["httponly"],
        samesite=options["samesite"],
    )

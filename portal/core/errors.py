"""Errors people see: the portal's own pages for HTML, JSON for API clients, never a trace."""

import logging

from flask import jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger("portal")


class InvalidInput(Exception):
    """Input a service refused; ``errors`` maps a field name (or '' for the whole form) to why.

    Raised before anything is written, so the caller re-shows the form with the messages.
    """

    def __init__(self, errors: dict[str, str] | str):
        if isinstance(errors, str):
            errors = {"": errors}
        self.errors = errors
        super().__init__("; ".join(errors.values()))


MESSAGES = {
    400: ("Bad request", "The request could not be understood. Go back and try again."),
    401: ("Sign in needed", "Sign in to see this page."),
    403: ("Not allowed", "Your role does not give access to this page."),
    404: ("Not found", "There is nothing here, or it is not shared with you."),
    405: ("Not allowed", "That action is not possible on this page."),
    413: ("File too large", "The upload is larger than the portal accepts."),
    429: (
        "Too many attempts",
        "Too many attempts in a short time. Wait a few minutes and try again.",
    ),
    500: (
        "Something went wrong",
        "The portal hit an error. It has been logged; try again shortly.",
    ),
}


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def _render(code: int, detail: str | None = None):
    title, message = MESSAGES.get(code, (f"Error {code}", "The request failed."))
    if detail:
        message = detail
    if wants_json():
        response = jsonify(error=title, message=message, status=code)
    else:
        response = make_response(
            render_template("errors/error.html", code=code, title=title, message=message)
        )
    response.status_code = code
    return response


def handle_http_error(error: HTTPException):
    code = error.code or 500
    detail = None
    # Our own aborts and Flask-Limiter / CSRF carry a useful description; Werkzeug's
    # defaults are generic, so keep the portal's wording for those.
    if error.description and error.description != type(error).description:
        detail = error.description
    if code == 413:
        limit = request.max_content_length or 0
        size = f"{limit / (1024 * 1024):.0f} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"
        detail = f"The upload is larger than the portal accepts ({size}). Nothing was saved."
    response = _render(code, detail)
    if hasattr(error, "get_headers") and code in (405, 429):
        for key, value in error.get_headers():
            if key.lower() in ("retry-after", "allow"):
                response.headers[key] = value
    return response


def handle_csrf_error(error: CSRFError):
    return _render(
        400,
        "This form has expired or did not come from the portal, so nothing was changed. "
        "Reload the page and try again.",
    )


def handle_unexpected(error: Exception):
    from portal.extensions import db

    db.session.rollback()
    log.exception("unhandled error on %s %s", request.method, request.path)
    return _render(500)


def init_app(app):
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(InternalServerError, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected)

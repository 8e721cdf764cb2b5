"""Error pages in the portal's look, JSON errors for API clients, and never a stack trace."""

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.extensions import db
from tests.helpers import PASSWORD, login


def looks_like_the_portal(response) -> str:
    page = response.get_data(as_text=True)
    assert response.mimetype == "text/html"
    assert "Partner Portal" in page and "Traceback" not in page
    return page


def test_not_found_page_is_the_portals(client):
    """An unknown address shows the portal's own 'not found' page."""
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Not found" in looks_like_the_portal(response)


def test_not_found_is_json_for_json_clients(client):
    """A client that asks for JSON gets a JSON error, not a web page."""
    response = client.get("/no-such-page", headers={"Accept": "application/json"})
    assert response.status_code == 404 and response.is_json
    assert response.json["status"] == 404 and response.json["error"] == "Not found"


def test_api_paths_always_answer_json(client):
    """Anything under /api/ answers errors in JSON, whatever the browser asks for."""
    response = client.get("/api/no-such-thing", headers={"Accept": "text/html"})
    assert response.status_code == 404 and response.is_json
    assert response.json["status"] == 404


def test_wrong_method_is_405_with_allowed_methods(client):
    """Using a page with the wrong method says so, and names the methods it takes."""
    response = client.get("/logout")
    assert response.status_code == 405 and "POST" in response.headers["Allow"]
    assert "Not allowed" in looks_like_the_portal(response)


def test_too_large_upload_is_413(app, client):
    """A request body over the size limit is refused with the portal's 'too large' page."""
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post("/login", data={"email": "x" * 5000, "password": "y"})
    assert response.status_code == 413
    assert "File too large" in looks_like_the_portal(response)


def test_unexpected_error_shows_500_page_without_trace(app, client):
    """A bug in a page shows the portal's 500 page, not the error itself."""

    def broken():
        raise RuntimeError("secret internals")

    app.add_url_rule("/test-only-broken", "test_only_broken", broken)
    response = client.get("/test-only-broken")
    assert response.status_code == 500
    page = looks_like_the_portal(response)
    assert "Something went wrong" in page and "secret internals" not in page
    as_json = client.get("/test-only-broken", headers={"Accept": "application/json"})
    assert as_json.status_code == 500 and as_json.json["status"] == 500


def test_health_check(client):
    """The load balancer's health check answers ok when the database is reachable."""
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


@pytest.mark.parametrize(
    "url, signed_in_first",
    [("/login", False), ("/logout", True), ("/password/forgot", False)],
)
def test_posts_without_csrf_token_are_refused(app, client, make_user, outbox, url, signed_in_first):
    """A form posted without its CSRF token gets the portal's 400 page and changes nothing."""
    agent = make_user()
    if signed_in_first:
        login(client, agent)
    response = client.post(url, data={"email": agent.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "nothing was changed" in looks_like_the_portal(response)
    assert (client.get("/").status_code == 200) is signed_in_first
    assert outbox == []
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action)).all()
    assert actions == (["auth.sign_in"] if signed_in_first else [])

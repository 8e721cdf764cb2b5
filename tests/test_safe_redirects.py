"""``next=`` leads only to pages of the portal itself, however the address is disguised."""

from urllib.parse import quote

import pytest
from sqlalchemy import select

from portal.core.urls import safe_next
from portal.extensions import db
from portal.notifications import services as notifications
from portal.notifications.models import Notification
from portal.people.models import User
from tests.helpers import PASSWORD, login, post

BAD_TARGETS = [
    "https://evil.example/",
    "http://evil.example",
    "HTTPS://evil.example",
    "//evil.example",
    "///evil.example",
    "////evil.example/path",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r/evil.example",
    " //evil.example",
    "/ /evil.example",
    "/\x00/evil.example",
    "/\x7f",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "/javascript:alert(1)\n",
    "data:text/html,<script>alert(1)</script>",
    "evil.example",
    "evil.example/library",
    "../evil.example",
    "https:/evil.example",
    "https:evil.example",
    "/%2F%2Fevil.example",
    "/%2f/evil.example",
    "%2F%2Fevil.example",
    "/%5Cevil.example",
    "/%5cevil.example",
    "/%09/evil.example",
    "/%0d%0aSet-Cookie:x=1",
    "/%252F%252Fevil.example",
    "/%25252F/evil.example",
    "/\uff0f\uff0fevil.example",
    "/\u3000/evil.example",
    "/caf\u00e9",
    "/" + "a" * 2048,
    "",
    None,
]
GOOD_TARGETS = [
    "/",
    "/library",
    "/people/",
    "/library?kind=playbook&page=2",
    "/search?q=refund%20policy",
    "/documents/7#acknowledge",
    "/announcements/3/",
]


@pytest.mark.parametrize("target", BAD_TARGETS)
def test_addresses_leading_elsewhere_are_refused(target):
    """Any address that a browser could read as another site, or that hides one, is refused."""
    assert safe_next(target) is None


@pytest.mark.parametrize("target", GOOD_TARGETS)
def test_paths_inside_the_portal_are_kept(target):
    """A path on the portal comes back unchanged."""
    assert safe_next(target) == target


def test_safe_next_only_accepts_text():
    """Anything but a string (a list from a repeated field, bytes) is refused."""
    assert safe_next(["/library"]) is None
    assert safe_next(b"/library") is None


@pytest.mark.parametrize("target", BAD_TARGETS[:-2])
def test_sign_in_never_sends_people_off_the_portal(app, make_user, target):
    """Signing in with a hostile ``next`` (form field or query) lands on the home page."""
    user = make_user(role="agent")
    assert login(app.test_client(), user, next=target).location == "/"
    by_query = f"/login?next={quote(target, safe='')}"
    data = {"email": user.email, "password": PASSWORD}
    assert post(app.test_client(), by_query, data, token_from="/login").location == "/"


def test_sign_in_returns_to_the_page_that_asked_for_it(client, make_user):
    """A page that needed sign-in, query string included, is where sign-in leads back to."""
    user = make_user(role="agent")
    asked = client.get("/library/?kind=playbook")
    assert asked.status_code == 302
    data = {"email": user.email, "password": PASSWORD}
    response = post(client, asked.location, data, token_from="/login")
    assert response.location == "/library/?kind=playbook"


def _notification(app, user) -> int:
    with app.app_context():
        notifications.notify(
            select(User.id).where(User.id == user.id),
            category="announcement",
            title="Refunds changed",
            url="/announcements/1",
        )
        db.session.commit()
        return db.session.scalars(select(Notification.id)).one()


@pytest.mark.parametrize("target", ["https://evil.example", "//evil.example", "/%5Cevil"])
def test_marking_a_notification_read_stays_on_the_portal(app, client, make_user, target):
    """Marking a notification read returns to the list, not to a hostile ``next``."""
    user = make_user(role="agent")
    notification_id = _notification(app, user)
    login(client, user)
    url = f"/notifications/{notification_id}/read"
    response = post(client, url, {"next": target}, token_from="/notifications")
    assert response.location == "/notifications"


def test_marking_a_notification_read_follows_a_portal_path(app, client, make_user):
    """A ``next`` inside the portal (the page the person was on) is followed."""
    user = make_user(role="agent")
    notification_id = _notification(app, user)
    login(client, user)
    url = f"/notifications/{notification_id}/read"
    response = post(client, url, {"next": "/notifications?page=2"}, token_from="/notifications")
    assert response.location == "/notifications?page=2"

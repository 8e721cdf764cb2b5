"""Security headers on every response, and pages that need no inline script or style."""

import re
from pathlib import Path

import pytest

from portal import create_app
from portal.core.security import content_security_policy
from portal.extensions import db
from portal.storage import init_app as init_storage
from tests import attachment_helpers as samples
from tests.attachment_helpers import (  # noqa: F401 - world_fixture is the world fixture
    attach,
    url_of,
    world_fixture,
)
from tests.helpers import login

PORTAL = Path(__file__).resolve().parent.parent / "portal"
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
HSTS = "max-age=31536000; includeSubDomains"


def assert_protected(response):
    headers = response.headers
    assert headers["Content-Security-Policy"] == POLICY, response.request.path
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    "path, status",
    [
        ("/login", 200),  # a page
        ("/", 302),  # a redirect to sign in
        ("/healthz", 200),  # JSON
        ("/no-such-page", 404),  # an error page
        ("/static/js/portal.js", 200),  # a static file
    ],
)
def test_every_response_carries_the_security_headers(client, path, status):
    """Pages, redirects, JSON, errors and static files all carry the headers."""
    with client.get(path) as response:
        assert response.status_code == status
        assert_protected(response)


def test_signed_in_pages_and_refused_forms_carry_the_headers(client, make_user):
    """A signed-in page and a form refused for its missing CSRF token carry them too."""
    login(client, make_user(role="prm"))
    assert_protected(client.get("/library/"))
    refused = client.post("/logout")
    assert refused.status_code == 400
    assert_protected(refused)


def test_hsts_only_over_https(client):
    """Strict-Transport-Security is sent on HTTPS requests, never on plain HTTP."""
    assert "Strict-Transport-Security" not in client.get("/login").headers
    secure = client.get("/login", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"] == HSTS


def test_hsts_behind_a_trusted_proxy_only(database_url, tmp_path):
    """X-Forwarded-Proto: https earns HSTS only from a proxy TRUSTED_PROXY_COUNT trusts."""
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    for hops, expected in ((0, None), (1, HSTS)):
        app = create_app(
            "testing",
            SQLALCHEMY_DATABASE_URI=database_url,
            SEARCH_INDEX_PATH=str(tmp_path / "search-index"),
            STORAGE_PATH=str(tmp_path / "attachments"),
            TRUSTED_PROXY_COUNT=hops,
        )
        response = app.test_client().get("/login", headers=forwarded)
        assert response.headers.get("Strict-Transport-Security") == expected, hops
        with app.app_context():
            db.engine.dispose()


def test_a_view_keeps_its_own_policy(app, client, world):
    """An attachment download keeps its sandboxing CSP; the other headers are added."""
    attachment_id = attach(app, world.trainer, world.doc, "floor-plan.png", samples.png())
    login(client, world.agent)
    response = client.get(url_of(world.doc, attachment_id))
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == "sandbox"
    assert response.headers.getlist("Content-Security-Policy") == ["sandbox"]
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    "settings, origin",
    [
        ({"S3_ENDPOINT_URL": "http://127.0.0.1:9"}, "http://127.0.0.1:9"),
        ({"S3_ENDPOINT_URL": "https://minio.example:9000"}, "https://minio.example:9000"),
        ({"S3_ENDPOINT_URL": None}, "https://portal-files.s3.amazonaws.com"),
    ],
)
def test_images_may_come_from_the_s3_bucket(app, client, monkeypatch, settings, origin):
    """With S3 storage, images redirect to presigned links: the bucket's origin is allowed."""
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    app.config.update(STORAGE_BACKEND="s3", S3_BUCKET="portal-files", **settings)
    init_storage(app)
    policy = client.get("/login").headers["Content-Security-Policy"]
    assert f"img-src 'self' data: {origin};" in policy
    assert "script-src 'self';" in policy and "default-src 'self';" in policy


def test_the_policy_lists_each_directive_once():
    """The header value is one directive per name, in a fixed order."""
    assert content_security_policy() == POLICY
    with_bucket = content_security_policy(("https://b.s3.amazonaws.com",))
    assert with_bucket == POLICY.replace("data:;", "data: https://b.s3.amazonaws.com;")


# No inline script or style anywhere: the policy would block it.

INLINE = {
    "inline <script>": re.compile(r"(?<!`)<script(?![^>\n]*\ssrc=)[^>\n]*>", re.I),
    "event handler attribute": re.compile(r"<[a-z][^>\n]*\son[a-z]+\s*=(?!=)", re.I),
    "style attribute": re.compile(r"<[a-z][^>\n]*\sstyle\s*=(?!=)", re.I),
    "<style> element": re.compile(r"<style[\s>]", re.I),
    "javascript: URL": re.compile(r"(?<!`)javascript:", re.I),
}


def _markup_sources():
    """Every template, and every module that builds HTML with Markup."""
    yield from sorted((PORTAL / "templates").rglob("*.html"))
    yield from sorted(p for p in PORTAL.rglob("*.py") if "Markup(" in p.read_text("utf-8"))


@pytest.mark.parametrize("kind", sorted(INLINE))
def test_pages_need_no_inline_script_or_style(kind):
    """No template or HTML-building module uses what the policy forbids."""
    found = [
        f"{path.relative_to(PORTAL)}:{text.count(chr(10), 0, match.start()) + 1}"
        for path in _markup_sources()
        for text in [path.read_text("utf-8")]
        for match in INLINE[kind].finditer(text)
    ]
    assert found == [], f"{kind} in {found}"


def test_the_inline_check_finds_what_it_looks_for():
    """The patterns above do catch inline script, handlers and styles."""
    samples = {
        "inline <script>": '<script>alert(1)</script> <script type="module">',
        "event handler attribute": '<button class="b" onclick="go()">',
        "style attribute": '<div class="x" style="color: red">',
        "<style> element": "<style>p {}</style>",
        "javascript: URL": '<a href="javascript:alert(1)">',
    }
    for kind, markup in samples.items():
        assert INLINE[kind].search(markup), kind
    allowed = '<script src="/static/js/portal.js"></script> {% if style == "x" %}'
    assert not any(pattern.search(allowed) for pattern in INLINE.values())

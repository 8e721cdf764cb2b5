"""Serving under gunicorn with gunicorn.conf.py, and the load balancer's health check."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from portal import create_app
from portal.extensions import db, limiter

ROOT = Path(__file__).resolve().parent.parent
SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url, headers=None):
    """(status, headers, body) of a GET, error statuses included."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


@pytest.fixture
def gunicorn(tmp_path):
    """A production portal under gunicorn (this repository's config) on a free port."""
    pytest.importorskip("gunicorn", reason="needs gunicorn (requirements.txt)")
    if os.name != "posix":
        pytest.skip("needs a POSIX system for gunicorn (CI runs on Linux)")
    port = _free_port()
    env = {
        **os.environ,
        "PORTAL_ENV": "production",
        "SECRET_KEY": "g" * 64,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.db'}",
        "SEARCH_INDEX_PATH": str(tmp_path / "search-index"),
        "STORAGE_PATH": str(tmp_path / "attachments"),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
    }
    log = (tmp_path / "gunicorn.log").open("w+")
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if server.poll() is not None:
                log.seek(0)
                pytest.fail(f"gunicorn exited with {server.returncode}:\n{log.read()[-3000:]}")
            try:
                _get(f"{base}/healthz")
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("gunicorn did not answer within 30 seconds")
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def test_gunicorn_serves_the_health_check_with_security_headers(gunicorn):
    """Under gunicorn in production, /healthz answers ok with the security headers."""
    status, headers, body = _get(f"{gunicorn}/healthz")
    assert status == 200 and '"status":"ok"' in body.replace(" ", "")
    for name in SECURITY_HEADERS:
        assert headers[name], name
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["Strict-Transport-Security"] is None  # plain HTTP


def test_gunicorn_pages_carry_secure_cookies_and_hsts_behind_tls(gunicorn):
    """Behind a TLS-terminating proxy on loopback, pages get HSTS and Secure cookies."""
    status, headers, body = _get(f"{gunicorn}/login", {"X-Forwarded-Proto": "https"})
    assert status == 200 and "Sign in" in body
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    cookie = headers["Set-Cookie"].lower()
    assert "secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie


def test_gunicorn_config_reads_its_settings_from_the_environment(monkeypatch):
    """GUNICORN_BIND, WEB_CONCURRENCY and friends set bind, workers and timeouts."""
    settings = {
        "GUNICORN_BIND": "0.0.0.0:9000, unix:/run/portal.sock",
        "WEB_CONCURRENCY": "3",
        "GUNICORN_TIMEOUT": "90",
        "GUNICORN_MAX_REQUESTS": "500",
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    config = _load_config()
    assert config["bind"] == ["0.0.0.0:9000", "unix:/run/portal.sock"]
    assert (config["workers"], config["timeout"], config["max_requests"]) == (3, 90, 500)
    assert config["worker_class"] == "sync" and config["preload_app"] is False
    assert config["max_requests_jitter"] > 0 and config["accesslog"] == "-"


def test_gunicorn_config_defaults(monkeypatch):
    """Without settings: loopback port 8000 (or PORT), 2 x cores + 1 workers."""
    for name in ("GUNICORN_BIND", "PORT", "WEB_CONCURRENCY"):
        monkeypatch.delenv(name, raising=False)
    config = _load_config()
    assert config["bind"] == ["127.0.0.1:8000"]
    assert config["workers"] == (os.cpu_count() or 1) * 2 + 1
    monkeypatch.setenv("PORT", "5005")
    assert _load_config()["bind"] == ["127.0.0.1:5005"]


def _load_config() -> dict:
    namespace: dict = {"__file__": str(ROOT / "gunicorn.conf.py")}
    exec(compile((ROOT / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"), namespace)
    return namespace


# The health check itself


def test_health_check_needs_no_sign_in_and_is_never_cached(client):
    """A load balancer without any cookie gets 200 and a response it must not cache."""
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def test_health_check_answers_503_when_the_database_is_down(tmp_path):
    """With the database out of reach, /healthz says so with 503 and takes no page down."""
    app = _app(tmp_path, f"sqlite:///{tmp_path / 'missing-folder' / 'portal.db'}")
    try:
        response = app.test_client().get("/healthz")
        assert response.status_code == 503
        assert response.json == {"status": "unavailable", "database": "unreachable"}
    finally:
        _dispose(app)


def test_health_check_is_not_rate_limited(database_url, tmp_path):
    """Even with a default rate limit on every route, the health check always answers."""
    app = _app(tmp_path, database_url, RATELIMIT_DEFAULT="2 per minute")
    try:
        client = app.test_client()
        assert [client.get("/healthz").status_code for _ in range(5)] == [200] * 5
        assert [client.get("/").status_code for _ in range(3)] == [302, 302, 429]
    finally:
        limiter.limit_manager.set_default_limits([])  # the limiter object is shared by apps
        _dispose(app)


def _app(tmp_path, database_url, **settings):
    return create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=database_url,
        SEARCH_INDEX_PATH=str(tmp_path / "search-index"),
        STORAGE_PATH=str(tmp_path / "attachments"),
        **settings,
    )


def _dispose(app):
    with app.app_context():
        db.session.remove()
        db.engine.dispose()

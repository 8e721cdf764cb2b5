"""Real servers for the concurrency tests: gunicorn on a free port, a browser-like client, and
a database the test and the server share.

The ``app`` fixture here wraps conftest's: import it into a test module and the test's
factories (``make_user``, ``make_document``...) write where the server reads, a migrated
SQLite file or the session's PostgreSQL schema.
"""

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
import redis

from portal import create_app
from portal.extensions import db
from tests.helpers import CSRF_RE

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SECRET_KEY = "concurrency-tests-secret-key-0123456789abcdef"
REDIS_URL = "redis://127.0.0.1:6379/15"
# Each access log line: the worker's pid (as <1234>), status, method and path.
ACCESS_FORMAT = "%(p)s %(s)s %(m)s %(U)s"


def redis_up(url=REDIS_URL) -> bool:
    try:
        return redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except redis.exceptions.ConnectionError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def production_env(database_url: str, tmp_path: Path, **settings) -> dict:
    """Environment variables for ``PORTAL_ENV=production`` on ``database_url``."""
    env = {
        **os.environ,
        "PORTAL_ENV": "production",
        "SECRET_KEY": SECRET_KEY,
        "DATABASE_URL": database_url,
        "SEARCH_INDEX_PATH": str(tmp_path / "search-index"),
        "STORAGE_PATH": str(tmp_path / "attachments"),
        "MAIL_BACKEND": "console",
    }
    env.update({name: str(value) for name, value in settings.items()})
    return env


_migrated_template: dict[str, Path] = {}


def migrated_sqlite(tmp_path: Path, tmp_path_factory) -> str:
    """The URL of a SQLite file built by ``flask db upgrade`` (once per session, then copied)."""
    if "file" not in _migrated_template:
        template = tmp_path_factory.mktemp("migrated") / "portal.db"
        subprocess.run(
            [str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"],
            cwd=ROOT,
            env=production_env(f"sqlite:///{template}", template.parent),
            check=True,
            capture_output=True,
            timeout=120,
        )
        _migrated_template["file"] = template
    path = tmp_path / "portal.db"
    shutil.copy(_migrated_template["file"], path)
    return f"sqlite:///{path}"


@pytest.fixture
def app(app, database_url, tmp_path, tmp_path_factory):
    """The test app on a database a server can share: PostgreSQL's schema, or a SQLite file."""
    if database_url.startswith("postgresql"):
        yield app
        return
    shared = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=migrated_sqlite(tmp_path, tmp_path_factory),
        SEARCH_INDEX_PATH=str(tmp_path / "search-index"),
        STORAGE_PATH=str(tmp_path / "attachments"),
    )
    yield shared
    with shared.app_context():
        db.session.remove()
        db.engine.dispose()


def database_of(app) -> str:
    return app.config["SQLALCHEMY_DATABASE_URI"]


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    text: str


class Gunicorn:
    """``gunicorn wsgi:app`` in production settings on a free port, until ``stop()``.

    Its access log names the worker (pid) that answered each request; ``errors()`` is
    everything it wrote to stderr (its own log and the portal's).
    """

    def __init__(self, app, tmp_path: Path, *, workers=2, threads=None, **settings):
        self.port = free_port()
        self.tmp_path = tmp_path
        self.access_log = tmp_path / f"access-{self.port}.log"
        self.error_log = tmp_path / f"errors-{self.port}.log"
        command = [str(BIN / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{self.port}"]
        if threads:
            command += ["-k", "gthread", "--threads", str(threads)]
        command += ["--access-logfile", str(self.access_log)]
        command += ["--access-logformat", ACCESS_FORMAT, "wsgi:app"]
        self.command = command
        self.env = production_env(database_of(app), tmp_path, **settings)
        self.process = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self, timeout=30.0):
        with open(self.error_log, "ab") as errors:
            self.process = subprocess.Popen(
                self.command, cwd=ROOT, env=self.env, stdout=errors, stderr=errors
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.errors()}")
            try:
                if Browser(self).get("/healthz").status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer /healthz within {timeout} s:\n{self.errors()}")

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def errors(self) -> str:
        return self.error_log.read_text(errors="replace") if self.error_log.exists() else ""

    def answers(self) -> list[tuple[int, int, str, str]]:
        """(worker pid, status, method, path) of every request answered so far."""
        rows = []
        for line in self.access_log.read_text().splitlines():
            pid, status, method, path = line.split(" ", 3)
            rows.append((int(pid.strip("<>")), int(status), method, path))
        return rows


class Browser:
    """A client keeping cookies, one fresh connection per request (sync workers close them)."""

    def __init__(self, server: Gunicorn):
        self.server = server
        self.cookies: dict[str, str] = {}

    def _request_bytes(self, method, path, form=None) -> tuple[bytes, bytes]:
        """The request's head (without its final blank line) and the rest."""
        body = urlencode(form).encode() if form is not None else b""
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.server.port}"]
        lines += ["Connection: close", "Accept: text/html", f"Content-Length: {len(body)}"]
        if form is not None:
            lines.append("Content-Type: application/x-www-form-urlencoded")
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        return "\r\n".join(lines).encode() + b"\r\n", b"\r\n" + body

    def _connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.server.port), timeout=60)

    def _receive(self, sock, method) -> Response:
        raw = http.client.HTTPResponse(sock, method=method)
        raw.begin()
        response = Response(raw.status, raw.headers, raw.read().decode(errors="replace"))
        for header in raw.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel["expires"] and "1970" in morsel["expires"]:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return response

    def request(self, method, path, form=None) -> Response:
        head, rest = self._request_bytes(method, path, form)
        with self._connect() as sock:
            sock.sendall(head + rest)
            return self._receive(sock, method)

    def get(self, path) -> Response:
        return self.request("GET", path)

    def csrf_token(self, path) -> str:
        page = self.get(path).text
        match = CSRF_RE.search(page)
        assert match, f"no CSRF token on {path}"
        return match.group(1) or match.group(2)

    def post(self, path, form, *, token_from=None) -> Response:
        """POST a form with the session's CSRF token, read from ``token_from`` (else ``path``)."""
        return self.request(
            "POST", path, {"csrf_token": self.csrf_token(token_from or path), **form}
        )

    def sign_in(self, email, password) -> Response:
        return self.post("/login", {"email": email, "password": password})


def on_both_workers(first: tuple, second: tuple) -> tuple[Response, Response]:
    """Send two requests so that two different sync workers must answer them.

    Each is ``(browser, method, path, form)``. The first request's head is sent without its
    final line, so the worker that accepted it waits for the rest; only another worker can
    answer the second. Then the first is completed. Returns both responses.
    """
    browser_one, method_one, *args_one = first
    browser_two, method_two, *args_two = second
    head, rest = browser_one._request_bytes(method_one, *args_one)
    with browser_one._connect() as held:
        held.sendall(head)
        answered_second = browser_two.request(method_two, *args_two)
        held.sendall(rest)
        answered_first = browser_one._receive(held, method_one)
    return answered_first, answered_second

"""Helpers tests import: posting forms with CSRF, signing in, counting SQL statements."""

import re
import uuid
from contextlib import contextmanager

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from portal.extensions import db

PASSWORD = "correct horse battery"

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_token(client, url="/"):
    """A valid CSRF token for this client's session, read from a rendered page."""
    page = client.get(url, follow_redirects=True).get_data(as_text=True)
    match = CSRF_RE.search(page)
    assert match, f"no CSRF token on {url}"
    return match.group(1) or match.group(2)


def post(client, url, data=None, *, token_from="/", **kwargs):
    """POST a form the way a browser would, with the session's CSRF token."""
    data = dict(data or {})
    data.setdefault("csrf_token", csrf_token(client, token_from))
    return client.post(url, data=data, **kwargs)


def login(client, user_or_email, password=PASSWORD, **extra):
    """Sign in through the real form; returns the response (not followed)."""
    email = getattr(user_or_email, "email", user_or_email)
    return post(
        client, "/login", {"email": email, "password": password, **extra}, token_from="/login"
    )


@contextmanager
def count_queries(app):
    """Count the SQL statements run inside the block: ``with count_queries(app) as n: ...; n()``."""
    statements = []
    with app.app_context():
        engine = db.engine

    def before(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield lambda: len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", before)


@contextmanager
def private_schema(postgres_url: str, prefix: str):
    """A new PostgreSQL schema, dropped afterwards; yields a URL whose search_path is it."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

"""Fixtures: an app with a fresh database per test, factories, and one sign-in helper.

Tests run on SQLite in memory by default. With ``TEST_DATABASE_URL`` set to a PostgreSQL
URL, the session creates its own schema there (so parallel runs do not meet), every test
starts from empty tables, and the schema is dropped at the end.

Do not hold an app context open while using ``client``: a request would then share the
test's ``g`` and database session. Factories return detached objects whose columns are
loaded; use their ids in requests.
"""

import itertools
import os
from datetime import date

import jinja2
import pytest
from sqlalchemy import text

from portal import create_app
from portal.audiences.services import AudienceSpec
from portal.extensions import db
from portal.partners.models import Partner, Team
from portal.people.models import User
from tests.helpers import PASSWORD, private_schema

PG_URL = os.environ.get("TEST_DATABASE_URL")
_counter = itertools.count(1)


def _unique(prefix):
    return f"{prefix}{next(_counter)}"


class _CompiledTemplates(jinja2.BytecodeCache):
    """Templates compiled once per test session, not once per test's app (keyed by source)."""

    def __init__(self):
        self.code = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.code and bucket.checksum == self.code[bucket.key][0]:
            bucket.bytecode_from_string(self.code[bucket.key][1])

    def dump_bytecode(self, bucket):
        self.code[bucket.key] = (bucket.checksum, bucket.bytecode_to_string())


_COMPILED_TEMPLATES = _CompiledTemplates()


@pytest.fixture(scope="session")
def database_url():
    """The URL every test app uses: SQLite in memory, or a private PostgreSQL schema."""
    if not PG_URL:
        yield "sqlite://"
        return
    with private_schema(PG_URL, f"test_{os.getpid()}") as url:
        yield url


@pytest.fixture
def app(database_url, tmp_path):
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=database_url,
        SEARCH_INDEX_PATH=str(tmp_path / "search-index"),
        STORAGE_PATH=str(tmp_path / "attachments"),
    )
    app.jinja_env.bytecode_cache = _COMPILED_TEMPLATES
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        if db.engine.dialect.name == "postgresql":
            tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            with db.engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        else:
            # document <-> document_version reference each other; SQLite cannot drop the
            # constraint first, so drop the tables with foreign keys off.
            with db.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
                db.metadata.drop_all(conn)
                conn.commit()
        db.engine.dispose()


@pytest.fixture
def shared_app(app, database_url, tmp_path):
    """An app several threads can write to at once: PostgreSQL, or a SQLite file (not memory)."""
    if database_url.startswith("postgresql"):
        yield app
        return
    other = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'concurrent.db'}",
        SEARCH_INDEX_PATH=str(tmp_path / "concurrent-index"),
        STORAGE_PATH=str(tmp_path / "concurrent-files"),
    )
    with other.app_context():
        db.create_all()
    yield other
    with other.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def outbox(app):
    """Messages the memory mail backend has 'sent'."""
    return app.extensions["mail"].outbox


def _save(app, obj):
    with app.app_context():
        db.session.add(obj)
        db.session.commit()
        db.session.refresh(obj)
        db.session.expunge(obj)
    return obj


@pytest.fixture
def make_partner(app):
    def make(slug=None, name=None, **kwargs):
        slug = slug or _unique("partner-")
        kwargs.setdefault("timezone", "Asia/Manila")
        return _save(app, Partner(slug=slug, name=name or slug.title(), **kwargs))

    return make


@pytest.fixture
def make_team(app, make_partner):
    def make(partner=None, name=None, **kwargs):
        partner = partner or make_partner()
        kwargs.setdefault("timezone", partner.timezone)
        return _save(app, Team(partner_id=partner.id, name=name or _unique("Team "), **kwargs))

    return make


@pytest.fixture
def make_user(app, make_partner):
    """A person; trainers and agents get a new partner unless one is given."""

    def make(role="agent", partner=None, team=None, password=PASSWORD, **kwargs):
        if role in ("trainer", "agent") and partner is None:
            partner = team and _partner_of(app, team) or make_partner()
        kwargs.setdefault("email", f"{_unique(role)}@example.com")
        kwargs.setdefault("name", kwargs["email"].split("@")[0].title())
        kwargs.setdefault("hire_date", date(2026, 1, 5) if role in ("trainer", "agent") else None)
        user = User(
            role=role,
            partner_id=partner.id if partner else None,
            team_id=team.id if team else None,
            **kwargs,
        )
        if password:
            with app.app_context():
                user.set_password(password)
        return _save(app, user)

    return make


def _partner_of(app, team):
    with app.app_context():
        return db.session.get(Partner, team.partner_id)


@pytest.fixture
def make_document(app):
    """A document, published unless ``publish=False``.

    ``author`` None makes a company-wide document (as content sync does); a trainer author
    makes a partner-local one. ``audience`` is an AudienceSpec or a dict of its fields.
    """
    from portal.library import services

    def make(
        title=None,
        body="Read this carefully.\n\n## Details\n\nThe details.",
        *,
        author=None,
        kind="playbook",
        audience=None,
        publish=True,
        **details,
    ):
        title = title or _unique("Document ")
        if isinstance(audience, dict):
            audience = AudienceSpec(**audience)
        with app.app_context():
            actor = db.session.get(User, author.id) if author is not None else None
            document = services.create_document(
                actor,
                services.DocumentDetails(
                    title=title, kind=kind, audience=audience or AudienceSpec(), **details
                ),
                body=body,
            )
            if publish:
                services.publish(actor, document)
            db.session.commit()
            db.session.refresh(document)
            db.session.expunge(document)
        return document

    return make

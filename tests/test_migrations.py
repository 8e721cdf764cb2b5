"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

import logging.config
import os
from pprint import pformat

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import CheckConstraint, inspect

from portal import create_app
from portal.extensions import db
from tests.helpers import private_schema

PG_URL = os.environ.get("TEST_DATABASE_URL")


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):
    """The URL of an empty database: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    if not PG_URL:
        pytest.skip("needs PostgreSQL: set TEST_DATABASE_URL to check the migrations (CI sets it)")
    with private_schema(PG_URL, "mig") as url:
        yield url


@pytest.fixture
def migrated_app(empty_database, monkeypatch):
    """An app on the empty database; Alembic's env.py may not reconfigure the test's logging."""
    # migrations/env.py calls fileConfig(alembic.ini), which would disable every logger
    # created so far (the portal's included) for the rest of the test session.
    monkeypatch.setattr(logging.config, "fileConfig", lambda *args, **kwargs: None)
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=empty_database)
    yield app
    with app.app_context():
        db.engine.dispose()


def schema_diff(app) -> list:
    """What autogenerate would still change to make the database match the models."""
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def table_names(app) -> set[str]:
    with app.app_context():
        return set(inspect(db.engine).get_table_names())


def test_migrated_schema_matches_models(migrated_app):
    """`flask db upgrade` on an empty database creates exactly the tables the models describe."""
    with migrated_app.app_context():
        flask_migrate.upgrade()
    diff = schema_diff(migrated_app)
    assert diff == [], "the migrations and the models differ:\n" + pformat(diff)
    assert {t.name for t in db.metadata.sorted_tables} <= table_names(migrated_app)


def test_downgrade_to_base_and_upgrade_again(migrated_app):
    """The migrations can be rolled back to an empty database and applied again."""
    with migrated_app.app_context():
        flask_migrate.upgrade()
        flask_migrate.downgrade(revision="base")
    assert table_names(migrated_app) <= {"alembic_version"}
    with migrated_app.app_context():
        flask_migrate.upgrade()
    diff = schema_diff(migrated_app)
    assert diff == [], "after downgrade and upgrade the schema differs:\n" + pformat(diff)


def test_check_constraints_are_migrated(migrated_app):
    """Rules the database enforces (staff have no partner) exist after the migrations too.

    Autogenerate does not compare CHECK constraints, so they are compared by name here.
    """
    with migrated_app.app_context():
        flask_migrate.upgrade()
        inspector = inspect(db.engine)
        for table in db.metadata.sorted_tables:
            expected = {
                c.name for c in table.constraints if isinstance(c, CheckConstraint) and c.name
            }
            found = {c["name"] for c in inspector.get_check_constraints(table.name)}
            assert expected <= found, f"{table.name}: missing CHECK {expected - found}"


def test_migrations_have_a_single_head():
    """Every migration chains into one line, so `db upgrade` never stops at a branch point."""
    app = create_app("testing")
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"several migration heads: {heads}; merge them"

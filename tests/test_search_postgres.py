"""The PostgreSQL search backend's own promises: chosen only on PostgreSQL, its query syntax,
a GIN index the matching uses, rebuilds searches do not notice, and writers that never collide.

What both backends promise is tested once for both in test_search.py and test_search_page.py.
"""

import logging.config
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import flask_migrate
import pytest
from sqlalchemy import func, inspect, select, text

from portal import create_app
from portal.extensions import db
from portal.people.models import User
from portal.search import get_search
from portal.search.base import IndexedDocument, SearchQuery, SearchViewer
from portal.search.postgres_backend import CONFIG, audience_conditions, entry
from tests import search_helpers
from tests.helpers import private_schema
from tests.search_helpers import add_documents, only_on, run_search

app = search_helpers.app  # conftest's app with the search backend under test
search_backend = search_helpers.search_backend
world = search_helpers.world

PG_URL = os.environ.get("TEST_DATABASE_URL")


@pytest.mark.parametrize(
    "name, message",
    [("postgres", "needs the database on PostgreSQL"), ("solr", "must be whoosh or postgres")],
)
def test_a_backend_that_cannot_work_here_is_refused_clearly(name, message):
    """Choosing an unknown backend, or postgres on SQLite, stops start-up with a clear message."""
    with pytest.raises(RuntimeError, match=message):
        create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://", SEARCH_BACKEND=name)


@only_on("postgres")
def test_postgres_minus_leaves_a_word_out(app, world, make_document):
    """websearch syntax: -word leaves out the documents with that word (as NOT word does)."""
    make_document("Chargebacks", "Refund the card today.", tags=["billing"])
    make_document("Refund cards", "card refund")
    assert run_search(app, world.agent, "refund -billing")[0] == ["Refund cards"]
    assert run_search(app, world.agent, '-"card today" refund')[0] == ["Refund cards"]


@only_on("postgres")
def test_postgres_offers_no_spelling_suggestions(app, world, make_document):
    """The PostgreSQL backend suggests no spelling (that would need pg_trgm, not installed
    everywhere): a misspelt search says nothing matches."""
    make_document("Escalation path", "Escalate billing disputes to a supervisor.")
    titles, page = run_search(app, world.agent, "escalaton")
    assert titles == [] and page.suggestion is None and page.message is None


@only_on("postgres")
def test_postgres_searches_see_the_old_entries_until_a_rebuild_commits(app, world):
    """While `search reindex` runs, searches still find the old entries; then the new ones."""
    ids = add_documents(app, *(dict(title=f"Guide {n}", body="heron") for n in range(3)))
    fresh = [
        IndexedDocument(
            id=i, title=f"Guide {i}", body="osprey", kind="playbook", status="published"
        )
        for i in ids[:2]
    ]
    seen = []
    with app.app_context():
        backend = get_search()
        staff = db.session.get(User, world.prm.id)

        def progress(count):
            seen.append((count, backend.search(SearchQuery(text="heron"), staff).total))

        assert backend.rebuild(iter(fresh), len(fresh), progress) == 2
        assert backend.count() == 2
    assert seen == [(2, 3)]
    assert run_search(app, world.prm, "heron")[0] == []
    assert len(run_search(app, world.prm, "osprey")[0]) == 2


@only_on("postgres")
def test_postgres_writers_at_once_lose_nothing(app):
    """Four workers writing the same documents at the same moment: every one is kept, once."""
    ids = add_documents(app, *(dict(title=f"Guide {n}", body="mongoose") for n in range(20)))
    with app.app_context():
        backend = get_search()
    backend.clear()
    documents = [
        IndexedDocument(
            id=i, title=f"Guide {i}", body="mongoose", kind="playbook", status="published"
        )
        for i in ids
    ]
    start = threading.Barrier(4)

    def write(part):
        start.wait(timeout=30)
        for document in part:
            backend.index([document])

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(write, [documents[0::2], documents[1::2]] * 2))
    assert backend.count() == 20


@only_on("postgres")
def test_postgres_matches_can_come_from_the_gin_index(app, world, make_document):
    """Matching an agent's search is answered from the GIN index on the words."""
    make_document("Heron", "heron")
    with app.app_context(), db.engine.connect() as conn:
        agent = db.session.get(User, world.agent.id)
        tsquery = func.websearch_to_tsquery(CONFIG, "heron")
        stmt = select(entry.c.document_id).where(
            entry.c.vector.op("@@")(tsquery), *audience_conditions(SearchViewer.of(agent))
        )
        compiled = stmt.compile(dialect=conn.dialect)
        conn.exec_driver_sql("SET enable_seqscan = off")  # a tiny table is cheaper to scan
        plan = conn.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params).scalars().all()
    assert any("ix_search_entry_vector" in line for line in plan), "\n".join(plan)


def test_postgres_migration_creates_the_table_with_a_gin_index(monkeypatch):
    """`db upgrade` makes search_entry with a tsvector column and a GIN index; downgrading
    to the revision before drops it."""
    if not PG_URL:
        pytest.skip("needs PostgreSQL: set TEST_DATABASE_URL (CI sets it)")
    monkeypatch.setattr(logging.config, "fileConfig", lambda *args, **kwargs: None)
    with private_schema(PG_URL, "searchmig") as url:
        migrated = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
        with migrated.app_context():
            flask_migrate.upgrade(revision="0008_search_entries")
            with db.engine.connect() as conn:
                index = conn.scalar(
                    text(
                        "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema()"
                        " AND indexname = 'ix_search_entry_vector'"
                    )
                )
            columns = {c["name"]: c["type"] for c in inspect(db.engine).get_columns("search_entry")}
            flask_migrate.downgrade(revision="0007_report_indexes")
            remaining = inspect(db.engine).get_table_names()
            db.engine.dispose()
    assert index is not None and "USING gin (vector)" in index
    assert type(columns["vector"]).__name__ == "TSVECTOR"
    assert "search_entry" not in remaining and "document" in remaining

"""Shared by the search test suites: the backends they run on, a world of two partners,
and quick ways to add documents and search as someone.

The ``app`` fixture here wraps conftest's: import it (with ``search_backend`` and ``world``)
into a test module to run that module once per backend in ``SEARCH_BACKENDS``. The postgres
runs skip unless the tests run on PostgreSQL. A test that holds for one backend only says so
in its name and narrows ``search_backend`` with ``only_on``.
"""

from contextlib import contextmanager
from types import SimpleNamespace

import pytest

from portal.audiences.services import AudienceSpec
from portal.extensions import db
from portal.library import services as library
from portal.people.models import User
from portal.search import get_search
from portal.search.services import search_library

SEARCH_BACKENDS = ["whoosh", "postgres"]


@pytest.fixture(params=SEARCH_BACKENDS)
def search_backend(request, database_url):
    """The name of the search backend under test (postgres only on a PostgreSQL database)."""
    if request.param == "postgres" and not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL: set TEST_DATABASE_URL (CI sets it)")
    return request.param


def only_on(*backends):
    """Run a test of a module parametrized by ``search_backend`` on these backends only."""
    return pytest.mark.parametrize("search_backend", backends, indirect=True)


@pytest.fixture
def app(search_backend, app):
    """The test app with the search backend under test."""
    app.config["SEARCH_BACKEND"] = search_backend
    app.extensions.pop("search", None)
    with app.app_context():
        get_search()
    return app


@pytest.fixture
def world(make_partner, make_team, make_user):
    """Partners A and B (teams a1, a2, b1), an agent and a trainer of each, and a PRM."""
    a, b = make_partner(name="Alpha BPO"), make_partner(name="Bravo BPO")
    a1, a2, b1 = make_team(partner=a), make_team(partner=a), make_team(partner=b)
    return SimpleNamespace(
        a=a,
        b=b,
        a1=a1,
        a2=a2,
        b1=b1,
        agent=make_user(role="agent", partner=a, team=a1, language="en"),
        trainer=make_user(role="trainer", partner=a, team=a1),
        agent_b=make_user(role="agent", partner=b, team=b1),
        trainer_b=make_user(role="trainer", partner=b, team=b1),
        prm=make_user(role="prm"),
    )


def add_documents(app, *specs):
    """Create (and publish, unless publish=False) documents in one transaction: one index write.

    Each spec is a dict of DocumentDetails fields plus body, author, audience and publish.
    Returns their ids in order.
    """
    ids = []
    with app.app_context():
        for spec in specs:
            spec = dict(spec)
            author, publish = spec.pop("author", None), spec.pop("publish", True)
            body = spec.pop("body", "zebra")
            audience = AudienceSpec(**spec.pop("audience", {}))
            spec.setdefault("kind", "playbook")
            actor = db.session.get(User, author.id) if author is not None else None
            details = library.DocumentDetails(audience=audience, **spec)
            document = library.create_document(actor, details, body=body)
            if publish:
                library.publish(actor, document)
            ids.append(document.id)
        db.session.commit()
    return ids


def run_search(app, person, text, **filters):
    """(titles shown in order, the page) for ``person`` searching ``text``."""
    with app.app_context():
        viewer = db.session.get(User, person.id)
        _, page = search_library(viewer, text, **filters)
        return [hit.title for hit in page.hits], page


@contextmanager
def unwritable_index(app, tmp_path):
    """The app's search backend unable to write: the Whoosh index folder is a file, or the
    search_entry table is gone (renamed away, and back afterwards)."""
    if app.config["SEARCH_BACKEND"] == "postgres":
        with app.app_context(), db.engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE search_entry RENAME TO search_entry_away")
        try:
            yield
        finally:
            with app.app_context(), db.engine.begin() as conn:
                conn.exec_driver_sql("ALTER TABLE search_entry_away RENAME TO search_entry")
        return
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the index should be")
    app.config["SEARCH_INDEX_PATH"] = str(blocked)
    app.extensions.pop("search")
    with app.app_context():
        get_search()
    yield

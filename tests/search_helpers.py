"""Shared by the search test suites: the backends they run on, a world of two partners,
and quick ways to add documents and search as someone.

The ``app`` fixture here wraps conftest's: import it (and ``world``) into a test module to run
that module once per backend in ``SEARCH_BACKENDS``.
"""

from types import SimpleNamespace

import pytest

from portal.audiences.services import AudienceSpec
from portal.extensions import db
from portal.library import services as library
from portal.people.models import User
from portal.search import get_search
from portal.search.services import search_library

SEARCH_BACKENDS = ["whoosh"]


@pytest.fixture(params=SEARCH_BACKENDS)
def app(app, request):
    """The test app with the search backend under test."""
    app.config["SEARCH_BACKEND"] = request.param
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

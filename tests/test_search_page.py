"""The /search page, through HTTP: what a person sees and types."""

import re

import pytest
from markupsafe import escape

from tests import search_helpers
from tests.helpers import count_queries, login
from tests.search_helpers import add_documents, only_on, run_search

app = search_helpers.app  # conftest's app, once per search backend
search_backend = search_helpers.search_backend
world = search_helpers.world

HIT_RE = re.compile(r'<li class="search-hit[^"]*">\s*<h2[^>]*><a href="/library/(\d+)"')


def _page(client, **args):
    response = client.get("/search", query_string=args)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_search_page_shows_hits_snippets_facets_and_pages(app, client, world, make_document):
    """The page lists linked titles with highlighted snippets, kind, tags, facets and pages."""
    ids = add_documents(
        app,
        *(
            dict(title=f"Refund case {n:02}", body=f"Case {n}: refund them.", tags=["billing"])
            for n in range(12)
        ),
    )
    login(client, world.agent)
    page = _page(client, q="refund")
    assert "12 documents match “refund”" in page
    assert len(HIT_RE.findall(page)) == 10
    assert "<mark>refund</mark>" in page and "<mark>Refund</mark> case" in page
    assert "Playbook" in page and "#billing" in page
    assert 'href="/search?q=refund&amp;kind=playbook"' in page
    assert 'href="/search?q=refund&amp;page=2"' in page
    second = _page(client, q="refund", page=2)
    assert len(HIT_RE.findall(second)) == 2
    assert {int(i) for i in HIT_RE.findall(page + second)} == set(ids)
    assert "11–12 of 12" in second
    assert len(HIT_RE.findall(_page(client, q="refund", page=99))) == 2


def test_snippets_escape_the_documents_text(app, client, world, make_document):
    """Text that looks like HTML in a document is shown as text in snippets, never run."""
    make_document("Safe pasting", "Never paste `<script>alert(1)</script>` into a ticket.")
    login(client, world.agent)
    page = _page(client, q="paste")
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.parametrize(
    "text, message",
    [
        ("x" * 5000, "Search terms are limited to 200 characters"),
        ("!!!", "Type some words to search"),
        ("***", "Type some words to search"),
        ("the and of", "too common to search for"),
        ('title:"', "its words were searched for"),
    ],
)
def test_bad_queries_get_a_clear_message(app, client, world, make_document, text, message):
    """Too long, symbols only, only common words or broken syntax: a message, never an error."""
    make_document("Refund rules", "refund")
    login(client, world.agent)
    page = _page(client, q=text)
    assert message in page
    assert f'value="{escape(text[:200])}"' in page  # the box keeps what they typed


@pytest.mark.parametrize(
    "text",
    [
        '"unbalanced quote',
        "(refund",
        "refund)",
        "AND",
        "OR NOT",
        "title:",
        "a:b:c",
        "refund^",
        "refund\x00",
        "-",
        '-"',
    ],
)
def test_query_syntax_errors_never_fail(app, client, world, make_document, text):
    """Unbalanced quotes or brackets and stray operators still give a page."""
    make_document("Refund rules", "refund")
    login(client, world.agent)
    assert "Search the library" in _page(client, q=text)


@pytest.mark.parametrize(
    "text", ["status:draft walrus", "partner:{b} walrus", "a_partners:any walrus", "kind:* walrus"]
)
def test_field_names_cannot_widen_what_an_agent_sees(app, world, make_document, text):
    """Naming index fields in a query finds nothing the agent may not see."""
    make_document("Bravo walrus", "walrus status draft partner any", author=world.trainer_b)
    make_document("Draft walrus", "walrus status draft partner any", publish=False)
    titles, _ = run_search(app, world.agent, text.format(b=world.b.id))
    assert titles == []


def test_search_page_states(app, client, world, make_document):
    """No words yet and no results each say what to do next."""
    make_document("Escalation path", "escalate")
    login(client, world.agent)
    assert "Type a few words to search" in _page(client)
    page = _page(client, q="escalaton")
    assert "No documents you can read match “escalaton”" in page


@only_on("whoosh")
def test_whoosh_suggestion_links_to_the_corrected_search(app, client, world, make_document):
    """A misspelt search offers the corrected words as a link."""
    make_document("Escalation path", "escalate")
    login(client, world.agent)
    page = _page(client, q="escalaton")
    assert 'Did you mean\n  <a href="/search?q=escalation"><strong>escalation</strong></a>?' in page


def test_search_query_count_does_not_grow_with_results(app, client, world, make_document):
    """A search page runs the same number of SQL queries for 2 hits as for 10."""
    add_documents(app, *(dict(title=f"Short {n}", body="otter") for n in range(2)))
    add_documents(
        app, *(dict(title=f"Long {n}", body="beaver", tags=["t1", "t2"]) for n in range(12))
    )
    login(client, world.agent)
    _page(client, q="otter")
    with count_queries(app) as few:
        _page(client, q="otter")
    with count_queries(app) as many:
        _page(client, q="beaver")
    assert few() == many()


def test_search_needs_sign_in(client):
    """Signed-out visitors are sent to sign in."""
    response = client.get("/search?q=refund")
    assert response.status_code == 302 and "/login" in response.headers["Location"]

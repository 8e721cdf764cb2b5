"""The Whoosh backend's own promises: clean imports, a lazily created index, a safe parser."""

import os
import subprocess
import sys

import pytest

from portal import create_app
from portal.search import get_search
from portal.search.base import IndexedDocument
from portal.search.whoosh_backend import WhooshBackend
from portal.search.whoosh_schema import SEARCHABLE_FIELDS, parse_query


def test_whoosh_imports_without_warnings():
    """whoosh-reloaded imports cleanly even when every warning is an error."""
    code = "import whoosh.index, whoosh.qparser, whoosh.highlight, whoosh.sorting, whoosh.spelling"
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "text",
    [
        "status:draft",
        "partner:3",
        "a_partners:any",
        "reach:any",
        "kind:policy",
        "id:5",
        "a_roles:(agent OR trainer)",
        "refund OR status:published",
    ],
)
def test_queries_only_ever_address_the_searchable_fields(text):
    """Field names other than title, body and tags are read as words, never as fields."""
    parsed, _ = parse_query(text)
    assert parsed is not None
    assert {name for name, _ in parsed.iter_all_terms()} <= set(SEARCHABLE_FIELDS)


def test_title_body_and_tags_fields_can_be_named():
    """People may still narrow a word to the title, text or tags."""
    parsed, message = parse_query("title:refund")
    assert message is None and list(parsed.iter_all_terms()) == [("title", "refund")]


def test_the_index_is_created_on_first_use(tmp_path):
    """Starting the app creates no index folder; the first search or write does."""
    path = tmp_path / "lazy-index"
    app = create_app("testing", SEARCH_INDEX_PATH=str(path))
    assert not path.exists()
    with app.app_context():
        assert get_search().count() == 0
    assert path.is_dir() and os.listdir(path)


def test_an_index_with_an_old_schema_is_replaced(tmp_path):
    """An index written with other fields is recreated (empty) instead of failing searches."""
    from whoosh import fields, index

    path = tmp_path / "old-index"
    path.mkdir()
    old = index.create_in(str(path), fields.Schema(id=fields.ID(stored=True)))
    with old.writer() as writer:
        writer.add_document(id="1")
    backend = WhooshBackend(str(path))
    assert backend.count() == 0
    backend.index([IndexedDocument(id=2, title="New", body="n", kind="policy", status="published")])
    assert backend.count() == 1


def test_a_recreated_index_never_reuses_cached_filters(tmp_path):
    """After another process empties and refills the index, filters are worked out afresh."""
    from types import SimpleNamespace

    from portal.access.roles import Role
    from portal.search.base import SearchQuery

    agent = SimpleNamespace(
        is_authenticated=True, active=True, role_enum=Role.AGENT, role="agent",
        partner_id=1, team_id=None, language="en",
    )  # fmt: skip
    path = str(tmp_path / "index")
    backend = WhooshBackend(path)
    everyone = IndexedDocument(id=1, title="Open", body="heron", kind="policy", status="published")
    backend.index([everyone])
    assert backend.search(SearchQuery(text="heron"), agent).total == 1

    elsewhere = WhooshBackend(path)  # another worker
    elsewhere.clear()
    other_partner = IndexedDocument(
        id=2, title="Other", body="heron", kind="policy", status="published", partner_id=2
    )
    elsewhere.index([other_partner])
    assert backend.search(SearchQuery(text="heron"), agent).total == 0


def _random_library(count: int, seed: int) -> list[IndexedDocument]:
    import random

    rng = random.Random(seed)
    words = "refund card billing agent queue policy escalate shipping tone voice".split()  # noqa: SIM905
    return [
        IndexedDocument(
            id=n,
            title=" ".join(rng.sample(words, 2)).capitalize(),
            body=" ".join(rng.choices(words + ["the", "refunds", "escalation"], k=40)),
            kind="policy",
            status="published",
            tags=tuple(rng.sample(words, 1)),
        )
        for n in range(1, count + 1)
    ]


@pytest.mark.parametrize(
    "text",
    [
        "refund",
        "refunds billing",
        "escalation queue agent",
        '"refund card"',
        '"refund agent"~3',
        "PHRASE OF THREE",
        "refund NOT billing",
        "tone OR voice",
        "title:policy",
        "tags:shipping refund",
    ],
)
def test_matches_and_ranking_equal_whooshs_own_search(tmp_path, text):
    """The fast evaluation finds exactly the documents Whoosh's searcher finds, in the same
    order, across several index segments with a deleted document."""
    backend = WhooshBackend(str(tmp_path / "index"))
    library = _random_library(60, seed=3)
    backend.index(library[:40])
    backend.index(library[40:])  # a second segment
    backend.remove([7])
    if text == "PHRASE OF THREE":  # three words side by side in a document
        text = '"' + " ".join(library[4].body.split()[10:13]) + '"'
    searcher = backend._searcher()
    parsed, _ = parse_query(text)
    engine = backend._evaluator(searcher)
    matched = engine.docs(parsed)
    expected = [hit.docnum for hit in searcher.search(parsed, limit=None)]
    assert matched == set(expected) and matched
    ranked = [n for _, n in engine.top(parsed, matched, 0, 10, backend._norms(searcher))]
    assert ranked == expected[:10]


def test_snippets_mark_word_forms_and_escape_the_text():
    """Snippets mark every form of a searched word and show the text's markup as text."""
    from portal.search.whoosh_backend import highlighted, snippet

    text = "Filing <b>refunds</b>: " + "other words here. " * 30 + "Refunding is rare."
    html = snippet(text, {"refund", "file"})
    assert html.startswith("<mark>Filing</mark> &lt;b&gt;<mark>refunds</mark>&lt;/b&gt;")
    assert " … " in html and "<mark>Refunding</mark>" in html and html.endswith("rare.")
    assert snippet(text, {"escal"}) == ""
    assert highlighted("Refund <policy>", {"refund"}) == "<mark>Refund</mark> &lt;policy&gt;"


def test_a_phrase_needs_its_words_side_by_side(tmp_path):
    """A quoted phrase finds the words next to each other, in that order, only."""
    from types import SimpleNamespace

    from portal.access.roles import Role
    from portal.search.base import SearchQuery

    staff = SimpleNamespace(is_authenticated=True, active=True, role_enum=Role.PRM)
    backend = WhooshBackend(str(tmp_path / "index"))
    backend.index(
        [
            IndexedDocument(id=1, title="A", body="Refund the card today", kind="policy",
                            status="published"),
            IndexedDocument(id=2, title="B", body="card refund, then another card", kind="policy",
                            status="published"),
        ]
    )  # fmt: skip
    page = backend.search(SearchQuery(text='"refunded cards"'), staff)
    assert [hit.document_id for hit in page.hits] == [1] and page.total == 1
    assert "<mark>Refund</mark> the <mark>card</mark>" in page.hits[0].snippet_html

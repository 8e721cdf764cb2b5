"""Library search, as people use it: what they find, what they never see, and how it stays current.

Written against the search interface, not one engine: ``tests.search_helpers.SEARCH_BACKENDS``
lists the backends these suites run on (Whoosh, and PostgreSQL full-text search when the tests
run on PostgreSQL). A test whose expectation holds for one backend only names it. The page
itself is tested in test_search_page.py.
"""

from portal.extensions import db
from portal.library import services as library
from portal.library.models import Document
from portal.search import get_search
from portal.search.base import IndexedDocument
from tests import search_helpers
from tests.search_helpers import add_documents, only_on, run_search, unwritable_index

app = search_helpers.app  # conftest's app, once per search backend
search_backend = search_helpers.search_backend
world = search_helpers.world


def _archive(app, document):
    with app.app_context():
        library.archive(None, db.session.get(Document, document.id))
        db.session.commit()


def test_titles_text_and_tags_are_found(app, world, make_document):
    """A word in a document's title, in its text or in its tags finds it."""
    make_document("Refund requests", "How to handle a chargeback calmly.", tags=["billing"])
    make_document("Greeting customers", "Smile while you dial.", tags=["tone", "voice"])
    assert run_search(app, world.agent, "refund")[0] == ["Refund requests"]
    assert run_search(app, world.agent, "chargeback")[0] == ["Refund requests"]
    assert run_search(app, world.agent, "billing")[0] == ["Refund requests"]
    assert run_search(app, world.agent, "voice")[0] == ["Greeting customers"]
    assert run_search(app, world.agent, "refunds")[0] == ["Refund requests"]  # word forms
    assert run_search(app, world.agent, "refund for customers")[0] == []  # every word counts
    assert run_search(app, world.agent, '"smile while you dial"')[0] == ["Greeting customers"]


def test_a_title_match_ranks_above_a_text_match(app, world, make_document):
    """A document titled with the word comes before one that only mentions it."""
    make_document("Working hours", "Escalation happens rarely. " + "Shifts and breaks. " * 20)
    make_document("Escalation path", "Who to call, and when. " + "Tiers and owners. " * 20)
    titles, _ = run_search(app, world.agent, "escalation")
    assert titles == ["Escalation path", "Working hours"]


def test_quoted_phrases_or_and_not(app, world, make_document):
    """Quotes find words side by side, OR finds either word, NOT leaves a word's documents out."""
    make_document("Chargebacks", "Refund the card today.", tags=["billing"])
    make_document("Refund cards", "card refund, then another card")
    make_document("Greeting", "Smile while you dial.", tags=["tone"])
    assert run_search(app, world.agent, '"card refund"')[0] == ["Refund cards"]
    assert sorted(run_search(app, world.agent, "smile OR today")[0]) == ["Chargebacks", "Greeting"]
    assert run_search(app, world.agent, "refund NOT billing")[0] == ["Refund cards"]


def test_snippets_show_where_the_text_goes_on(app, world, make_document):
    """A snippet is cut around the matched words, with "…" where text was left out."""
    filler = "Filler text here. " * 40
    make_document("Long", f"Opening words. {filler} The escrow rule applies. {filler}")
    make_document("Short", "Escrow now.")
    _, page = run_search(app, world.agent, "escrow")
    snippets = {hit.title: str(hit.snippet_html) for hit in page.hits}
    assert snippets["Long"].startswith("… ") and snippets["Long"].endswith(" …")
    assert "<mark>escrow</mark> rule" in snippets["Long"]
    assert snippets["Short"].startswith("<mark>Escrow</mark> now") and "…" not in snippets["Short"]


def test_markup_characters_are_searchable_and_shown_as_text(app, world, make_document):
    """Words written between < and > are found; <, > and & show as text around the marks."""
    make_document("Copy <Ctrl> & paste", "Press `<Ctrl>+<C>` & then paste the order id.")
    _, page = run_search(app, world.agent, "ctrl")
    [hit] = page.hits
    assert hit.title_html == "Copy &lt;<mark>Ctrl</mark>&gt; &amp; paste"
    assert "&lt;<mark>Ctrl</mark>&gt;+&lt;C&gt; &amp; then paste" in hit.snippet_html


def test_the_text_cannot_forge_highlights(app, world, make_document):
    """Characters a backend might use to mark matched words, written into a document, mark
    nothing."""
    make_document("Forged", "Plain \ue000forged\ue001 words about a heron.")
    _, page = run_search(app, world.agent, "heron")
    [hit] = page.hits
    assert str(hit.snippet_html).count("<mark>") == 1 and "<mark>heron</mark>" in hit.snippet_html


def _audience_library(app, world):
    """Documents containing 'zebra': the first six are the ones the agent of A (team a1,
    English) may see."""
    visible = [
        dict(title="Everyone zebra", body="zebra for all", kind="policy", tags=["open"]),
        dict(title="Alpha zebra", audience={"partner_ids": [world.a.id]}),
        dict(title="Team a1 zebra", audience={"team_ids": [world.a1.id]}),
        dict(title="Agents zebra", audience={"roles": ["agent"]}),
        dict(title="English zebra", audience={"languages": ["en"]}),
        dict(title="Local Alpha zebra", author=world.trainer),
    ]
    invisible = [
        dict(title="Local Bravo zebra", author=world.trainer_b, tags=["hidden"]),
        dict(title="Bravo zebra", audience={"partner_ids": [world.b.id]}),
        dict(title="Team b1 zebra", kind="brand", audience={"team_ids": [world.b1.id]}),
        dict(title="Team a2 zebra", audience={"team_ids": [world.a2.id]}),
        dict(title="Trainers zebra", audience={"roles": ["trainer"]}),
        dict(title="Spanish zebra", kind="brand", audience={"languages": ["es"]}),
        dict(title="Draft zebra", kind="brand", publish=False),
    ]
    add_documents(app, *visible, *invisible)
    return [d["title"] for d in visible], [d["title"] for d in invisible]


def test_agents_find_only_documents_addressed_to_them(app, world, make_document):
    """An agent never finds another partner's documents, nor ones for another team, role or
    language; the count and the facet counts leave those out too."""
    visible, _ = _audience_library(app, world)
    titles, page = run_search(app, world.agent, "zebra")
    assert sorted(titles) == sorted(visible)
    assert page.total == len(visible)
    assert dict(page.facets["kind"]) == {"playbook": 5, "policy": 1}
    assert dict(page.facets["tag"]) == {"open": 1}


def test_trainers_find_their_partners_documents_and_what_reaches_it(app, world, make_document):
    """A trainer finds their partner's local documents and every company document reaching
    their partner, whatever its role or language; never another partner's."""
    _audience_library(app, world)
    titles, page = run_search(app, world.trainer, "zebra")
    assert sorted(titles) == sorted(
        [
            "Everyone zebra",
            "Alpha zebra",
            "Team a1 zebra",
            "Team a2 zebra",
            "Agents zebra",
            "Trainers zebra",
            "English zebra",
            "Spanish zebra",
            "Local Alpha zebra",
        ]
    )
    assert page.total == 9
    assert dict(page.facets["kind"]) == {"playbook": 7, "policy": 1, "brand": 1}
    other, _ = run_search(app, world.trainer_b, "zebra")
    assert "Local Alpha zebra" not in other and "Local Bravo zebra" in other


def test_staff_find_every_published_document_and_no_drafts(app, world, make_document):
    """Staff find every published document of every partner; drafts are never searchable."""
    visible, invisible = _audience_library(app, world)
    titles, page = run_search(app, world.prm, "zebra")
    assert page.total == len(visible) + len(invisible) - 1
    assert "Draft zebra" not in titles
    with app.app_context():
        assert get_search().count() == len(visible) + len(invisible) - 1


def test_facet_links_narrow_the_results(app, world, make_document):
    """Choosing a kind or a tag narrows the results and the counts; the words stay."""
    make_document("Refund policy", "refund rules", kind="policy", tags=["billing"])
    make_document("Refund playbook", "refund steps", kind="playbook", tags=["billing", "calls"])
    make_document("Refund brand voice", "refund tone", kind="brand", tags=["calls"])
    titles, page = run_search(app, world.agent, "refund", kind="policy")
    assert titles == ["Refund policy"] and page.facets["kind"] == [("policy", 1)]
    titles, page = run_search(app, world.agent, "refund", tag="calls")
    assert sorted(titles) == ["Refund brand voice", "Refund playbook"]
    assert dict(page.facets["tag"]) == {"calls": 2, "billing": 1}
    _, page = run_search(app, world.agent, "refund", kind="nonsense")
    assert page.total == 3 and "every kind is shown" in page.message


def test_archived_documents_disappear_for_agents_at_once(app, world, make_document):
    """Archiving takes a document out of agents' results without a reindex; staff still find
    it, marked archived."""
    doc = make_document("Old refund rules", "refund limit was fifty")
    assert run_search(app, world.agent, "fifty")[0] == ["Old refund rules"]
    _archive(app, doc)
    assert run_search(app, world.agent, "fifty")[0] == []
    titles, page = run_search(app, world.prm, "fifty")
    assert titles == ["Old refund rules"] and page.hits[0].is_archived


def test_a_new_version_is_searchable_without_reindex(app, world, make_document):
    """Publishing a new version replaces the old words with the new ones in search."""
    doc = make_document("Refund limits", "The limit is fifty dollars.")
    with app.app_context():
        document = db.session.get(Document, doc.id)
        library.save_draft(
            None,
            document,
            title="Refund limits",
            body="The limit is ninety dollars.",
            summary="Raised",
        )
        library.publish(None, document)
        db.session.commit()
    assert run_search(app, world.agent, "ninety")[0] == ["Refund limits"]
    assert run_search(app, world.agent, "fifty")[0] == []
    with app.app_context():
        assert get_search().count() == 1


def test_a_rolled_back_publish_never_reaches_the_index(app, world, make_document):
    """If the transaction rolls back, search never shows what was not saved."""
    with app.app_context():
        document = library.create_document(
            None, library.DocumentDetails(title="Phantom guide", kind="policy"), body="phantom"
        )
        library.publish(None, document)
        db.session.rollback()
        db.session.commit()  # a later, unrelated commit does not index it either
        assert get_search().count() == 0
    assert run_search(app, world.prm, "phantom")[0] == []


def test_a_rolled_back_savepoint_leaves_the_rest_searchable(app, world):
    """Work undone in a savepoint stays out of search; the rest of the commit goes in."""

    def publish(title):
        details = library.DocumentDetails(title=title, kind="policy")
        library.publish(None, library.create_document(None, details, body="ibis"))

    with app.app_context():
        publish("Kept guide")
        savepoint = db.session.begin_nested()
        publish("Dropped guide")
        savepoint.rollback()
        db.session.commit()
    assert run_search(app, world.prm, "ibis")[0] == ["Kept guide"]


def test_a_stale_index_entry_is_never_shown(app, world, make_document):
    """Even if the index wrongly says everyone may read a document, the SQL check hides it."""
    secret = make_document("Bravo secret playbook", "walrus", author=world.trainer_b)
    make_document("Walrus care", "walrus")
    stale = IndexedDocument(
        id=secret.id, title=secret.title, body="walrus", kind="playbook", status="published"
    )
    with app.app_context():
        get_search().index([stale])
    titles, page = run_search(app, world.agent, "walrus")
    assert titles == ["Walrus care"] and page.total == 1


def test_a_failing_index_never_fails_the_publish(app, world, make_document, tmp_path, caplog):
    """When the index cannot be written, the document is still published and the failure
    logged; `search reindex` repairs it."""
    with unwritable_index(app, tmp_path):
        doc = make_document("Published anyway", "sturdy")
    with app.app_context():
        assert db.session.get(Document, doc.id).status == "published"
    assert "run `search reindex`" in caplog.text


@only_on("whoosh")
def test_whoosh_spelling_suggestions(app, world, make_document):
    """A misspelt word gets a "did you mean" suggestion that finds something."""
    make_document("Escalation path", "Escalate billing disputes to a supervisor.")
    titles, page = run_search(app, world.agent, "escalaton")
    assert titles == [] and page.suggestion == "escalation"
    _, page = run_search(app, world.agent, "supervisr billing")
    assert page.suggestion == "supervisor billing"
    assert run_search(app, world.agent, "escalation")[1].suggestion is None


@only_on("whoosh")
def test_whoosh_suggestions_never_reveal_another_partners_words(app, world, make_document):
    """A word that only occurs in another partner's local document is never suggested."""
    make_document("Bravo onboarding", "The quixotically named queue.", author=world.trainer_b)
    make_document("Alpha onboarding", "Welcome aboard.", author=world.trainer)
    _, page = run_search(app, world.agent, "quixoticaly")
    assert page.suggestion is None and page.total == 0
    assert run_search(app, world.agent, "quixotically")[0] == []
    _, page = run_search(app, world.agent_b, "quixoticaly")
    assert page.suggestion == "quixotically"  # Bravo's own people do get it


def test_reindex_command_rebuilds_the_index(app, runner, world, make_document):
    """`flask search reindex` rebuilds the index from the database with a progress bar."""
    add_documents(
        app,
        *(dict(title=f"Guide {n}", body="gazelle") for n in range(3)),
        dict(title="Unpublished guide", body="gazelle", publish=False),
    )
    with app.app_context():
        get_search().clear()
    assert run_search(app, world.agent, "gazelle")[0] == []
    result = runner.invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    assert "Indexing documents" in result.output
    assert "Indexed 3 of 3 searchable documents; the index now holds 3." in result.output
    assert len(run_search(app, world.agent, "gazelle")[0]) == 3

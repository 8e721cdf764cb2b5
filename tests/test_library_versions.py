"""Versions: editing makes a draft of the next one, publishing, history, old versions, diffs."""

import re

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.library.models import Document, DocumentVersion
from tests.helpers import count_queries, login, post

BODY = "# Refunds\n\n## Limit\n\nRefund up to $100 without approval.\n\n## Tone\n\nBe kind."


@pytest.fixture
def cast(make_partner, make_team, make_user):
    partner = make_partner(name="Northwind Manila")
    team = make_team(partner=partner)
    return {
        "prm": make_user(role="prm", name="Pia Prm"),
        "agent": make_user(role="agent", partner=partner, team=team),
    }


def _as(app, user):
    """A browser signed in as ``user``."""
    client = app.test_client()
    login(client, user)
    return client


def _versions(app, document_id):
    with app.app_context():
        rows = db.session.scalars(
            select(DocumentVersion)
            .where(DocumentVersion.document_id == document_id)
            .order_by(DocumentVersion.number)
        ).all()
        return [(v.number, v.title, v.body, v.is_published) for v in rows]


def _edit(client, document_id, **fields):
    url = f"/library/{document_id}/edit"
    data = {"title": "Refunds", "body": BODY, "summary": "", "change_level": "material"}
    data.update(fields)
    return post(client, url, data, token_from=url)


def _publish(client, document_id):
    url = f"/library/{document_id}"
    return post(client, f"{url}/publish", token_from=url, follow_redirects=True)


def test_editing_a_published_document_makes_a_draft_of_the_next_version(app, cast, make_document):
    """Saving an edit leaves the published version as it was; readers keep seeing it."""
    document = make_document("Refunds", BODY)
    prm = _as(app, cast["prm"])
    page = prm.get(f"/library/{document.id}/edit").get_data(as_text=True)
    assert "You are writing version 2" in page and "Refund up to $100" in page
    new_body = BODY.replace("$100", "$150")
    response = _edit(prm, document.id, body=new_body, summary="Limit raised")
    assert response.status_code == 302
    assert _versions(app, document.id) == [
        (1, "Refunds", BODY, True),
        (2, "Refunds", new_body, False),
    ]
    page = prm.get(f"/library/{document.id}").get_data(as_text=True)
    assert "Draft of version 2" in page and "$100" in page
    assert "everyone in the audience must acknowledge version 2 again" not in page  # no ack asked
    agent = _as(app, cast["agent"])
    page = agent.get(f"/library/{document.id}").get_data(as_text=True)
    assert "$100" in page and "$150" not in page and "Draft" not in page
    assert agent.get(f"/library/{document.id}/versions/2").status_code == 404


def test_saving_again_updates_the_same_draft(app, cast, make_document):
    """A second save rewrites the draft, not a new version, and keeps the typed summary."""
    document = make_document("Refunds", BODY)
    prm = _as(app, cast["prm"])
    _edit(prm, document.id, body=BODY + "\nOne.", summary="First try")
    _edit(prm, document.id, body=BODY + "\nTwo.", summary="Second try", change_level="minor")
    assert [v[:2] for v in _versions(app, document.id)] == [(1, "Refunds"), (2, "Refunds")]
    page = prm.get(f"/library/{document.id}/edit").get_data(as_text=True)
    assert 'value="Second try"' in page and "Two." in page
    assert re.search(r'<input checked[^>]*value="minor"', page)


def test_publish_asks_again_only_for_material_changes(app, cast, make_document):
    """The publish panel says whether readers must acknowledge the new version again."""
    document = make_document("Refunds", BODY, requires_ack=True)
    prm = _as(app, cast["prm"])
    _edit(prm, document.id, body=BODY + "\nMore.", summary="More", change_level="material")
    page = prm.get(f"/library/{document.id}").get_data(as_text=True)
    assert "everyone in the audience must acknowledge version 2 again" in page
    _edit(prm, document.id, body=BODY + "\nMore.", summary="Typo", change_level="minor")
    page = prm.get(f"/library/{document.id}").get_data(as_text=True)
    assert "acknowledgements already given stay valid" in page


def test_publishing_the_draft_makes_it_current(app, cast, make_document):
    """Publishing the draft shows the new text to readers and lists both versions in history."""
    document = make_document("Refunds", BODY)
    prm = _as(app, cast["prm"])
    _edit(
        prm,
        document.id,
        title="Refund requests",
        body=BODY.replace("$100", "$150"),
        summary="Limit raised to $150",
    )
    page = _publish(prm, document.id).get_data(as_text=True)
    assert "Version 2 of “Refund requests” is published." in page
    assert "changed: Limit raised to $150" in page
    history = _as(app, cast["agent"]).get(f"/library/{document.id}/history").get_data(as_text=True)
    assert "Version 2" in history and "Version 1" in history
    assert "Limit raised to $150" in history and "Pia Prm" in history
    assert "Material" in history


def test_publish_refuses_identical_text(app, cast, make_document):
    """Publishing a draft identical to the current version is refused with a message."""
    document = make_document("Refunds", BODY)
    prm = _as(app, cast["prm"])
    _edit(prm, document.id, summary="Nothing really")
    page = _publish(prm, document.id).get_data(as_text=True)
    assert "The draft is the same as version 1; change the text first." in page
    assert [v[3] for v in _versions(app, document.id)] == [True, False]


def test_publish_refuses_a_missing_summary(app, cast, make_document):
    """A later version needs a change summary: the author is sent back to the editor to add one."""
    document = make_document("Refunds", BODY)
    prm = _as(app, cast["prm"])
    _edit(prm, document.id, body=BODY + "\nNew line.", summary="")
    response = _publish(prm, document.id)
    page = response.get_data(as_text=True)
    assert "Say in a sentence what changed in this version." in page
    assert "Edit text</li>" in page or "Edit text" in page
    assert response.request.path == f"/library/{document.id}/edit"
    assert [v[3] for v in _versions(app, document.id)] == [True, False]


def test_edit_form_keeps_text_when_refused(app, cast, make_document):
    """An edit with a missing title shows the problem and keeps the typed text; nothing saved."""
    document = make_document("Refunds", BODY)
    prm = _as(app, cast["prm"])
    response = _edit(prm, document.id, title="", body="My new words", change_level="sideways")
    page = response.get_data(as_text=True)
    assert "Give the document a title." in page and "My new words" in page
    response = _edit(prm, document.id, body="My new words", change_level="sideways")
    assert "is not a change level" in response.get_data(as_text=True)
    assert len(_versions(app, document.id)) == 1


def _three_versions(app, cast, make_document):
    document = make_document("Refunds", BODY)
    prm = _as(app, cast["prm"])
    second = BODY.replace(
        "Refund up to $100 without approval.", "Refund up to $150 without approval."
    )
    _edit(prm, document.id, body=second, summary="Limit raised")
    _publish(prm, document.id)
    third = second.replace("Be kind.", "Be kind and <script>alert(1)</script> brief.")
    _edit(
        prm, document.id, title="Refund requests", body=third, summary="Tone", change_level="minor"
    )
    _publish(prm, document.id)
    return document, prm


def test_diff_shows_changed_words_title_and_summaries(app, cast, make_document):
    """The diff marks changed words inside lines, the new title and what each version said."""
    document, prm = _three_versions(app, cast, make_document)
    page = (
        _as(app, cast["agent"])
        .get(f"/library/{document.id}/diff?from=1&to=3")
        .get_data(as_text=True)
    )
    assert "Changes from version 1 to version 3" in page
    assert "<del>100</del>" in page and "<ins>150</ins>" in page
    assert "Refund requests" in page and "<ins>" in page.split("Title")[1]
    assert "Limit raised" in page and "Tone" in page
    # The source's HTML is shown as text, never run.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page


BAD_DIFFS = {
    "": "Choose two versions to compare.",
    "?from=1": "Choose two versions to compare.",
    "?from=2&to=2": "Both sides are version 2. Choose two different versions.",
    "?from=one&to=2": "“one” is not a version number.",
    "?from=1&to=9": "This document has no version 9 you can read.",
    "?from=1&to=4": "This document has no version 4 you can read.",  # a draft, for readers
}


def test_diff_requests_readers_and_authors_may_make(app, cast, make_document):
    """Bad diff links explain themselves; reversed numbers read old to new; authors see drafts."""
    document, prm = _three_versions(app, cast, make_document)
    _edit(prm, document.id, title="Refund requests", body="Draft text", summary="Rewrite")
    agent = _as(app, cast["agent"])
    base = f"/library/{document.id}/diff"
    for query, message in BAD_DIFFS.items():
        response = agent.get(base + query)
        assert response.status_code == 400, query
        assert message in response.get_data(as_text=True), query
    page = agent.get(f"{base}?from=2&to=1").get_data(as_text=True)
    assert "Changes from version 1 to version 2" in page and "<ins>150</ins>" in page
    page = prm.get(f"{base}?from=3&to=4").get_data(as_text=True)
    assert "Changes from version 3 to version 4 (draft)" in page and "<ins>Draft text</ins>" in page
    assert "Rewrite" in page


def test_an_old_version_is_marked_as_not_current(app, cast, make_document):
    """Opening an earlier version says it is not the current one and links to what changed."""
    document, _ = _three_versions(app, cast, make_document)
    agent = _as(app, cast["agent"])
    page = agent.get(f"/library/{document.id}/versions/1").get_data(as_text=True)
    assert "Not the current version." in page and "Refund up to $100" in page
    assert f"/library/{document.id}/diff?from=1&amp;to=3" in page
    page = agent.get(f"/library/{document.id}/versions/3").get_data(as_text=True)
    assert "Not the current version" not in page
    assert agent.get(f"/library/{document.id}/versions/7").status_code == 404


def _add_versions(app, document_id, authors, count):
    """Publish ``count`` more versions, each by the next of ``authors`` (one commit)."""
    from portal.library import services
    from portal.people.models import User

    with app.app_context():
        document = db.session.get(Document, document_id)
        for _ in range(count):
            author = db.session.get(User, authors[0].id)
            authors.append(authors.pop(0))
            number = len(_versions_now(document_id)) + 1
            services.save_draft(
                author,
                document,
                title="Refunds",
                body=f"{BODY}\n\nChange {number}.",
                summary=f"Change {number}",
            )
            services.publish(author, document)
        db.session.commit()


def _versions_now(document_id):
    return db.session.scalars(
        select(DocumentVersion.id).where(DocumentVersion.document_id == document_id)
    ).all()


def test_history_query_count_does_not_grow_with_versions(app, cast, make_document, make_user):
    """The history page costs the same number of queries for 2 or 7 versions by different people."""
    document = make_document("Refunds", BODY)
    authors = [make_user(role="prm") for _ in range(3)]
    _add_versions(app, document.id, authors, 1)
    agent = _as(app, cast["agent"])
    agent.get(f"/library/{document.id}/history")
    with count_queries(app) as few:
        assert agent.get(f"/library/{document.id}/history").status_code == 200
    _add_versions(app, document.id, authors, 5)
    with count_queries(app) as many:
        page = agent.get(f"/library/{document.id}/history").get_data(as_text=True)
    assert page.count("<tr>") - 1 == 7
    assert all(a.name in page for a in authors)
    assert many() == few()

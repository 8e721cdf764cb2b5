"""The library's pages: the list, writing, the document page, settings, archive, who may do what."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.library.models import Document, DocumentStatus, DocumentVersion
from tests.helpers import count_queries, csrf_token, login, post


@pytest.fixture
def cast(make_partner, make_team, make_user):
    """A PRM, and a partner with a trainer and an English agent on the billing team."""
    partner = make_partner(name="Northwind Manila")
    team = make_team(partner=partner, name="Billing")
    return {
        "prm": make_user(role="prm", name="Pia Prm"),
        "partner": partner,
        "team": team,
        "trainer": make_user(role="trainer", partner=partner, team=team, name="Tess Trainer"),
        "agent": make_user(role="agent", partner=partner, team=team, name="Andy Agent"),
    }


def _as(app, user):
    """A browser signed in as ``user``."""
    client = app.test_client()
    login(client, user)
    return client


def _count(app, model, *where):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _document(app, document_id) -> Document:
    with app.app_context():
        document = db.session.get(Document, document_id)
        db.session.expunge(document)
        return document


def _new(client, **fields):
    data = {"title": "Refund requests", "kind": "playbook", "body": "## Steps\n\nCheck it."}
    data.update(fields)
    return post(client, "/library/new", data, token_from="/library/new")


# --- the list ----------------------------------------------------------------------------------


def test_agents_list_shows_what_is_addressed_to_them_newest_first(app, cast, make_document):
    """An agent's library lists published documents for them, most recently changed first."""
    make_document("Older guide")
    make_document("Newer guide", tags=["billing"])
    make_document("Draft guide", publish=False)
    make_document("Spanish only", audience={"languages": ["es"]})
    client = _as(app, cast["agent"])
    page = client.get("/library/").get_data(as_text=True)
    assert page.index("Newer guide") < page.index("Older guide")
    assert "Draft guide" not in page and "Spanish only" not in page
    assert "billing" in page
    assert "Status" not in page  # no status filter for readers


def test_list_filters_by_kind_and_tag(app, cast, make_document):
    """The kind and tag filters narrow the list."""
    make_document("Refund playbook", kind="playbook", tags=["refunds"])
    make_document("Privacy policy", kind="policy", tags=["privacy"])
    client = _as(app, cast["agent"])
    page = client.get("/library/?kind=policy").get_data(as_text=True)
    assert "Privacy policy" in page and "Refund playbook" not in page
    page = client.get("/library/?tag=refunds").get_data(as_text=True)
    assert "Refund playbook" in page and "Privacy policy" not in page
    page = client.get("/library/?kind=nonsense&tag=").get_data(as_text=True)
    assert "Refund playbook" in page and "Privacy policy" in page


def test_authors_filter_by_status_and_review_date(app, cast, make_document):
    """Authors see drafts, can list archived documents and those due for review."""
    make_document("Draft one", publish=False)
    make_document("Overdue one", review_by=date.today() - timedelta(days=3))
    make_document("Fresh one", review_by=date.today() + timedelta(days=30))
    client = _as(app, cast["prm"])
    page = client.get("/library/").get_data(as_text=True)
    assert all(t in page for t in ("Draft one", "Overdue one", "Fresh one"))
    page = client.get("/library/?status=draft").get_data(as_text=True)
    assert "Draft one" in page and "Fresh one" not in page
    page = client.get("/library/?due=1").get_data(as_text=True)
    assert "Overdue one" in page and "Fresh one" not in page and "Draft one" not in page
    client = _as(app, cast["agent"])
    page = client.get("/library/?status=draft&due=1").get_data(as_text=True)
    assert "Fresh one" in page and "Draft one" not in page  # readers' filters ignore both


def test_list_query_count_does_not_grow_with_rows(app, cast, make_document, make_team):
    """The library list costs the same number of queries for 3 or 12 documents."""
    other = make_team(partner=cast["partner"])

    def add(n):
        for i in range(n):
            audience = {"team_ids": [cast["team"].id, other.id]} if i % 2 else {"roles": ["agent"]}
            author = cast["trainer"] if i % 3 == 0 else None
            make_document(author=author, audience=audience, tags=[f"t{i}", "shared"])

    add(3)
    few = {}
    for role in ("prm", "agent"):
        client = _as(app, cast[role])
        client.get("/library/")
        with count_queries(app) as queries:
            assert client.get("/library/").status_code == 200
        few[role] = queries()
    add(9)
    for role in ("prm", "agent"):
        client = _as(app, cast[role])
        with count_queries(app) as queries:
            page = client.get("/library/").get_data(as_text=True)
        assert page.count('class="doc-row"') == 12, role
        assert queries() == few[role], role


# --- writing -----------------------------------------------------------------------------------


def test_prm_writes_a_draft_that_readers_do_not_see(app, cast):
    """Saving a new document makes a draft with its audience; only authors can open it."""
    client = _as(app, cast["prm"])
    response = _new(
        client,
        tags="Billing, refunds",
        audience_teams=str(cast["team"].id),
        audience_roles="agent",
        requires_ack="y",
    )
    assert response.status_code == 302
    document_id = int(response.headers["Location"].rsplit("/", 1)[1])
    page = client.get(f"/library/{document_id}").get_data(as_text=True)
    assert "Draft - not visible to readers" in page
    assert "Agents at Billing team" in page
    assert '<h2 id="sec-steps">Steps</h2>' in page
    document = _document(app, document_id)
    assert document.status == DocumentStatus.DRAFT and document.partner_id is None
    assert document.tags == ["billing", "refunds"] and document.requires_ack
    client = _as(app, cast["agent"])
    assert client.get(f"/library/{document_id}").status_code == 404


def test_bad_input_keeps_the_typed_text_and_writes_nothing(app, cast, make_document):
    """A refused new document shows each problem and keeps everything typed."""
    make_document("Taken", slug="taken")
    client = _as(app, cast["prm"])
    before = _count(app, Document)
    response = _new(
        client,
        title="",
        slug="taken",
        tags="ok, bad/tag!",
        body="My *long* text\n\nwith lines",
        audience_teams="abc",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Give the document a title." in page
    assert "“abc” is not one of the choices." in page
    assert "My *long* text" in page and "bad/tag!" in page
    response = _new(client, slug="taken", tags="ok, bad/tag!", body="Kept text")
    page = response.get_data(as_text=True)
    assert "Another document already uses the slug “taken”." in page
    assert "“bad/tag!” is not a tag" in page and "Kept text" in page
    assert _count(app, Document) == before


def test_preview_renders_without_saving(app, cast):
    """The Preview button shows the sanitized text and saves nothing (no script needed)."""
    client = _as(app, cast["prm"])
    response = _new(client, body="## Hello\n\n<script>alert(1)</script>", preview="Preview")
    page = response.get_data(as_text=True)
    assert '<h2 id="sec-hello">Hello</h2>' in page
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page  # only the source
    assert _count(app, Document) == 0


def test_live_preview_returns_sanitized_html(app, cast):
    """The editor's live preview answers with sanitized HTML and needs the CSRF token."""
    client = _as(app, cast["prm"])
    token = csrf_token(client, "/library/new")
    body = {"body": "# Hi\n\n[x](javascript:alert(1)) <img src=x onerror=alert(1)>"}
    response = client.post("/library/preview", data=body, headers={"X-CSRFToken": token})
    assert response.status_code == 200
    html = response.get_json()["html"]
    assert '<h1 id="sec-hi">Hi</h1>' in html
    assert "javascript" not in html and "onerror" not in html
    assert client.post("/library/preview", data=body).status_code == 400
    client = _as(app, cast["agent"])
    token = csrf_token(client, "/")
    assert (
        client.post("/library/preview", data=body, headers={"X-CSRFToken": token}).status_code
        == 403
    )


def test_publishing_from_the_document_page_reaches_the_audience(app, cast, make_document):
    """Publishing the first version shows it to the agents it is addressed to."""
    document = make_document("Week one", publish=False, requires_ack=True)
    client = _as(app, cast["prm"])
    page = client.get(f"/library/{document.id}").get_data(as_text=True)
    assert "Everyone in it will be asked to acknowledge it." in page
    assert f'href="/library/{document.id}/acknowledgements"' not in page  # nothing to report yet
    response = post(client, f"/library/{document.id}/publish", token_from=f"/library/{document.id}")
    assert response.status_code == 302
    assert "Version 1 of “Week one” is published." in client.get(
        f"/library/{document.id}"
    ).get_data(as_text=True)
    page = client.get(f"/library/{document.id}").get_data(as_text=True)
    assert f'href="/library/{document.id}/acknowledgements">Who has acknowledged</a>' in page
    client = _as(app, cast["agent"])
    page = client.get(f"/library/{document.id}").get_data(as_text=True)
    assert "Week one" in page and "Draft" not in page
    assert "Edit text" not in page and "Settings" not in page


def test_settings_change_the_audience_without_a_new_version(app, cast, make_document):
    """Settings change kind, tags and audience at once; bad input is refused with the text kept."""
    document = make_document("Tone guide", tags=["tone"], audience={"team_ids": [cast["team"].id]})
    url = f"/library/{document.id}/settings"
    client = _as(app, cast["prm"])
    page = client.get(url).get_data(as_text=True)
    assert 'value="tone"' in page
    assert f'<option selected value="{cast["team"].id}">Northwind Manila — Billing</option>' in page
    response = post(
        client, url, {"kind": "brand", "slug": "Bad Slug!", "tags": "voice"}, token_from=url
    )
    page = response.get_data(as_text=True)
    assert "Use 1-80 lower-case letters" in page and 'value="voice"' in page
    assert _document(app, document.id).kind == "playbook"
    data = {"kind": "brand", "tags": "voice, tone", "audience_languages": "es"}
    assert post(client, url, data, token_from=url).status_code == 302
    stored = _document(app, document.id)
    assert stored.kind == "brand" and stored.tags == ["tone", "voice"]
    assert _count(app, DocumentVersion, DocumentVersion.document_id == document.id) == 1
    client = _as(app, cast["agent"])  # English-speaking: no longer in the audience
    assert client.get(f"/library/{document.id}").status_code == 404


def test_archive_and_restore(app, cast, make_document):
    """Archiving hides a document from readers but not from authors; restoring brings it back."""
    document = make_document("Old process")
    show = f"/library/{document.id}"
    client = _as(app, cast["prm"])
    assert post(client, f"{show}/archive", token_from=show).status_code == 302
    page = client.get(show).get_data(as_text=True)
    assert "Archived on" in page and "Restore" in page
    assert "Old process" not in client.get("/library/").get_data(as_text=True)
    assert "Old process" in client.get("/library/?status=archived").get_data(as_text=True)
    client = _as(app, cast["agent"])
    assert client.get(show).status_code == 404
    client = _as(app, cast["prm"])
    assert post(client, f"{show}/restore", token_from=show).status_code == 302
    client = _as(app, cast["agent"])
    assert client.get(show).status_code == 200


def test_a_post_without_csrf_token_changes_nothing(app, cast, make_document):
    """A forged form post is refused with a message and writes nothing."""
    document = make_document("Stable")
    client = _as(app, cast["prm"])
    response = client.post(f"/library/{document.id}/archive")
    assert response.status_code == 400
    assert "nothing was changed" in response.get_data(as_text=True)
    assert client.post("/library/new", data={"title": "X", "kind": "policy"}).status_code == 400
    assert _document(app, document.id).status == DocumentStatus.PUBLISHED
    assert _count(app, Document) == 1


# --- who may do what ---------------------------------------------------------------------------


def test_trainers_write_partner_local_documents(app, cast, make_team):
    """A trainer's new document is local to their partner and names only their own teams."""
    foreign = make_team(name="Elsewhere")
    client = _as(app, cast["trainer"])
    page = client.get("/library/new").get_data(as_text=True)
    assert 'name="audience_partners"' not in page and "Elsewhere" not in page
    response = _new(client, audience_teams=str(foreign.id))
    assert "Partner-local content can only name its own partner" in response.get_data(as_text=True)
    response = _new(client, audience_teams=str(cast["team"].id))
    document = _document(app, int(response.headers["Location"].rsplit("/", 1)[1]))
    assert document.partner_id == cast["partner"].id
    client = _as(app, cast["agent"])
    assert client.get(f"/library/{document.id}").status_code == 404  # still a draft


def test_trainers_cannot_touch_company_documents(app, cast, make_document):
    """A trainer reads a company document but every way to change it answers 404."""
    document = make_document("Company policy", requires_ack=True)
    base = f"/library/{document.id}"
    client = _as(app, cast["trainer"])
    page = client.get(base).get_data(as_text=True)
    assert "Company policy" in page and "Edit text" not in page and "Archive" not in page
    token = csrf_token(client, base)
    for url in (f"{base}/edit", f"{base}/settings", f"{base}/review"):
        assert client.get(url).status_code == 404, url
    for action in ("edit", "settings", "publish", "archive", "restore", "review"):
        data = {"csrf_token": token, "title": "Hijacked", "body": "x", "kind": "policy"}
        assert client.post(f"{base}/{action}", data=data).status_code == 404, action
    stored = _document(app, document.id)
    assert stored.title == "Company policy" and stored.status == DocumentStatus.PUBLISHED
    assert _count(app, DocumentVersion) == 1


def test_agents_get_404_for_drafts_and_documents_not_for_them(
    app, cast, make_document, make_partner, make_team, make_user
):
    """Agents open only published documents whose audience includes them."""
    other_team = make_team(partner=cast["partner"])
    other_partner = make_partner()
    trainer_elsewhere = make_user(role="trainer", partner=other_partner)
    docs = {
        "mine": (make_document("For me", audience={"team_ids": [cast["team"].id]}), 200),
        "draft": (make_document("Draft", publish=False), 404),
        "other team": (make_document("Other team", audience={"team_ids": [other_team.id]}), 404),
        "other partner": (
            make_document("Other", audience={"partner_ids": [other_partner.id]}),
            404,
        ),
        "trainers": (make_document("Trainers", audience={"roles": ["trainer"]}), 404),
        "spanish": (make_document("Spanish", audience={"languages": ["es"]}), 404),
        "local elsewhere": (make_document("Local", author=trainer_elsewhere), 404),
    }
    client = _as(app, cast["agent"])
    got = {key: client.get(f"/library/{doc.id}").status_code for key, (doc, _) in docs.items()}
    assert got == {key: expected for key, (_, expected) in docs.items()}
    for path in ("edit", "settings", "history", "versions/1"):
        assert client.get(f"/library/{docs['draft'][0].id}/{path}").status_code == 404
    assert client.get("/library/new").status_code == 403


def test_agent_lists_only_what_they_must_acknowledge(app, client, make_user, make_document):
    """'Only what I must acknowledge' lists the pending documents, paginated like the library."""
    agent = make_user(role="agent")
    make_document("Must read policy", requires_ack=True)
    make_document("Optional reading")
    login(client, agent)
    page = client.get("/library/?todo=1").get_data(as_text=True)
    assert "Must read policy" in page
    assert "Optional reading" not in page
    assert "Optional reading" in client.get("/library/").get_data(as_text=True)

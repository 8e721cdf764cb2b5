"""The home page's "To do": pending acknowledgements first, then recently changed documents."""

import itertools
import re

from portal.acknowledgements import services
from portal.extensions import db
from portal.library import services as library
from portal.library.models import Document
from portal.people.models import User
from tests.helpers import count_queries, login

_texts = itertools.count(1)


def publish_version(app, document_id, *, level="material", summary="Changed"):
    with app.app_context():
        document = db.session.get(Document, document_id)
        library.save_draft(
            None,
            document,
            title=document.title,
            body=f"Text number {next(_texts)}.",
            summary=summary,
            change_level=level,
        )
        library.publish(None, document)
        db.session.commit()


def acknowledge(app, person, document_id):
    with app.app_context():
        document = db.session.get(Document, document_id)
        services.acknowledge(db.session.get(User, person.id), document, document.current_version_id)
        db.session.commit()


def section(page, heading):
    """The text of the home page section under ``heading``, tags removed."""
    match = re.search(rf">{heading}</h2>(.*?)</section>", page, re.S)
    assert match, f"no {heading} section"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def badge(page):
    """The number in the navigation's to-do badge, or None without one."""
    nav = page.split("</nav>")[0]
    match = re.search(r"(\d+)<span class=\"visually-hidden\"> to do</span>", nav)
    return int(match.group(1)) if match else None


def test_pending_acknowledgements_come_first_newest_material_change_first(
    app, client, make_user, make_document
):
    """The To do lists what to acknowledge, newest material change first, with what changed."""
    agent = make_user(role="agent")
    older = make_document("Escalation playbook", requires_ack=True)
    make_document("Tone and empathy", requires_ack=True, kind="brand")
    changed = make_document("Refund requests", requires_ack=True, kind="policy")
    acknowledge(app, agent, changed.id)
    publish_version(app, changed.id, summary="Refund limit raised to $150")
    publish_version(app, older.id, level="minor", summary="Typo fixed")  # still asks for v1
    login(client, agent)
    page = client.get("/").get_data(as_text=True)
    todo = section(page, "To do")
    assert todo.index("Refund requests") < todo.index("Tone and empathy")
    assert todo.index("Tone and empathy") < todo.index("Escalation playbook")
    assert "3 documents to read and acknowledge" in todo
    assert "Changed since you acknowledged version 1: Refund limit raised to $150" in todo
    assert "Policy" in todo and "Brand guide" in todo
    assert f'href="/library/{changed.id}"' in page
    assert page.index(">To do</h2>") < page.index("Your details")


def test_recently_changed_follows_and_leaves_out_what_is_pending(
    app, client, make_user, make_document
):
    """Recently changed lists acknowledged or not-asking documents, newest first; no pending."""
    agent = make_user(role="agent")
    notes = make_document("Product update 12", kind="product_update")
    acked = make_document("Brand voice", requires_ack=True)
    pending = make_document("Security awareness", requires_ack=True)
    acknowledge(app, agent, acked.id)
    publish_version(app, notes.id, level="minor", summary="New screenshots")
    login(client, agent)
    page = client.get("/").get_data(as_text=True)
    recent = section(page, "Recently changed")
    assert recent.index("Product update 12") < recent.index("Brand voice")
    assert re.search(r"Product update · version 2, [^·]*New screenshots", recent)
    assert "Security awareness" not in recent
    assert "Security awareness" in section(page, "To do")
    assert page.index(">To do</h2>") < page.index(">Recently changed</h2>")
    assert page.count(f'href="/library/{pending.id}"') == 1


def test_recently_changed_stops_at_ten(client, make_user, make_document):
    """Only the ten most recently changed documents are listed."""
    agent = make_user(role="agent")
    for n in range(11):
        make_document(f"Note {n:02}")
    login(client, agent)
    recent = section(client.get("/").get_data(as_text=True), "Recently changed")
    assert recent.count("Note ") == 10
    assert "Note 10" in recent and "Note 00" not in recent


def test_nothing_to_do_says_so_and_hides_the_badge(app, client, make_user, make_document):
    """With every acknowledgement done the To do says so and the navigation badge is gone."""
    agent = make_user(role="agent")
    document = make_document("Refund requests", requires_ack=True)
    login(client, agent)
    page = client.get("/").get_data(as_text=True)
    assert badge(page) == 1
    acknowledge(app, agent, document.id)
    page = client.get("/").get_data(as_text=True)
    assert "Nothing to do — you are up to date." in section(page, "To do")
    assert badge(page) is None


def test_the_badge_counts_pending_acknowledgements(app, client, make_user, make_document):
    """The badge shows how many documents wait for the person, on every page."""
    agent = make_user(role="agent")
    documents = [make_document(requires_ack=True) for _ in range(3)]
    make_document("No acknowledgement needed")
    login(client, agent)
    assert badge(client.get("/").get_data(as_text=True)) == 3
    acknowledge(app, agent, documents[0].id)
    assert badge(client.get("/profile").get_data(as_text=True)) == 2
    publish_version(app, documents[0].id)
    assert badge(client.get("/").get_data(as_text=True)) == 3


def test_only_documents_addressed_to_the_person_appear(
    client, make_user, make_partner, make_document
):
    """Documents for another partner, or another partner's own, never reach the To do."""
    mine, other = make_partner(), make_partner()
    agent = make_user(role="agent", partner=mine)
    make_document("For us", requires_ack=True, audience={"partner_ids": [mine.id]})
    make_document("For them", requires_ack=True, audience={"partner_ids": [other.id]})
    make_document("Trainers only", requires_ack=True, audience={"roles": ["trainer"]})
    make_document("Their floor rules", requires_ack=True, author=make_user("trainer", other))
    login(client, agent)
    page = client.get("/").get_data(as_text=True)
    assert "For us" in page
    for title in ("For them", "Trainers only", "Their floor rules"):
        assert title not in page
    assert badge(page) == 1


def test_trainers_have_a_to_do_too(client, make_user, make_partner, make_document):
    """A trainer in a document's audience finds it in their To do above their partner figures."""
    partner = make_partner()
    trainer = make_user(role="trainer", partner=partner)
    make_document("Coaching guide", requires_ack=True, audience={"roles": ["trainer"]})
    login(client, trainer)
    page = client.get("/").get_data(as_text=True)
    assert "Coaching guide" in section(page, "To do")
    assert page.index(">To do</h2>") < page.index("people signed up")
    assert badge(page) == 1


def test_the_to_do_costs_the_same_queries_for_few_or_many_items(
    app, client, make_user, make_document
):
    """The home page runs as many queries with 2 pending and 2 recent documents as with 6 each."""
    agent = make_user(role="agent")

    def add(n):
        for _ in range(n):
            acknowledged = make_document(requires_ack=True, tags=["billing"])
            acknowledge(app, agent, acknowledged.id)
            publish_version(app, acknowledged.id)  # pending again, "changed since"
            make_document(tags=["general"])  # recently changed

    add(2)
    login(client, agent)
    with count_queries(app) as few:
        first = client.get("/").get_data(as_text=True)
    add(4)
    with count_queries(app) as many:
        page = client.get("/").get_data(as_text=True)
    assert many() == few()
    assert "2 documents to read" in first and "6 documents to read" in page
    assert page.count("Changed since you acknowledged version 1") == 6

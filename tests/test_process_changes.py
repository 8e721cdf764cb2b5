"""Process changes: announcements tied to a document version, acknowledged together with it."""

import pytest
from sqlalchemy import func, select

from portal.acknowledgements.services import pending_count
from portal.announcements import reading, services
from portal.announcements.models import Announcement, AnnouncementAck
from portal.core.clock import utcnow
from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.library import services as library
from portal.library.models import Acknowledgement, Document, DocumentVersion
from portal.people.models import User
from tests import announcement_helpers
from tests.helpers import login, post

make_announcement = announcement_helpers.make_announcement  # the fixture

OLD = "# Refunds\n\nRefunds up to $50 need no approval.\n\nAsk a lead for more."
NEW = "# Refunds\n\nRefunds up to $150 need no approval.\n\nAsk a lead for more."


def _new_version(app, document, body, *, publish=True):
    """Draft (and publish) the next version of ``document``; its version id."""
    with app.app_context():
        doc = db.session.get(Document, document.id)
        version = library.save_draft(None, doc, title=doc.title, body=body, summary="Higher limit")
        if publish:
            library.publish(None, doc)
        db.session.commit()
        return version.id


@pytest.fixture
def refunds(app, make_document):
    """A refund playbook asking for acknowledgement, at version 2 (the $150 change)."""
    document = make_document("Refund playbook", OLD, requires_ack=True)
    version_id = _new_version(app, document, NEW)
    return document, version_id


def _count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_acknowledging_a_process_change_acknowledges_the_document_version(
    app, client, make_user, make_announcement, refunds
):
    """One button: the announcement and the document version each get one record."""
    document, version_id = refunds
    agent = make_user()
    change = make_announcement(
        "From Monday: refunds up to $150",
        author=make_user(role="prm"),
        requires_ack=True,
        document_version_id=version_id,
        effective_on=utcnow().date(),
    )
    login(client, agent)
    url = f"/announcements/{change.id}"
    page = client.get(url).get_data(as_text=True)
    assert "<del>50</del>" in page and "<ins>150</ins>" in page  # the diff from version 1
    assert f"/library/{document.id}" in page
    response = post(client, f"{url}/acknowledge", token_from=url, follow_redirects=True)
    assert "version 2 of the document" in response.get_data(as_text=True)
    post(client, f"{url}/acknowledge", token_from=url)
    with app.app_context():
        acks = db.session.scalars(select(Acknowledgement)).all()
        assert [(a.user_id, a.version_id) for a in acks] == [(agent.id, version_id)]
    assert _count(app, AnnouncementAck) == 1
    with app.app_context():  # the document no longer asks this agent
        assert pending_count(db.session.get(User, agent.id)) == 0


def test_a_document_that_moved_on_is_not_acknowledged(app, make_user, make_announcement, refunds):
    """When a newer version came since, only the announcement is acknowledged, and it says so."""
    document, version_id = refunds
    agent = make_user()
    change = make_announcement(
        author=make_user(role="prm"),
        requires_ack=True,
        document_version_id=version_id,
        effective_on=utcnow().date(),
    )
    _new_version(app, document, NEW + "\n\nNow with a form.")
    with app.app_context():
        outcome = reading.acknowledge(
            db.session.get(User, agent.id), db.session.get(Announcement, change.id)
        )
        db.session.commit()
    assert outcome.created and outcome.document_ack is None and outcome.newer_version == 3
    assert _count(app, Acknowledgement) == 0
    assert _count(app, AnnouncementAck) == 1


def test_an_unpublished_version_cannot_be_announced(app, make_user, refunds):
    """Pointing a process change at a draft version is refused; nothing is saved."""
    document, _version_id = refunds
    draft_id = _new_version(app, document, NEW + "\n\nDraft.", publish=False)
    prm = make_user(role="prm")
    with app.app_context():
        with pytest.raises(InvalidInput) as refused:
            services.create_announcement(
                db.session.get(User, prm.id),
                services.AnnouncementDetails(
                    title="T", body="B", document_version_id=draft_id, effective_on=utcnow().date()
                ),
            )
        db.session.rollback()
    assert "not published yet" in refused.value.errors["document_version_id"]
    assert _count(app, Announcement) == 0


def test_a_trainer_cannot_announce_a_document_they_cannot_see(app, make_user, make_document):
    """Another partner's local document is refused as if it did not exist."""
    other_trainer = make_user(role="trainer")
    theirs = make_document("Their rules", author=other_trainer)
    trainer = make_user(role="trainer")
    with app.app_context():
        version_id = db.session.scalar(
            select(DocumentVersion.id).where(DocumentVersion.document_id == theirs.id)
        )
        with pytest.raises(InvalidInput) as refused:
            services.create_announcement(
                db.session.get(User, trainer.id),
                services.AnnouncementDetails(
                    title="T",
                    body="B",
                    document_version_id=version_id,
                    effective_on=utcnow().date(),
                ),
            )
        db.session.rollback()
    assert refused.value.errors["document_version_id"] == "Choose a document you can see and edit."
    assert _count(app, Announcement) == 0


def test_a_process_change_needs_an_effective_date(app, make_user, refunds):
    """Leaving out the effective date gets a message under that field."""
    _document, version_id = refunds
    with app.app_context(), pytest.raises(InvalidInput) as refused:
        services.create_announcement(
            db.session.get(User, make_user(role="prm").id),
            services.AnnouncementDetails(title="T", body="B", document_version_id=version_id),
        )
    assert "effective_on" in refused.value.errors


def test_the_form_offers_published_versions_and_saves_a_process_change(
    app, client, make_user, refunds
):
    """A PRM picks the version in the form; the draft is saved as a process change."""
    document, version_id = refunds
    prm = make_user(role="prm")
    login(client, prm)
    form = client.get("/announcements/new").get_data(as_text=True)
    assert "Refund playbook — version 2" in form
    response = post(
        client,
        "/announcements/new",
        {
            "title": "Refunds",
            "body": "Higher limit",
            "priority": "important",
            "document_version_id": str(version_id),
            "effective_on": "2030-01-07",
            "requires_ack": "y",
        },
        token_from="/announcements/new",
    )
    assert response.status_code == 302
    with app.app_context():
        row = db.session.scalars(select(Announcement)).one()
        assert (row.document_id, row.document_version_id) == (document.id, version_id)

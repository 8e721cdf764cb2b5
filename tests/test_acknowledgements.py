"""Acknowledging a document: the box under it, the record it writes, and every refusal."""

import itertools

import pytest
from sqlalchemy import func, select

from portal.acknowledgements import services
from portal.audit.models import AuditEvent
from portal.audit.services import Actions
from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.library import services as library
from portal.library.models import Acknowledgement, Document
from portal.people.models import User
from tests.helpers import login, post

BUTTON = "I have read and understood this"
_texts = itertools.count(1)


def publish_version(app, document_id, *, level="material", summary="Refund limit raised"):
    """Publish a new version of the document (as content sync would); returns its id."""
    with app.app_context():
        document = db.session.get(Document, document_id)
        library.save_draft(
            None,
            document,
            title=document.title,
            body=f"Revised text number {next(_texts)}.",
            summary=summary,
            change_level=level,
        )
        version = library.publish(None, document)
        db.session.commit()
        return version.id


def current_version_id(app, document_id):
    with app.app_context():
        return db.session.get(Document, document_id).current_version_id


def records(app):
    """(acknowledgements, acknowledgement audit events) in the database."""
    with app.app_context():
        acks = db.session.scalar(select(func.count()).select_from(Acknowledgement))
        events = db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == Actions.DOCUMENT_ACKNOWLEDGED)
        )
        return acks, events


def ack_url(document):
    return f"/library/{document.id}/acknowledge"


def acknowledge_by_post(client, document, version_id=None, headers=None, **data):
    """Post the acknowledgement form and follow the redirect back to the document."""
    version_id = version_id if version_id is not None else document.current_version_id
    return post(
        client,
        ack_url(document),
        {"version_id": version_id, **data},
        token_from=f"/library/{document.id}",
        follow_redirects=True,
        headers=headers or {},
    )


@pytest.fixture
def agent(make_user):
    return make_user(role="agent", name="Ana Reyes")


@pytest.fixture
def playbook(make_document):
    return make_document("Refund requests", requires_ack=True)


def test_the_box_asks_and_one_click_records_the_acknowledgement(app, client, agent, playbook):
    """An agent sees the button, clicks it, is thanked, and the page then says what they did."""
    login(client, agent)
    page = client.get(f"/library/{playbook.id}").get_data(as_text=True)
    assert BUTTON in page
    assert f'action="{ack_url(playbook)}"' in page
    assert f'name="version_id" value="{playbook.current_version_id}"' in page
    assert "Type your full name" not in page

    response = acknowledge_by_post(
        client, playbook, headers={"User-Agent": "Playwright/1.0 (phone)"}
    )
    page = response.get_data(as_text=True)
    assert response.request.path == f"/library/{playbook.id}"
    assert "your acknowledgement of version 1 is recorded" in page
    assert "You acknowledged version 1 on" in page
    assert BUTTON not in page
    with app.app_context():
        ack = db.session.scalars(select(Acknowledgement)).one()
        assert (ack.user_id, ack.version_number, ack.method) == (agent.id, 1, "button")
        assert ack.ip_address == "127.0.0.1"
        assert ack.user_agent == "Playwright/1.0 (phone)"
    assert records(app) == (1, 1)


def test_a_double_click_writes_one_record(app, client, agent, playbook):
    """Posting the same acknowledgement twice (double click, second tab) keeps one record."""
    login(client, agent)
    acknowledge_by_post(client, playbook)
    page = acknowledge_by_post(client, playbook).get_data(as_text=True)
    assert "You had already acknowledged version 1" in page
    assert records(app) == (1, 1)


def test_calling_the_service_twice_returns_the_same_record(app, agent, playbook):
    """The service is idempotent: the second call finds the first record and writes nothing."""
    with app.app_context():
        person = db.session.get(User, agent.id)
        document = db.session.get(Document, playbook.id)
        first, created = services.acknowledge(person, document, document.current_version_id)
        again, created_again = services.acknowledge(person, document, document.current_version_id)
        db.session.commit()
        assert (created, created_again) == (True, False)
        assert first.id == again.id
    assert records(app) == (1, 1)


def test_attestation_asks_for_the_readers_full_name(app, client, make_document, agent):
    """A typed-name document refuses a wrong name and records the right one, spacing aside."""
    policy = make_document("Data privacy", requires_ack=True, attestation=True)
    login(client, agent)
    page = client.get(f"/library/{policy.id}").get_data(as_text=True)
    assert "Type your full name" in page and "As it appears on your profile" in page

    for typed in ("", "Ana", "Someone Else"):
        page = acknowledge_by_post(client, policy, typed_name=typed).get_data(as_text=True)
        assert "Type your full name exactly as on your profile: Ana Reyes." in page
        assert BUTTON in page
    assert records(app) == (0, 0)

    page = acknowledge_by_post(client, policy, typed_name="  ana   REYES ").get_data(as_text=True)
    assert "your acknowledgement of version 1 is recorded" in page
    assert "by typing your name" in page
    with app.app_context():
        ack = db.session.scalars(select(Acknowledgement)).one()
        assert (ack.method, ack.typed_name) == ("attestation", "ana REYES")


def test_a_second_tab_with_an_older_version_is_refused(app, client, agent, playbook):
    """After a new version is published, the form from an old tab records nothing and says why."""
    login(client, agent)
    old_version = playbook.current_version_id
    publish_version(app, playbook.id)
    page = acknowledge_by_post(client, playbook, old_version).get_data(as_text=True)
    assert "A newer version of this document was published since you opened it" in page
    assert records(app) == (0, 0)


@pytest.mark.parametrize("version_id", ["", "abc", "99999"])
def test_a_missing_or_invalid_version_is_refused(app, client, agent, playbook, version_id):
    """A form without a usable version records nothing and tells the reader what to do."""
    login(client, agent)
    page = acknowledge_by_post(client, playbook, version_id).get_data(as_text=True)
    assert "Reload the page" in page or "Read the current version" in page
    assert BUTTON in page
    assert records(app) == (0, 0)


def test_a_document_that_does_not_ask_is_refused(app, client, make_document, agent):
    """Acknowledging a document without the requirement records nothing and says so."""
    notes = make_document("Release notes", requires_ack=False)
    login(client, agent)
    page = client.get(f"/library/{notes.id}").get_data(as_text=True)
    assert BUTTON not in page
    page = acknowledge_by_post(client, notes).get_data(as_text=True)
    assert "This document does not ask you for an acknowledgement." in page
    assert records(app) == (0, 0)


def test_documents_the_reader_may_not_see_answer_404(
    app, client, make_document, make_user, make_partner, agent
):
    """Another partner's document, one addressed elsewhere, or no document: 404, nothing written."""
    other = make_partner()
    local = make_document("Their floor rules", author=make_user(role="trainer", partner=other))
    elsewhere = make_document("Elsewhere", requires_ack=True, audience={"partner_ids": [other.id]})
    login(client, agent)
    for document_id in (local.id, elsewhere.id, 999_999):
        response = post(
            client,
            f"/library/{document_id}/acknowledge",
            {"version_id": 1},
            token_from="/",
        )
        assert response.status_code == 404, document_id
    assert records(app) == (0, 0)


def test_staff_are_told_who_is_asked_and_cannot_acknowledge(app, client, make_user, playbook):
    """A PRM sees an informative line and the report link, and cannot acknowledge."""
    login(client, make_user(role="prm"))
    page = client.get(f"/library/{playbook.id}").get_data(as_text=True)
    assert BUTTON not in page
    assert "addressed to are asked to acknowledge it" in page
    assert f"/library/{playbook.id}/acknowledgements" in page
    page = acknowledge_by_post(client, playbook).get_data(as_text=True)
    assert "does not ask you for an acknowledgement" in page
    assert records(app) == (0, 0)


def test_a_material_version_asks_again_and_shows_what_changed(app, client, agent, playbook):
    """After a material change the reader sees what changed and a diff, and acknowledges again."""
    login(client, agent)
    acknowledge_by_post(client, playbook)
    publish_version(app, playbook.id, level="minor", summary="Typo fixed")
    publish_version(app, playbook.id, summary="Refund limit raised to $150")
    page = client.get(f"/library/{playbook.id}").get_data(as_text=True)
    assert "Version 3 changed materially since you acknowledged version 1" in page
    assert "Refund limit raised to $150" in page and "Typo fixed" in page
    assert f"/library/{playbook.id}/diff?from=1&amp;to=3" in page
    assert BUTTON in page
    with app.app_context():
        assert services.pending_count(db.session.get(User, agent.id)) == 1

    current = current_version_id(app, playbook.id)
    page = acknowledge_by_post(client, playbook, current).get_data(as_text=True)
    assert "your acknowledgement of version 3 is recorded" in page
    assert records(app) == (2, 2)


def test_a_minor_version_keeps_the_acknowledgement(app, client, agent, playbook):
    """A minor change leaves the reader acknowledged; acknowledging again writes nothing."""
    login(client, agent)
    acknowledge_by_post(client, playbook)
    minor = publish_version(app, playbook.id, level="minor", summary="Typo fixed")
    page = client.get(f"/library/{playbook.id}").get_data(as_text=True)
    assert BUTTON not in page
    assert "You acknowledged version 1 on" in page
    page = acknowledge_by_post(client, playbook, minor).get_data(as_text=True)
    assert "You had already acknowledged version 1" in page
    assert records(app) == (1, 1)


def test_an_archived_document_takes_no_new_acknowledgements(app, agent, playbook):
    """Archiving closes acknowledgements: the service refuses with a clear reason."""
    with app.app_context():
        document = db.session.get(Document, playbook.id)
        library.archive(None, document)
        db.session.commit()
        person = db.session.get(User, agent.id)
        with pytest.raises(InvalidInput, match="archived"):
            services.acknowledge(person, document, document.current_version_id)
        db.session.rollback()
    assert records(app) == (0, 0)

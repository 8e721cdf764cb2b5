"""Review-by dates: authors see what is overdue and confirm a document as still accurate."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.library.models import Document, DocumentReview, DocumentVersion
from tests.helpers import login, post

OVERDUE = date.today() - timedelta(days=5)


@pytest.fixture
def cast(make_partner, make_user):
    partner, other = make_partner(name="Northwind Manila"), make_partner(name="BlueBay")
    return {
        "prm": make_user(role="prm", name="Pia Prm"),
        "trainer": make_user(role="trainer", partner=partner, name="Tess Trainer"),
        "other_trainer": make_user(role="trainer", partner=other),
        "agent": make_user(role="agent", partner=partner),
    }


def _as(app, user):
    client = app.test_client()
    login(client, user)
    return client


def test_reviews_list_shows_overdue_documents_each_author_may_edit(app, cast, make_document):
    """PRMs see every overdue document; a trainer sees only their partner's own ones."""
    make_document("Company overdue", review_by=OVERDUE)
    make_document("Local overdue", author=cast["trainer"], review_by=OVERDUE)
    make_document("Elsewhere overdue", author=cast["other_trainer"], review_by=OVERDUE)
    make_document("Not yet", review_by=date.today() + timedelta(days=9))
    make_document("Unpublished", review_by=OVERDUE, publish=False)
    page = _as(app, cast["prm"]).get("/library/reviews").get_data(as_text=True)
    assert all(t in page for t in ("Company overdue", "Local overdue", "Elsewhere overdue"))
    assert "Not yet" not in page and "Unpublished" not in page
    assert "5 days overdue" in page
    trainer = _as(app, cast["trainer"])
    page = trainer.get("/library/reviews").get_data(as_text=True)
    assert "Local overdue" in page
    assert "Company overdue" not in page and "Elsewhere overdue" not in page
    assert 'href="/library/reviews"' in trainer.get("/library/").get_data(as_text=True)
    agent = _as(app, cast["agent"])
    assert agent.get("/library/reviews").status_code == 403
    assert 'href="/library/reviews"' not in agent.get("/library/").get_data(as_text=True)


def test_confirming_a_review_records_it_without_a_new_version(app, cast, make_document):
    """Confirming records who reviewed and when, moves the date on and adds no version."""
    document = make_document("Company overdue", review_by=OVERDUE)
    prm = _as(app, cast["prm"])
    page = prm.get(f"/library/{document.id}").get_data(as_text=True)
    assert "Review due" in page
    url = f"/library/{document.id}/review"
    next_date = date.today() + timedelta(days=90)
    data = {
        "next_review_by": next_date.isoformat(),
        "note": "Checked the limits",
        "back": "reviews",
    }
    response = post(prm, url, data, token_from=url)
    assert response.status_code == 302 and response.headers["Location"] == "/library/reviews"
    with app.app_context():
        reviews = db.session.scalars(select(DocumentReview)).all()
        assert [(r.note, r.next_review_by) for r in reviews] == [("Checked the limits", next_date)]
        assert reviews[0].reviewed_by_id == cast["prm"].id
        stored = db.session.get(Document, document.id)
        assert stored.review_by == next_date and stored.last_reviewed_at is not None
        assert db.session.scalar(select(func.count()).select_from(DocumentVersion)) == 1
    page = prm.get(f"/library/{document.id}").get_data(as_text=True)
    assert "Review due" not in page
    assert "Checked the limits" in prm.get(url).get_data(as_text=True)  # earlier reviews listed
    assert "Company overdue" not in prm.get("/library/reviews").get_data(as_text=True)


def test_a_review_date_in_the_past_is_refused_with_the_note_kept(app, cast, make_document):
    """A next review date that is not after today gets a message; the note stays; nothing saved."""
    document = make_document("Company overdue", review_by=OVERDUE)
    prm = _as(app, cast["prm"])
    url = f"/library/{document.id}/review"
    for value, message in (
        (date.today().isoformat(), "Choose a next review date after today."),
        ("next tuesday", "Enter a date such as 2027-06-30."),
    ):
        response = post(
            prm, url, {"next_review_by": value, "note": "My careful note"}, token_from=url
        )
        page = response.get_data(as_text=True)
        assert response.status_code == 200
        assert message in page and "My careful note" in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DocumentReview)) == 0


def test_review_due_shows_to_authors_only(app, cast, make_document):
    """Readers never see the review banner; a trainer cannot review a company document."""
    document = make_document("Company overdue", review_by=OVERDUE)
    assert "Review due" not in _as(app, cast["agent"]).get(f"/library/{document.id}").get_data(
        as_text=True
    )
    trainer = _as(app, cast["trainer"])
    assert "Review due" not in trainer.get(f"/library/{document.id}").get_data(as_text=True)
    assert trainer.get(f"/library/{document.id}/review").status_code == 404

"""The audit log: written for what matters, append-only, and readable by admins."""

from datetime import UTC, datetime, timedelta

import pytest

from portal.audit.models import AppendOnlyError, AuditEvent
from portal.audit.services import Actions, record
from portal.extensions import db
from tests.helpers import count_queries, login


def _event(app, action, when=None, **kwargs):
    with app.app_context():
        event = record(action, **kwargs)
        if when:
            event.occurred_at = when
        db.session.commit()
        return event.id


def test_audit_events_cannot_be_rewritten_or_deleted(app):
    """Ordinary code cannot update or delete an audit event."""
    event_id = _event(app, Actions.PARTNER_CREATED, summary="x")
    with app.app_context():
        event = db.session.get(AuditEvent, event_id)
        event.summary = "rewritten"
        with pytest.raises(AppendOnlyError):
            db.session.commit()
        db.session.rollback()
        db.session.delete(db.session.get(AuditEvent, event_id))
        with pytest.raises(AppendOnlyError):
            db.session.commit()
        db.session.rollback()
        assert db.session.get(AuditEvent, event_id).summary == "x"


def test_admin_filters_the_log(app, client, make_user, make_partner):
    """Filters by action, actor, partner and date narrow the list."""
    admin = make_user(role="admin", email="boss@example.com")
    atlas = make_partner(name="Atlas")
    old = datetime(2026, 1, 10, 12, tzinfo=UTC)
    _event(app, Actions.TEAM_CREATED, when=old, partner_id=atlas.id, summary="old team")
    _event(app, Actions.PARTNER_UPDATED, partner_id=atlas.id, summary="recent partner edit")
    login(client, admin)
    page = client.get(f"/admin/audit?action={Actions.TEAM_CREATED}").get_data(as_text=True)
    assert "old team" in page and "recent partner edit" not in page
    page = client.get("/admin/audit?actor=boss@").get_data(as_text=True)
    assert "Signed in" in page and "old team" not in page
    page = client.get(f"/admin/audit?partner={atlas.id}").get_data(as_text=True)
    assert "old team" in page and "recent partner edit" in page and "Signed in" not in page
    page = client.get("/admin/audit?since=2026-01-01&until=2026-01-31").get_data(as_text=True)
    assert "old team" in page and "recent partner edit" not in page


def test_bad_dates_get_a_message(client, make_user):
    """A date that is not a date is named in a message, and the list still shows."""
    login(client, make_user(role="admin"))
    response = client.get("/admin/audit?since=yesterday")
    assert response.status_code == 200
    assert "is not a date" in response.get_data(as_text=True)


def test_log_is_paginated_with_constant_queries(app, client, make_user):
    """The log shows 50 a page, and its query count does not grow with the rows."""
    login(client, make_user(role="admin"))
    for i in range(5):
        _event(app, Actions.TEAM_CREATED, summary=f"event {i}")
    with count_queries(app) as few:
        client.get("/admin/audit")
    with app.app_context():
        start = datetime.now(UTC) - timedelta(minutes=1)
        for i in range(60):
            record(Actions.TEAM_CREATED, summary=f"bulk {i}").occurred_at = start
        db.session.commit()
    with count_queries(app) as many:
        page = client.get("/admin/audit").get_data(as_text=True)
    assert many() == few()
    assert "Next" in page and "1–50 of" in page


def test_only_admins_read_the_log(app, make_user):
    """PRMs, trainers and agents are refused the audit log."""
    for role in ("prm", "trainer", "agent"):
        other = app.test_client()
        login(other, make_user(role=role))
        assert other.get("/admin/audit").status_code == 403

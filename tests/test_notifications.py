"""Notifications: who gets one, who gets an email, the page, mark-as-read and preferences."""

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.mail.models import OutboxMessage
from portal.notifications import services
from portal.notifications.models import Notification, NotificationPreference
from portal.people.models import User
from tests.helpers import count_queries, login, post


def _partner_people(partner_id):
    return select(User.id).where(User.partner_id == partner_id)


def _notify(app, partner_id, **kwargs):
    kwargs.setdefault("category", "announcement")
    kwargs.setdefault("title", "Refunds up to $150 need no approval")
    kwargs.setdefault("url", "/announcements/1")
    with app.app_context():
        count = services.notify(_partner_people(partner_id), **kwargs)
        db.session.commit()
        return count


def _rows(app, model, **where):
    with app.app_context():
        stmt = select(model).where(*(getattr(model, k) == v for k, v in where.items()))
        rows = db.session.scalars(stmt.order_by(model.id)).all()
        db.session.expunge_all()
        return rows


def _opt_out(app, user, category="announcement"):
    with app.app_context():
        services.set_email_preferences(db.session.get(User, user.id), {category: False})
        db.session.commit()


def test_notify_reaches_each_active_person_and_emails_those_opted_in(app, make_partner, make_user):
    """Everyone active is notified once; people who turned the category off get no email."""
    partner, other = make_partner(), make_partner()
    agents = [make_user(partner=partner) for _ in range(3)]
    make_user(partner=partner, active=False)
    make_user(partner=other)
    _opt_out(app, agents[0])

    assert _notify(app, partner.id) == 3
    assert sorted(n.user_id for n in _rows(app, Notification)) == sorted(a.id for a in agents)
    mails = _rows(app, OutboxMessage)
    assert sorted(m.to_address for m in mails) == sorted(a.email for a in agents[1:])
    assert {m.status for m in mails} == {"pending"}
    assert mails[0].context["title"] == "Refunds up to $150 need no approval"


def test_required_items_are_emailed_despite_opt_out(app, make_partner, make_user):
    """A required notification is emailed even to someone who turned the category off."""
    partner = make_partner()
    agent = make_user(partner=partner)
    _opt_out(app, agent)
    _notify(app, partner.id, required=True, email_template="announcement")
    assert [m.to_address for m in _rows(app, OutboxMessage)] == [agent.email]


def test_a_repeated_dedupe_key_is_a_no_op(app, make_partner, make_user):
    """Notifying twice about the same event writes nothing the second time."""
    partner = make_partner()
    agent = make_user(partner=partner)
    assert _notify(app, partner.id, dedupe_key="announcement:7") == 1
    assert _notify(app, partner.id, dedupe_key="announcement:7") == 0
    assert len(_rows(app, Notification)) == 1
    assert len(_rows(app, OutboxMessage)) == 1
    with app.app_context():
        first = services.enqueue_mail(
            agent.id, category="reminder", template="reminder", context={}, dedupe_key="r:1"
        )
        again = services.enqueue_mail(
            agent.id, category="reminder", template="reminder", context={}, dedupe_key="r:1"
        )
        db.session.commit()
    assert (first, again) == (True, False)
    assert len(_rows(app, OutboxMessage, category="reminder")) == 1


def test_enqueue_mail_respects_opt_out_unless_required(app, make_user):
    """A single optional email is skipped for someone who opted out; required ones go."""
    agent = make_user()
    _opt_out(app, agent, "document_version")
    with app.app_context():
        skipped = services.enqueue_mail(
            agent.id, category="document_version", template="document_version", context={}
        )
        queued = services.enqueue_mail(
            agent.id,
            category="document_version",
            template="document_version",
            context={},
            required=True,
        )
        db.session.commit()
    assert (skipped, queued) == (False, True)


def test_publishing_notifies_the_audience_of_material_versions(
    app, make_partner, make_user, make_document
):
    """A new document and a material change notify its audience; a minor change does not."""
    from portal.library import services as library

    partner = make_partner()
    agent = make_user(partner=partner, language="es")
    trainer = make_user(role="trainer", partner=partner)
    document = make_document("Refund policy", author=trainer, requires_ack=True)
    notes = _rows(app, Notification, user_id=agent.id)
    assert [n.title for n in notes] == ["New in the library: Refund policy"]
    assert notes[0].category == "document_version"
    assert notes[0].url == f"/library/{document.id}"
    with app.app_context():
        actor = db.session.get(User, trainer.id)
        doc = db.session.get(type(document), document.id)
        library.save_draft(
            actor,
            doc,
            title="Refund policy",
            body="Typo fixed.",
            summary="typo",
            change_level="minor",
        )
        library.publish(actor, doc)
        library.save_draft(
            actor,
            doc,
            title="Refund policy",
            body="Up to $150.",
            summary="New limit",
            change_level="material",
        )
        library.publish(actor, doc)
        db.session.commit()
    titles = [n.title for n in _rows(app, Notification, user_id=agent.id)]
    assert titles == ["New in the library: Refund policy", "Updated: Refund policy (version 3)"]
    mails = _rows(app, OutboxMessage, to_address=agent.email)
    assert len(mails) == 2 and all(m.required for m in mails)


def _seed(app, user, count, start=0, **kwargs):
    with app.app_context():
        for n in range(start, start + count):
            db.session.add(
                Notification(
                    user_id=user.id,
                    category="announcement",
                    title=f"Item {n}",
                    url=f"/announcements/{n}",
                    **kwargs,
                )
            )
        db.session.commit()


def test_notifications_page_lists_newest_first_and_marks_read(app, client, make_user):
    """The page shows unread items highlighted; marking one or all as read clears them."""
    agent = make_user()
    _seed(app, agent, 3)
    login(client, agent)
    page = client.get("/notifications").get_data(as_text=True)
    assert page.index("Item 2") < page.index("Item 1") < page.index("Item 0")
    assert page.count("list-group-item-primary") == 3
    assert "3 unread" in page
    first = _rows(app, Notification, title="Item 0")[0]
    response = post(client, f"/notifications/{first.id}/read", token_from="/notifications")
    assert response.status_code == 302
    assert _rows(app, Notification, title="Item 0")[0].read_at is not None
    with app.app_context():
        assert services.unread_count(db.session.get(User, agent.id)) == 2
    response = post(
        client, "/notifications/read-all", token_from="/notifications", follow_redirects=True
    )
    assert "Marked 2 notifications as read." in response.get_data(as_text=True)
    assert all(n.read_at for n in _rows(app, Notification))
    assert "list-group-item-primary" not in client.get("/notifications").get_data(as_text=True)


def test_marking_another_persons_notification_answers_404(app, client, make_user):
    """Someone else's notification id answers 404 and stays unread."""
    me, other = make_user(), make_user()
    _seed(app, other, 1)
    theirs = _rows(app, Notification)[0]
    login(client, me)
    response = post(client, f"/notifications/{theirs.id}/read", token_from="/notifications")
    assert response.status_code == 404
    assert _rows(app, Notification)[0].read_at is None
    assert "Item 0" not in client.get("/notifications").get_data(as_text=True)


def test_notifications_page_query_count_does_not_grow(app, client, make_user):
    """The page runs the same number of queries for 2 notifications as for 20."""
    agent = make_user()
    login(client, agent)
    _seed(app, agent, 2)
    client.get("/notifications")
    with count_queries(app) as small:
        assert client.get("/notifications").status_code == 200
    _seed(app, agent, 18, start=2)
    with count_queries(app) as large:
        assert "Item 19" in client.get("/notifications").get_data(as_text=True)
    assert large() == small()


def test_preferences_turn_optional_email_off_and_show_required_ones(app, client, make_user):
    """Unticking announcements stops their email; required categories are shown as always on."""
    agent = make_user()
    login(client, agent)
    page = client.get("/notifications/preferences").get_data(as_text=True)
    assert "always on" in page and "Reminders of what is due" in page
    assert page.count("checked") == 2
    response = post(
        client,
        "/notifications/preferences",
        {"document_version": "y"},
        token_from="/notifications/preferences",
        follow_redirects=True,
    )
    assert "Your email preferences are saved." in response.get_data(as_text=True)
    prefs = {p.category: p.email for p in _rows(app, NotificationPreference)}
    assert prefs == {"announcement": False, "document_version": True}
    assert client.get("/notifications/preferences").get_data(as_text=True).count("checked") == 1
    _notify(app, agent.partner_id)
    assert _rows(app, OutboxMessage) == []
    assert len(_rows(app, Notification)) == 1


def test_preferences_refuse_a_required_category(app, make_user):
    """Turning off a required category is refused and writes nothing."""
    from portal.core.errors import InvalidInput

    agent = make_user()
    with app.app_context(), pytest.raises(InvalidInput, match="not a category you can turn off"):
        services.set_email_preferences(db.session.get(User, agent.id), {"reminder": False})
    with app.app_context():
        assert db.session.scalar(select(func.count(NotificationPreference.id))) == 0

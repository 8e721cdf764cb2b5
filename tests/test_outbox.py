"""The outbox: claiming, stale claims, rendering failures, the admin page and retry."""

from datetime import timedelta

from sqlalchemy import select

from portal.core.clock import utcnow
from portal.extensions import db
from portal.mail import outbox as worker
from portal.mail.models import OutboxMessage
from portal.notifications import services
from portal.people.models import User
from tests.helpers import count_queries, login, post


def _add(app, user, count=1, **kwargs):
    kwargs.setdefault("template", "notification")
    kwargs.setdefault("category", "announcement")
    kwargs.setdefault("context", {"title": "Hello", "url": "/"})
    with app.app_context():
        rows = [
            OutboxMessage(user_id=user.id, to_address=user.email, **kwargs) for _ in range(count)
        ]
        db.session.add_all(rows)
        db.session.commit()
        return [r.id for r in rows]


def _get(app, message_id):
    with app.app_context():
        row = db.session.get(OutboxMessage, message_id)
        db.session.expunge(row)
        return row


def test_a_claimed_batch_is_not_claimed_again(app, make_user):
    """A worker's claimed messages are invisible to the next claim."""
    agent = make_user()
    _add(app, agent, 3)
    with app.app_context():
        first = [m.id for m, _ in worker.claim_batch(2)]
        second = [m.id for m, _ in worker.claim_batch(2)]
        third = worker.claim_batch(2)
    assert len(first) == 2 and len(second) == 1 and third == []
    assert set(first).isdisjoint(second)


def test_messages_of_a_worker_that_died_are_offered_again(app, outbox, make_user):
    """A claim older than MAIL_CLAIM_TIMEOUT_SECONDS goes back to pending and is sent."""
    agent = make_user()
    (message_id,) = _add(app, agent)
    with app.app_context():
        worker.claim_batch(10)
        assert worker.send_pending().sent == 0  # still claimed by the dead worker
        later = utcnow() + timedelta(hours=1)
        assert worker.send_pending(now=later).sent == 1
    assert [m["To"] for m in outbox] == [agent.email]


def test_unknown_template_and_deactivated_person_fail_with_a_reason(app, outbox, make_user):
    """A message that cannot be rendered, or whose reader left, fails with the reason."""
    agent, leaver = make_user(), make_user(active=False)
    (broken,) = _add(app, agent, template="no_such_template")
    (gone,) = _add(app, leaver)
    with app.app_context():
        assert worker.send_pending().failed == 2
    assert "no_such_template" in _get(app, broken).last_error
    assert "deactivated" in _get(app, gone).last_error
    assert outbox == []


def test_send_pending_releases_scheduled_announcements_first(
    app, runner, outbox, make_partner, make_user, monkeypatch
):
    """The worker publishes due announcements before sending, so their mail goes in the same run."""
    import portal.announcements.services as announcements

    partner = make_partner()
    agent = make_user(partner=partner)

    def release_due(now):
        return (
            services.notify(
                select(User.id).where(User.partner_id == partner.id),
                category="announcement",
                title="Scheduled news",
                url="/announcements/9",
            )
            and 1
        )

    monkeypatch.setattr(announcements, "release_due", release_due)
    result = runner.invoke(args=["mail", "send-pending"])
    assert result.exit_code == 0, result.output
    assert "Released 1 scheduled announcement(s)." in result.output
    assert [m["To"] for m in outbox] == [agent.email]
    assert outbox[0]["Subject"] == "Scheduled news"


def test_admin_outbox_page_filters_pages_and_retries(app, client, make_user):
    """Admins see failed mail first with its error and can queue it again; others cannot."""
    agent = make_user()
    (failed,) = _add(app, agent, status="failed", attempts=6, last_error="550 No such user")
    _add(app, agent, 30, status="sent")
    prm_client = app.test_client()
    login(prm_client, make_user(role="prm"))
    assert prm_client.get("/admin/mail").status_code == 403
    login(client, make_user(role="admin"))
    page = client.get("/admin/mail").get_data(as_text=True)
    assert page.index("550 No such user") < page.index("text-bg-success")
    assert "1 message could not be delivered" in page and "of 31" in page
    assert "is not a status" in client.get("/admin/mail?status=bogus").get_data(as_text=True)
    response = post(
        client, f"/admin/mail/{failed}/retry", token_from="/admin/mail", follow_redirects=True
    )
    assert "is queued again" in response.get_data(as_text=True)
    row = _get(app, failed)
    assert (row.status, row.attempts) == ("pending", 0)
    response = post(
        client, f"/admin/mail/{failed}/retry", token_from="/admin/mail", follow_redirects=True
    )
    assert "Only a failed message can be retried" in response.get_data(as_text=True)
    assert post(client, "/admin/mail/99999/retry", token_from="/admin/mail").status_code == 404


def test_admin_outbox_page_query_count_does_not_grow(app, client, make_user):
    """The outbox page runs the same number of queries for 2 messages as for 25."""
    agent = make_user()
    login(client, make_user(role="admin"))
    _add(app, agent, 2, status="failed", last_error="boom")
    client.get("/admin/mail")
    with count_queries(app) as small:
        client.get("/admin/mail")
    _add(app, agent, 23, status="failed", last_error="boom")
    with count_queries(app) as large:
        client.get("/admin/mail")
    assert large() == small()

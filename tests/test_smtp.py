"""Email through a real SMTP server on 127.0.0.1: delivery, language, outages, bounces, races."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal import create_app
from portal.core.clock import utcnow
from portal.extensions import db
from portal.mail import SMTPMailBackend, outbox
from portal.mail.models import OutboxMessage
from portal.notifications import services
from portal.people.models import User
from tests import smtp_helpers
from tests.helpers import login
from tests.smtp_helpers import free_port

# The real SMTP server's fixtures, shared through smtp_helpers.
smtp_server = smtp_helpers.smtp_server
smtp = smtp_helpers.smtp
smtp_app = smtp_helpers.smtp_app


def _queue(app, partner_id, **kwargs):
    kwargs.setdefault("category", "announcement")
    kwargs.setdefault("title", "Refunds up to $150 need no approval")
    kwargs.setdefault("url", "/announcements/1")
    kwargs.setdefault("email_template", "announcement")
    with app.app_context():
        services.notify(select(User.id).where(User.partner_id == partner_id), **kwargs)
        db.session.commit()


def _messages(app):
    with app.app_context():
        rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        db.session.expunge_all()
        return rows


def _send(app, **kwargs):
    with app.app_context():
        return outbox.send_pending(**kwargs)


def test_send_pending_delivers_each_person_in_their_language(
    smtp_app, smtp, runner, make_partner, make_user
):
    """The worker sends queued mail over SMTP, in Spanish to a Spanish-speaking agent."""
    partner = make_partner()
    ana = make_user(partner=partner, language="es", name="Ana")
    bob = make_user(partner=partner, language="en", name="Bob")
    ivo = make_user(partner=partner, language="lt", name="Ivo")  # no Lithuanian template
    _queue(smtp_app, partner.id, context={"priority": "urgent", "summary": "From Monday."})
    result = runner.invoke(args=["mail", "send-pending", "--batch", "2"])
    assert result.exit_code == 0, result.output
    assert "3 message(s) due." in result.output
    assert result.output.count("  batch: ") == 2
    assert "Mail: 3 sent, 0 to retry, 0 failed." in result.output
    (spanish,) = smtp.to(ana.email)
    assert spanish["Subject"] == "[Urgente] Refunds up to $150 need no approval"
    body = spanish.get_content()
    assert "Hola Ana" in body and "Hay un nuevo anuncio" in body and "From Monday." in body
    assert "http://127.0.0.1:5000/announcements/1" in body
    (english,) = smtp.to(bob.email)
    assert english["Subject"] == "[Urgent] Refunds up to $150 need no approval"
    assert "There is a new announcement" in english.get_content()
    assert "There is a new announcement" in smtp.to(ivo.email)[0].get_content()
    assert {m.status for m in _messages(smtp_app)} == {"sent"}
    result = runner.invoke(args=["mail", "send-pending"])
    assert "Mail: 0 sent" in result.output and len(smtp.messages) == 3


def test_server_down_keeps_mail_queued_until_it_is_back(smtp_app, smtp, make_partner, make_user):
    """With the server down the message stays pending with the error, then goes out later."""
    partner = make_partner()
    agent = make_user(partner=partner)
    _queue(smtp_app, partner.id)
    port = smtp_app.config["SMTP_PORT"]
    smtp_app.config["SMTP_PORT"] = free_port()
    summary = _send(smtp_app)
    assert (summary.sent, summary.retried, summary.failed) == (0, 1, 0)
    assert summary.stopped
    (message,) = _messages(smtp_app)
    assert message.status == "pending" and message.attempts == 1
    assert "Connection" in message.last_error or "refused" in message.last_error.lower()
    assert message.next_attempt_at > utcnow() + timedelta(seconds=50)
    assert _send(smtp_app).batches == 0  # not due yet: nothing is tried
    smtp_app.config["SMTP_PORT"] = port
    summary = _send(smtp_app, now=utcnow() + timedelta(minutes=2))
    assert summary.sent == 1
    assert len(smtp.to(agent.email)) == 1
    assert _messages(smtp_app)[0].status == "sent"


def test_server_down_exits_non_zero_for_cron(smtp_app, smtp, runner, make_partner, make_user):
    """The command says the server is unavailable and exits 1, so cron reports it."""
    partner = make_partner()
    make_user(partner=partner)
    _queue(smtp_app, partner.id)
    smtp_app.config["SMTP_PORT"] = free_port()
    result = runner.invoke(args=["mail", "send-pending"])
    assert result.exit_code == 1
    assert "Mail: 0 sent, 1 to retry, 0 failed." in result.output
    assert "the mail server is unavailable" in result.output


def test_temporary_refusal_is_retried_then_gives_up(smtp_app, smtp, make_partner, make_user):
    """A 451 answer keeps the message queued; after MAIL_MAX_ATTEMPTS it is marked failed."""
    partner = make_partner()
    agent = make_user(partner=partner)
    smtp.refuse[agent.email] = "451 4.3.0 Mailbox busy, try again later"
    _queue(smtp_app, partner.id)
    later = utcnow()
    for attempt in (1, 2):
        later += timedelta(hours=7)
        assert _send(smtp_app, now=later).retried == 1
        (message,) = _messages(smtp_app)
        assert (message.status, message.attempts) == ("pending", attempt)
        assert message.last_error == "451 4.3.0 Mailbox busy, try again later"
    later += timedelta(hours=7)
    assert _send(smtp_app, now=later).failed == 1
    (message,) = _messages(smtp_app)
    assert message.status == "failed"
    assert message.last_error.startswith("Gave up after 3 attempts: 451")


def test_temporary_refusal_then_acceptance_delivers(smtp_app, smtp, make_partner, make_user):
    """After a 451 the next run, once due, delivers the message."""
    partner = make_partner()
    agent = make_user(partner=partner)
    smtp.refuse[agent.email] = "451 4.3.0 Try again later"
    _queue(smtp_app, partner.id)
    assert _send(smtp_app).retried == 1
    smtp.refuse.clear()
    assert _send(smtp_app, now=utcnow() + timedelta(minutes=2)).sent == 1
    assert len(smtp.to(agent.email)) == 1


def test_bounce_fails_at_once_and_shows_on_the_admin_page(
    smtp_app, smtp, client, make_partner, make_user
):
    """A 550 for one address fails that message with the reason; the others still go."""
    partner = make_partner()
    gone = make_user(partner=partner, email="gone@example.com")
    fine = make_user(partner=partner)
    smtp.refuse[gone.email] = "550 5.1.1 No such user here"
    _queue(smtp_app, partner.id)
    summary = _send(smtp_app)
    assert (summary.sent, summary.failed) == (1, 1)
    assert len(smtp.to(fine.email)) == 1 and smtp.to(gone.email) == []
    bounced = next(m for m in _messages(smtp_app) if m.to_address == gone.email)
    assert (bounced.status, bounced.attempts) == ("failed", 1)
    assert bounced.last_error == "550 5.1.1 No such user here"
    login(client, make_user(role="admin"))
    page = client.get("/admin/mail?status=failed").get_data(as_text=True)
    assert "gone@example.com" in page and "550 5.1.1 No such user here" in page
    assert "Retry now" in page and fine.email not in page


def test_two_workers_at_once_send_each_message_once(smtp_server, smtp, database_url, tmp_path):
    """Two send-pending runs racing each other deliver every message exactly once."""
    url = database_url
    if url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'race.db'}"  # threads need a shared file, not :memory:
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=url,
        SEARCH_INDEX_PATH=str(tmp_path / "index"),
        STORAGE_PATH=str(tmp_path / "files"),
        MAIL_BACKEND="smtp",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=smtp_server.port,
        SMTP_TIMEOUT=5,
    )
    app.extensions["mail"] = SMTPMailBackend(app.config)
    with app.app_context():
        db.create_all()
        from portal.partners.models import Partner

        partner = Partner(slug="race", name="Race", timezone="UTC")
        db.session.add(partner)
        db.session.flush()
        db.session.add_all(
            User(
                email=f"racer{n}@example.com",
                name=f"Racer {n}",
                role="agent",
                partner_id=partner.id,
            )
            for n in range(40)
        )
        db.session.commit()
        partner_id = partner.id
    try:
        _queue(app, partner_id)
        barrier = threading.Barrier(2)
        results, errors = [], []

        def worker():
            try:
                with app.app_context():
                    barrier.wait()
                    results.append(outbox.send_pending(batch_size=3))
                    db.session.remove()
            except Exception as exc:  # surfaced below
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == []
        assert sum(r.sent for r in results) == 40
        received = sorted(m["To"] for m in smtp.messages)
        assert received == sorted(f"racer{n}@example.com" for n in range(40))
        assert {m.status for m in _messages(app)} == {"sent"}
    finally:
        with app.app_context():
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


@pytest.mark.parametrize("language", ["en", "es"])
def test_every_mail_template_renders_in_both_languages(app, make_user, language):
    """Each template renders a subject and body in English and Spanish."""
    person = make_user(language=language)
    names = ["announcement", "document_version", "reminder", "digest", "notification"]
    with app.app_context():
        reader = db.session.get(User, person.id)
        for name in names:
            message = OutboxMessage(
                to_address=reader.email,
                template=name,
                context={
                    "title": "Refund limit",
                    "url": "/x",
                    "number": 2,
                    "summary": "New",
                    "items": [{"title": "Refund policy", "due": "2026-05-01"}],
                    "people": [{"name": "Ana", "team": "Billing", "overdue": 2}],
                },
            )
            email = outbox.render(message, reader)
            assert email["Subject"], name
            assert ("Hola" if language == "es" else "Hello") in email.get_content(), name

"""The outbox worker: claim due messages, render each in its reader's language, send, record.

Claiming is safe with several workers at once: one UPDATE marks a batch ``sending`` with a
token, and a worker sends only the rows carrying its token. On PostgreSQL the batch is picked
with ``FOR UPDATE SKIP LOCKED``; SQLite has a single writer, so the UPDATE is atomic anyway.

Failures: an unreachable server, a timeout or a 4xx answer leaves the message pending for a
later try (``MAIL_RETRY_SECONDS``, doubling) until ``MAIL_MAX_ATTEMPTS``; a 5xx answer (the
address bounced at SMTP time) fails it at once. ``last_error`` keeps the reason for the
admin page (/admin/mail).
"""

import logging
import smtplib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid

import jinja2
from flask import current_app
from sqlalchemy import case, select, update

from portal.core.clock import utcnow
from portal.extensions import db
from portal.mail import backend
from portal.mail.models import OutboxMessage, OutboxStatus
from portal.people.models import User

log = logging.getLogger("portal.mail")

MAX_RETRY_DELAY = timedelta(hours=6)


@dataclass
class SendSummary:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    batches: int = 0
    stopped: str | None = None  # why the run ended early (server unreachable)

    def add(self, other: "SendSummary") -> None:
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed
        self.batches += other.batches

    def __str__(self):
        return f"{self.sent} sent, {self.retried} to retry, {self.failed} failed"


class Unreachable(Exception):
    """The mail server could not be reached; the rest of the batch waits for the next run."""


def due_count(now=None) -> int:
    """How many pending messages are due now."""
    return db.session.scalar(
        select(db.func.count(OutboxMessage.id)).where(
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.next_attempt_at <= (now or utcnow()),
        )
    )


def release_stale_claims(now=None) -> int:
    """Offer again the messages a worker claimed and never finished (it died mid-batch)."""
    cutoff = (now or utcnow()) - timedelta(seconds=current_app.config["MAIL_CLAIM_TIMEOUT_SECONDS"])
    return db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claimed_at < cutoff)
        .values(status=OutboxStatus.PENDING, claim_token=None)
        .execution_options(synchronize_session=False)
    ).rowcount


def claim_batch(size: int, now=None) -> list[tuple[OutboxMessage, User | None]]:
    """Mark up to ``size`` due messages as ours and commit; returns them with their readers."""
    now = now or utcnow()
    token = uuid.uuid4().hex
    due = (
        select(OutboxMessage.id)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(size)
    )
    if db.engine.dialect.name == "postgresql":
        # Rows another worker is claiming right now are skipped, not waited for.
        due = due.with_for_update(skip_locked=True)
    ids = db.session.scalars(due).all()
    if not ids:
        db.session.commit()
        return []
    db.session.execute(
        update(OutboxMessage)
        # Checked again at write time: a row another worker claimed meanwhile is not ours.
        .where(OutboxMessage.id.in_(ids), OutboxMessage.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.SENDING, claim_token=token, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return db.session.execute(
        select(OutboxMessage, User)
        .outerjoin(User, User.id == OutboxMessage.user_id)
        .where(OutboxMessage.claim_token == token, OutboxMessage.status == OutboxStatus.SENDING)
        .order_by(OutboxMessage.id)
    ).all()


def render(message: OutboxMessage, person: User | None) -> EmailMessage:
    """The email for ``message`` in the reader's language (falling back to English).

    A template is ``templates/mail/<template>.<lang>.txt``: its first line is
    ``Subject: ...``, then a blank line, then the body. It gets the message's context,
    ``person``, ``link`` (the absolute URL of ``url``) and ``base_url``.
    """
    language = getattr(person, "language", None) or "en"
    names = [f"mail/{message.template}.{language}.txt", f"mail/{message.template}.en.txt"]
    template = current_app.jinja_env.select_template(names)
    base_url = current_app.config["PORTAL_BASE_URL"].rstrip("/")
    context = dict(message.context or {})
    url = context.get("url") or ""
    link = f"{base_url}{url}" if url.startswith("/") else url
    text = template.render(**context, person=person, link=link, base_url=base_url)
    first, _, body = text.lstrip("\n").partition("\n")
    if not first.startswith("Subject:"):
        raise ValueError(f"mail template {template.name} must start with a 'Subject:' line")
    email = EmailMessage()
    email["From"] = current_app.config["MAIL_FROM"]
    email["To"] = message.to_address
    email["Subject"] = first.removeprefix("Subject:").strip()
    email["Message-ID"] = make_msgid(domain="portal")
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(body.strip("\n") + "\n")
    return email


def _smtp_reason(exc: Exception) -> tuple[bool, str]:
    """(permanent, reason) for a failed send; permanent means a 5xx answer."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        answers = list(exc.recipients.values()) or [(0, b"refused")]
        code, text = answers[0]
        text = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
        return all(c >= 500 for c, _ in answers), f"{code} {text}"
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error
        text = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
        return exc.smtp_code >= 500, f"{exc.smtp_code} {text}"
    return False, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _retry_later(message: OutboxMessage, reason: str, now, summary: SendSummary) -> None:
    cfg = current_app.config
    message.attempts += 1
    message.last_error = reason[:2000]
    message.claim_token = None
    if message.attempts >= cfg["MAIL_MAX_ATTEMPTS"]:
        message.status = OutboxStatus.FAILED
        message.last_error = f"Gave up after {message.attempts} attempts: {reason}"[:2000]
        summary.failed += 1
        return
    delay = timedelta(seconds=cfg["MAIL_RETRY_SECONDS"] * 2 ** (message.attempts - 1))
    message.status = OutboxStatus.PENDING
    message.next_attempt_at = now + min(delay, MAX_RETRY_DELAY)
    summary.retried += 1


def _fail(message: OutboxMessage, reason: str, summary: SendSummary) -> None:
    message.attempts += 1
    message.status = OutboxStatus.FAILED
    message.last_error = reason[:2000]
    message.claim_token = None
    summary.failed += 1


def _deliver(batch, send: Callable[[EmailMessage], None], now, summary: SendSummary) -> None:
    for index, (message, person) in enumerate(batch):
        if person is not None and not person.active:
            _fail(message, "The person's account was deactivated before sending.", summary)
            continue
        try:
            email = render(message, person)
        except (jinja2.TemplateError, ValueError) as exc:
            _fail(message, f"Could not render the email: {exc}", summary)
            continue
        try:
            send(email)
        except ValueError as exc:  # e.g. an address smtplib cannot put in an envelope
            _fail(message, f"Could not send to {message.to_address}: {exc}", summary)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as exc:
            permanent, reason = _smtp_reason(exc)
            if permanent:
                _fail(message, reason, summary)
            else:
                _retry_later(message, reason, now, summary)
        except OSError as exc:  # refused, timed out, disconnected
            for rest, _ in batch[index:]:
                _retry_later(rest, _smtp_reason(exc)[1], now, summary)
            raise Unreachable(_smtp_reason(exc)[1]) from exc
        else:
            message.status = OutboxStatus.SENT
            message.sent_at = utcnow()
            message.attempts += 1
            message.last_error = None
            message.claim_token = None
            summary.sent += 1


def send_batch(size: int, now=None) -> SendSummary:
    """Claim and send one batch over one connection; commits. An empty summary: nothing due."""
    now = now or utcnow()
    summary = SendSummary()
    batch = claim_batch(size, now)
    if not batch:
        return summary
    summary.batches = 1
    try:
        with backend().connect() as send:
            _deliver(batch, send, now, summary)
    except Unreachable as exc:
        summary.stopped = str(exc)
    except OSError as exc:  # could not connect at all (or the session broke on QUIT)
        unfinished = [m for m, _ in batch if m.status == OutboxStatus.SENDING]
        for message in unfinished:
            _retry_later(message, _smtp_reason(exc)[1], now, summary)
        if unfinished:
            summary.stopped = _smtp_reason(exc)[1]
    db.session.commit()
    return summary


def send_pending(*, batch_size: int | None = None, now=None, on_batch=None) -> SendSummary:
    """Send every due message, batch by batch, until none is left or the server is down.

    ``on_batch(summary_of_that_batch)`` is called after each batch (for progress lines).
    """
    size = batch_size or current_app.config["MAIL_BATCH_SIZE"]
    release_stale_claims(now)
    db.session.commit()
    total = SendSummary()
    while True:
        summary = send_batch(size, now)
        if not summary.batches:
            break
        total.add(summary)
        if on_batch:
            on_batch(summary)
        if summary.stopped:
            total.stopped = summary.stopped
            break
    return total


def retry_now(message_id: int) -> OutboxMessage | None:
    """Put a failed message back in the queue with a fresh set of attempts; None if not failed."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.status != OutboxStatus.FAILED:
        return None
    message.status = OutboxStatus.PENDING
    message.attempts = 0
    message.next_attempt_at = utcnow()
    return message


def outbox_messages(status: str | None = None):
    """Select of outbox messages for the admin page: failed first, then newest."""
    order = case(
        (OutboxMessage.status == OutboxStatus.FAILED, 0),
        (OutboxMessage.status == OutboxStatus.PENDING, 1),
        (OutboxMessage.status == OutboxStatus.SENDING, 2),
        else_=3,
    )
    stmt = select(OutboxMessage).order_by(order, OutboxMessage.id.desc())
    if status:
        stmt = stmt.where(OutboxMessage.status == status)
    return stmt


def status_counts() -> dict[str, int]:
    """Status -> number of messages, for the admin page's filter."""
    rows = db.session.execute(
        select(OutboxMessage.status, db.func.count(OutboxMessage.id)).group_by(OutboxMessage.status)
    ).all()
    return {status.value: 0 for status in OutboxStatus} | dict(rows)

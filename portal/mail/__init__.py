"""Outgoing mail behind a small interface, chosen by ``MAIL_BACKEND``.

- ``console`` (default): prints each message to the log, for development.
- ``smtp``: sends through ``SMTP_HOST``/``SMTP_PORT`` with optional STARTTLS/SSL and login.
- ``memory``: keeps messages in ``backend.outbox``, for tests.

``send_mail`` delivers one message now (sign-in links); everything sent to many people goes
through the persistent outbox (``portal.mail.outbox``), which opens one connection per batch
with ``backend().connect()``.
"""

import logging
import smtplib
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import EmailMessage

from flask import current_app

log = logging.getLogger("portal.mail")


class MailBackend:
    """Delivers one message; raises on failure so the caller can retry later."""

    def __init__(self, config):
        self.config = config

    def send(self, message: EmailMessage) -> None:
        """Deliver ``message`` (To, Subject and body are set; From is filled in here)."""
        raise NotImplementedError

    @contextmanager
    def connect(self) -> Iterator[Callable[[EmailMessage], None]]:
        """A ``send(message)`` function to use for several messages in a row."""
        yield self.send


class ConsoleMailBackend(MailBackend):
    def send(self, message: EmailMessage) -> None:
        log.warning("mail to %s: %s\n%s", message["To"], message["Subject"], message.get_content())


class MemoryMailBackend(MailBackend):
    def __init__(self, config):
        super().__init__(config)
        self.outbox: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> None:
        self.outbox.append(message)


class SMTPMailBackend(MailBackend):
    def send(self, message: EmailMessage) -> None:
        with self.connect() as send:
            send(message)

    @contextmanager
    def connect(self) -> Iterator[Callable[[EmailMessage], None]]:
        """One SMTP session (TLS and login done) for a batch; raises OSError when unreachable."""
        cfg = self.config
        timeout = cfg.get("SMTP_TIMEOUT", 30)
        context = ssl.create_default_context()
        if cfg["SMTP_SSL"]:
            smtp = smtplib.SMTP_SSL(
                cfg["SMTP_HOST"], cfg["SMTP_PORT"], context=context, timeout=timeout
            )
        else:
            smtp = smtplib.SMTP(cfg["SMTP_HOST"], cfg["SMTP_PORT"], timeout=timeout)
        try:
            if cfg["SMTP_STARTTLS"] and not cfg["SMTP_SSL"]:
                smtp.starttls(context=context)
            if cfg["SMTP_USERNAME"]:
                smtp.login(cfg["SMTP_USERNAME"], cfg["SMTP_PASSWORD"] or "")
            yield smtp.send_message
        finally:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()


BACKENDS = {
    "console": ConsoleMailBackend,
    "memory": MemoryMailBackend,
    "smtp": SMTPMailBackend,
}


def init_app(app):
    from portal.mail import models  # noqa: F401  (the outbox table)

    name = app.config["MAIL_BACKEND"]
    if name not in BACKENDS:
        raise RuntimeError(f"MAIL_BACKEND must be one of {', '.join(BACKENDS)}, not {name!r}")
    app.extensions["mail"] = BACKENDS[name](app.config)


def backend() -> MailBackend:
    """The current app's mail backend."""
    return current_app.extensions["mail"]


def send_mail(to: str, subject: str, body: str) -> None:
    """Send a plain-text message to one address through the configured backend."""
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    backend().send(message)

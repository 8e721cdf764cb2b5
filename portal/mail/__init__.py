"""Outgoing mail behind a small interface, chosen by ``MAIL_BACKEND``.

- ``console`` (default): prints each message to the log, for development.
- ``smtp``: sends through ``SMTP_HOST``/``SMTP_PORT`` with optional STARTTLS/SSL and login.
- ``memory``: keeps messages in ``backend.outbox``, for tests.
"""

import logging
import smtplib
import ssl
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
        cfg = self.config
        context = ssl.create_default_context()
        if cfg["SMTP_SSL"]:
            smtp = smtplib.SMTP_SSL(cfg["SMTP_HOST"], cfg["SMTP_PORT"], context=context)
        else:
            smtp = smtplib.SMTP(cfg["SMTP_HOST"], cfg["SMTP_PORT"], timeout=30)
        with smtp:
            if cfg["SMTP_STARTTLS"] and not cfg["SMTP_SSL"]:
                smtp.starttls(context=context)
            if cfg["SMTP_USERNAME"]:
                smtp.login(cfg["SMTP_USERNAME"], cfg["SMTP_PASSWORD"] or "")
            smtp.send_message(message)


BACKENDS = {
    "console": ConsoleMailBackend,
    "memory": MemoryMailBackend,
    "smtp": SMTPMailBackend,
}


def init_app(app):
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

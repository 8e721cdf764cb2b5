"""A real SMTP server on 127.0.0.1 (aiosmtpd) for mail tests, and fixtures that point the app at it.

The handler records every accepted message and can be told to answer a recipient with a
refusal, e.g. ``smtp.refuse["x@example.com"] = "550 5.1.1 No such user"`` (a bounce) or
``"451 4.3.0 Try again later"`` (a temporary failure).
"""

import socket
import threading
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller

from portal.mail import SMTPMailBackend


def free_port() -> int:
    """A TCP port nothing listens on (bound and released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RecordingHandler:
    def __init__(self):
        self.lock = threading.Lock()
        self.messages = []
        self.refuse: dict[str, str] = {}

    def reset(self):
        with self.lock:
            self.messages.clear()
            self.refuse.clear()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        answer = self.refuse.get(address.lower())
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str):
        """Messages received for ``address``."""
        with self.lock:
            return [m for m in self.messages if m["To"] == address]


@pytest.fixture(scope="session")
def smtp_server():
    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture
def smtp(smtp_server):
    """The running server's handler, emptied for this test."""
    smtp_server.handler.reset()
    yield smtp_server.handler
    smtp_server.handler.reset()


@pytest.fixture
def smtp_app(app, smtp_server, smtp):
    """The test app sending through the real SMTP server (short timeouts, quick retries)."""
    app.config.update(
        MAIL_BACKEND="smtp",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=smtp_server.port,
        SMTP_TIMEOUT=2,
        MAIL_RETRY_SECONDS=60,
        MAIL_MAX_ATTEMPTS=3,
    )
    app.extensions["mail"] = SMTPMailBackend(app.config)
    return app

"""Concurrency and faults: racing requests write each record once, two workers share one SQLite
file without "database is locked", and a database lost mid-request leaves nothing half-written.

The servers are real gunicorn processes in production settings on a migrated SQLite file, or
on the session's PostgreSQL schema with TEST_DATABASE_URL.
"""

import os
import sqlite3
import threading
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, event, func, select, text

from portal.announcements.models import AnnouncementRead
from portal.audit.models import AuditEvent
from portal.audit.services import Actions
from portal.extensions import db
from portal.library.models import Acknowledgement
from portal.people.models import User
from tests import announcement_helpers, concurrency_helpers
from tests.concurrency_helpers import Browser, Gunicorn
from tests.helpers import PASSWORD, login, post

app = concurrency_helpers.app  # the fixture: a database the servers share
make_announcement = announcement_helpers.make_announcement  # the fixture


def _count(app, model, *criteria) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*criteria))


def _all_at_once(tasks, timeout=120):
    """Run the callables in threads released together by a barrier; their results in order.

    A task's exception is re-raised here, after every thread has finished.
    """
    barrier = threading.Barrier(len(tasks))
    results, errors = [None] * len(tasks), []

    def run(index, task):
        try:
            barrier.wait(timeout=30)
            results[index] = task()
        except Exception as exc:  # a thread's exception would otherwise vanish
            errors.append(exc)

    threads = [threading.Thread(target=run, args=item) for item in enumerate(tasks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    if errors:
        raise errors[0]
    assert not any(thread.is_alive() for thread in threads), "a request never finished"
    return results


def _signed_in(server, person) -> Browser:
    browser = Browser(server)
    assert browser.sign_in(person.email, PASSWORD).status == 302
    return browser


def _same_session(browser) -> Browser:
    """Another tab of ``browser``: the same cookies, its own jar from now on."""
    tab = Browser(browser.server)
    tab.cookies = dict(browser.cookies)
    return tab


def test_fifty_identical_acknowledgements_at_once_make_one_record(
    app, tmp_path, make_user, make_document
):
    """50 tabs acknowledging the same version at once: all answered, one record, one audit event."""
    agent = make_user(role="agent")
    document = make_document(requires_ack=True)
    with Gunicorn(app, tmp_path, workers=2, threads=25) as server:
        browser = _signed_in(server, agent)
        form = {
            "csrf_token": browser.csrf_token(f"/library/{document.id}"),
            "version_id": document.current_version_id,
        }
        path = f"/library/{document.id}/acknowledge"
        tabs = [_same_session(browser) for _ in range(50)]
        answers = _all_at_once([lambda tab=tab: tab.request("POST", path, form) for tab in tabs])
    assert sorted({answer.status for answer in answers}) == [302]
    assert _count(app, Acknowledgement, Acknowledgement.user_id == agent.id) == 1
    acknowledged = AuditEvent.action == Actions.DOCUMENT_ACKNOWLEDGED
    assert _count(app, AuditEvent, acknowledged, AuditEvent.actor_id == agent.id) == 1
    assert "Traceback" not in server.errors()


AGENTS = 8
REQUESTS_PER_AGENT = 30


def _mixed_requests(browser, token, index, documents, announcements):
    """What one agent does: reads home, library, documents and announcements (which leaves a
    read receipt), acknowledges documents and saves their profile, in turns."""
    answers, acknowledged, opened = [], set(), set()
    for turn in range(REQUESTS_PER_AGENT):
        document = documents[(index + turn) % len(documents)]
        announcement = announcements[(index + turn) % len(announcements)]
        step = turn % 6
        if step == 0:
            answers.append(browser.get("/"))
        elif step == 1:
            answers.append(browser.get("/library/"))
        elif step == 2:
            answers.append(browser.get(f"/library/{document.id}"))
        elif step == 3:
            form = {"csrf_token": token, "version_id": document.current_version_id}
            answers.append(browser.request("POST", f"/library/{document.id}/acknowledge", form))
            acknowledged.add(document.id)
        elif step == 4:
            answers.append(browser.get(f"/announcements/{announcement.id}"))
            opened.add(announcement.id)
        else:
            profile = {"csrf_token": token, "submit": "Save profile", "name": f"Agent {turn}"}
            profile.update(language="en", timezone="Asia/Manila")
            answers.append(browser.request("POST", "/profile", profile))
    return answers, acknowledged, opened


def test_two_workers_under_mixed_load_never_meet_a_locked_database(
    app, tmp_path, make_partner, make_user, make_document, make_announcement
):
    """8 agents reading and writing at once through two sync workers: no error, nothing lost."""
    partner = make_partner()
    agents = [make_user(role="agent", partner=partner) for _ in range(AGENTS)]
    documents = [make_document(requires_ack=True) for _ in range(4)]
    announcements = [make_announcement(title=f"Change {n}") for n in range(3)]
    with Gunicorn(app, tmp_path, workers=2) as server:
        browsers = [_signed_in(server, agent) for agent in agents]
        tokens = [browser.csrf_token("/profile") for browser in browsers]
        runs = _all_at_once(
            [
                lambda i=i: _mixed_requests(browsers[i], tokens[i], i, documents, announcements)
                for i in range(AGENTS)
            ]
        )
    statuses = [answer.status for answers, _, _ in runs for answer in answers]
    assert len(statuses) == AGENTS * REQUESTS_PER_AGENT
    assert set(statuses) <= {200, 302}, sorted(set(statuses))
    errors = server.errors()
    assert "database is locked" not in errors and "Traceback" not in errors
    assert len({pid for pid, *_ in server.answers()}) == 2  # both workers took their share

    agent_ids = [agent.id for agent in agents]
    expected_acks = sum(len(acknowledged) for _, acknowledged, _ in runs)
    expected_reads = sum(len(opened) for _, _, opened in runs)
    assert _count(app, Acknowledgement, Acknowledgement.user_id.in_(agent_ids)) == expected_acks
    assert _count(app, AnnouncementRead, AnnouncementRead.user_id.in_(agent_ids)) == expected_reads
    assert _count(app, User, User.id.in_(agent_ids), User.name.like("Agent %")) == AGENTS


class Outage:
    """Takes the app's database away. On PostgreSQL the server terminates every connection the
    app opened (``pg_terminate_backend``), as in a restart or fail-over; on SQLite statements
    fail with a disk I/O error, as on a failing disk."""

    def __init__(self, app):
        with app.app_context():
            self.engine = db.engine
        self.engine.dispose()  # from now on every connection is one it knows
        self.backends = set()
        self.admin = None
        if self.engine.name == "postgresql":
            self.admin = create_engine(os.environ["TEST_DATABASE_URL"])
            event.listen(self.engine, "connect", self._remember)

    def _remember(self, dbapi_connection, _record):
        self.backends.add(dbapi_connection.info.backend_pid)

    def restart(self):
        """The server restarts: connections the app holds are dead (PostgreSQL only)."""
        if self.admin is None:
            return
        with self.admin.connect() as conn:
            for pid in self.backends:
                conn.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
        self.backends.clear()

    @contextmanager
    def at(self, statement_prefix):
        """The database goes away as a statement starting with ``statement_prefix`` runs."""

        def lose(conn, cursor, statement, *args):
            if statement.startswith(statement_prefix):
                if self.admin is None:
                    raise sqlite3.OperationalError("disk I/O error")
                self.restart()

        event.listen(self.engine, "before_cursor_execute", lose)
        try:
            yield
        finally:
            event.remove(self.engine, "before_cursor_execute", lose)

    def close(self):
        if self.admin is not None:
            event.remove(self.engine, "connect", self._remember)
            self.admin.dispose()


@pytest.fixture
def outage(app):
    outage = Outage(app)
    yield outage
    outage.close()


def test_database_lost_between_two_writes_leaves_nothing_and_shows_error_page(
    app, client, make_user, make_document, outage
):
    """The database goes away between an acknowledgement and its audit event: the portal's
    error page, no trace, no acknowledgement; the next requests work again."""
    agent = make_user(role="agent")
    document = make_document(requires_ack=True)
    assert login(client, agent).status_code == 302
    page = f"/library/{document.id}"
    form = {"version_id": document.current_version_id}

    with outage.at("INSERT INTO audit_event"):
        failed = post(client, f"{page}/acknowledge", form, token_from=page)
    assert failed.status_code == 500
    text_shown = failed.get_data(as_text=True)
    assert "Something went wrong" in text_shown and "Partner Portal" in text_shown
    assert "Traceback" not in text_shown and "OperationalError" not in text_shown
    assert _count(app, Acknowledgement, Acknowledgement.user_id == agent.id) == 0
    assert _count(app, AuditEvent, AuditEvent.action == Actions.DOCUMENT_ACKNOWLEDGED) == 0

    outage.restart()  # again, while the app's connections wait in its pool
    assert client.get(page).status_code == 200  # pool_pre_ping replaced the dead connections
    retried = post(client, f"{page}/acknowledge", form, token_from=page)
    assert retried.status_code == 302
    assert _count(app, Acknowledgement, Acknowledgement.user_id == agent.id) == 1
    assert _count(app, AuditEvent, AuditEvent.action == Actions.DOCUMENT_ACKNOWLEDGED) == 1

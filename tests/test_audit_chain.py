"""The audit log is tamper-evident: events are chained; `audit verify` finds edits and cuts."""

import logging.config
import os
import threading
from datetime import UTC, datetime

import flask_migrate
import pytest
from sqlalchemy import JSON, bindparam, select, text

from portal import create_app
from portal.audit.chain import CHAINED_FIELDS, event_hash
from portal.audit.models import AuditChainHead, AuditEvent
from portal.audit.services import Actions, record
from portal.extensions import db
from tests.helpers import private_schema

PG_URL = os.environ.get("TEST_DATABASE_URL")


def _record(app, count, **kwargs):
    """``count`` events written in one commit; their ids."""
    with app.app_context():
        events = [record(Actions.TEAM_CREATED, summary=f"team {n}", **kwargs) for n in range(count)]
        db.session.commit()
        return [event.id for event in events]


def _events(app):
    with app.app_context():
        return db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars().all()


def _execute(app, sql, **params):
    """Change the log behind the portal's back, as someone with database access could."""
    statement = text(sql)
    if isinstance(params.get("details"), dict):
        statement = statement.bindparams(bindparam("details", type_=JSON))
    with app.app_context():
        db.session.execute(statement, params)
        db.session.commit()


def _verify(runner, *args):
    return runner.invoke(args=["audit", "verify", *args])


def _refused(result, *phrases):
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    for phrase in phrases:
        assert phrase in result.stderr, result.stderr


def test_events_are_chained_in_the_order_they_were_added(app):
    """Each event names the hash of the one before it; the chain head names the last."""
    _record(app, 3)
    _record(app, 2, details={"n": (1, 2), 7: "int keys become text"})
    events = _events(app)
    assert [e.id for e in events] == [1, 2, 3, 4, 5]
    assert [e.summary for e in events] == ["team 0", "team 1", "team 2", "team 0", "team 1"]
    assert events[0].prev_hash is None
    for previous, event in zip(events, events[1:], strict=False):
        assert event.prev_hash == previous.hash
    for event in events:
        fields = {name: getattr(event, name) for name in CHAINED_FIELDS}
        assert event.hash == event_hash(fields, event.prev_hash)
    with app.app_context():
        head = db.session.get(AuditChainHead, 1)
        assert (head.last_event_id, head.last_hash) == (5, events[-1].hash)


EVENT = {
    "id": 7,
    "occurred_at": datetime(2026, 3, 2, 10, 0, tzinfo=UTC),
    "action": Actions.ROLE_CHANGED,
    "actor_id": 1,
    "actor_email": "boss@example.com",
    "partner_id": 2,
    "target_type": "user",
    "target_id": 3,
    "summary": "Role changed",
    "details": {"from": "agent", "to": "trainer"},
    "ip_address": "10.0.0.1",
    "user_agent": "Firefox",
}
EDITED = {
    "id": 8,
    "occurred_at": datetime(2026, 3, 2, 10, 0, 0, 1, tzinfo=UTC),
    "action": Actions.DEACTIVATED,
    "actor_id": 4,
    "actor_email": "someone@example.com",
    "partner_id": None,
    "target_type": "partner",
    "target_id": 5,
    "summary": "Nothing happened",
    "details": {"from": "agent", "to": "admin"},
    "ip_address": "10.0.0.2",
    "user_agent": "curl",
}


@pytest.mark.parametrize("name", CHAINED_FIELDS)
def test_the_hash_covers_every_field(name):
    """Changing any field of an event, or the hash it follows, changes its hash."""
    original = event_hash(EVENT, "a" * 64)
    assert event_hash({**EVENT, name: EDITED[name]}, "a" * 64) != original
    assert event_hash(EVENT, "b" * 64) != original
    assert event_hash(EVENT, None) != original


def test_verify_reports_an_intact_log(app, runner):
    """An untouched log verifies: the count and the last hash are printed, exit 0."""
    _record(app, 4)
    last = _events(app)[-1]
    result = _verify(runner, "--progress-every", "2")
    assert result.exit_code == 0, result.output
    assert "OK: 4 events" in result.stdout and last.hash in result.stdout
    assert "Checked 2 events" in result.stderr and "Checked 4 events" in result.stderr


def test_verify_accepts_an_empty_log(runner):
    """A new portal's empty log verifies."""
    result = _verify(runner)
    assert result.exit_code == 0, result.output
    assert "OK: the audit log is empty." in result.stdout


def test_an_edited_event_is_named(app, runner):
    """Editing an event's details in the database is found, and that event is named."""
    _record(app, 5)
    _execute(app, "UPDATE audit_event SET details = :details WHERE id = 3", details={"x": 1})
    _refused(_verify(runner), "Event 3 (teams.created", "was changed after it was written")
    assert "The 2 events before it are intact." in _verify(runner).stderr


def test_a_deleted_event_is_found(app, runner):
    """Deleting an event from the middle of the log breaks the chain at the next one."""
    _record(app, 5)
    _execute(app, "DELETE FROM audit_event WHERE id = 3")
    _refused(_verify(runner), "Event 4 does not link to event 2", "ids 3 to 3 are missing")


def test_a_rehashed_event_breaks_the_link_after_it(app, runner):
    """Editing an event and recomputing its own hash still breaks the next event's link."""
    _record(app, 3)
    second = _events(app)[1]
    fields = {name: getattr(second, name) for name in CHAINED_FIELDS}
    forged = event_hash({**fields, "summary": "nothing happened"}, second.prev_hash)
    _execute(
        app,
        "UPDATE audit_event SET summary = 'nothing happened', hash = :forged WHERE id = 2",
        forged=forged,
    )
    _refused(_verify(runner), "Event 3 does not link to event 2", "was rewritten")


def test_deleting_the_last_events_is_found(app, runner):
    """Cutting events off the end of the log is found through the chain head."""
    _record(app, 5)
    _execute(app, "DELETE FROM audit_event WHERE id >= 4")
    _refused(_verify(runner), "ends at event 3 but its chain head names event 5")
    _execute(app, "DELETE FROM audit_event")
    _refused(_verify(runner), "The log is empty but its chain head names event 5")


def test_deleting_the_first_events_is_found(app, runner):
    """Deleting the oldest events leaves the new first event linking to nothing."""
    _record(app, 3)
    _execute(app, "DELETE FROM audit_event WHERE id = 1")
    _refused(_verify(runner), "Event 2 is the first in the log but links to an earlier event")


def test_a_new_event_after_a_cut_does_not_hide_it(app, runner):
    """Events written after the last ones were deleted still show the cut."""
    _record(app, 3)
    _execute(app, "DELETE FROM audit_event WHERE id = 3")
    _record(app, 1)
    _refused(_verify(runner), "does not link to event 2")


def test_rolled_back_events_leave_the_chain_whole(app, runner):
    """Events of a rolled-back savepoint or transaction leave no hole in the chain."""
    with app.app_context():
        record(Actions.TEAM_CREATED, summary="kept")
        with pytest.raises(RuntimeError), db.session.begin_nested():
            record(Actions.TEAM_DELETED, summary="savepoint rolled back")
            db.session.flush()
            raise RuntimeError("the step failed")
        record(Actions.TEAM_UPDATED, summary="after the savepoint")
        db.session.commit()
        record(Actions.TEAM_DELETED, summary="transaction rolled back")
        db.session.flush()
        db.session.rollback()
        record(Actions.TEAM_UPDATED, summary="after the rollback")
        db.session.commit()
    summaries = [e.summary for e in _events(app)]
    assert summaries == ["kept", "after the savepoint", "after the rollback"]
    result = _verify(runner)
    assert result.exit_code == 0, result.output
    assert "OK: 3 events" in result.stdout


def test_help_exits_zero(runner):
    """`audit verify --help` explains the command."""
    result = runner.invoke(args=["audit", "verify", "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_concurrent_writers_keep_one_chain(shared_app):
    """Eight writers committing at once still make one unbroken chain, in id order."""
    app, writers, rounds = shared_app, 8, 15
    barrier = threading.Barrier(writers)
    errors = []

    def write(n):
        try:
            barrier.wait()
            for i in range(rounds):
                with app.app_context():
                    record(Actions.SIGN_IN, summary=f"writer {n} round {i}")
                    if i % 3 == 0:
                        record(Actions.SIGN_OUT, summary=f"writer {n} round {i}, second")
                    db.session.commit()
        except Exception as error:  # reported below, with the writer
            errors.append((n, error))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    expected = writers * (rounds + len(range(0, rounds, 3)))
    events = _events(app)
    assert len(events) == expected
    assert [e.id for e in events] == list(range(1, expected + 1))
    for previous, event in zip(events, events[1:], strict=False):
        assert event.prev_hash == previous.hash, event.id
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert f"OK: {expected} events" in result.stdout


@pytest.fixture(params=["sqlite", "postgresql"])
def migrated_app(request, tmp_path, monkeypatch):
    """An app on an empty database (a SQLite file or a fresh PostgreSQL schema)."""
    # migrations/env.py calls fileConfig(alembic.ini), which would disable the test's loggers.
    monkeypatch.setattr(logging.config, "fileConfig", lambda *args, **kwargs: None)
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'migrated.db'}"
        yield create_app("testing", SQLALCHEMY_DATABASE_URI=url)
        return
    if not PG_URL:
        pytest.skip("needs PostgreSQL: set TEST_DATABASE_URL (CI sets it)")
    with private_schema(PG_URL, "chain") as url:
        app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
        yield app
        with app.app_context():
            db.engine.dispose()


def test_the_migration_chains_events_written_before_it(migrated_app):
    """Events already in the log when the chain arrives are hashed in id order and verify."""
    app = migrated_app
    with app.app_context():
        flask_migrate.upgrade(revision="0009_audit_chain-1")
        insert = text(
            "INSERT INTO audit_event (id, occurred_at, action, actor_email, summary, details)"
            " VALUES (:id, :at, :action, :email, :summary, :details)"
        ).bindparams(bindparam("details", type_=JSON))
        for event_id in (1, 2, 4):  # 3 was never committed: ids may have gaps
            db.session.execute(
                insert,
                {
                    "id": event_id,
                    "at": datetime(2026, 1, event_id, 9, 30, 15, 123456),
                    "action": Actions.SIGN_IN,
                    "email": "josé@example.com",
                    "summary": f"Signed in, “{event_id}”",
                    "details": {"attempt": event_id, "how": ["password"]},
                },
            )
        if db.engine.dialect.name == "postgresql":  # ids given by hand: move the sequence on
            db.session.execute(
                text("SELECT setval(pg_get_serial_sequence('audit_event', 'id'), 4)")
            )
        db.session.commit()
        flask_migrate.upgrade()
    events = _events(app)
    assert [e.id for e in events] == [1, 2, 4]
    assert events[0].prev_hash is None and events[2].prev_hash == events[1].hash
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "OK: 3 events" in result.stdout
    assert f"Last event 4, hash {events[2].hash}." in result.stdout
    assert _record(app, 1) == [5]
    assert app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0

"""Sign-in limits under gunicorn with two workers: counted in Redis, refused by every worker.

Starts real gunicorn processes (production settings) on a migrated SQLite file, or on the
session's PostgreSQL schema with TEST_DATABASE_URL; needs Redis on 127.0.0.1:6379 (CI has it).
"""

import uuid

import pytest
import redis

from tests import concurrency_helpers
from tests.concurrency_helpers import REDIS_URL, Browser, Gunicorn, on_both_workers, redis_up
from tests.helpers import PASSWORD

pytestmark = pytest.mark.skipif(not redis_up(), reason="needs Redis on 127.0.0.1:6379")

app = concurrency_helpers.app  # the fixture: a database the servers share
LIMIT = 4  # failed sign-ins per account
TOO_MANY = "Too many failed sign-ins"


@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own in Redis, whose keys are deleted afterwards."""
    prefix = f"test-gunicorn-{uuid.uuid4().hex}"
    yield prefix
    store = redis.Redis.from_url(REDIS_URL)
    for key in store.scan_iter(f"*{prefix}*"):
        store.delete(key)


def _server(app, tmp_path, storage, prefix=""):
    return Gunicorn(
        app,
        tmp_path,
        workers=2,
        RATELIMIT_STORAGE_URI=storage,
        RATELIMIT_KEY_PREFIX=prefix,
        LOGIN_LIMIT_PER_ACCOUNT=f"{LIMIT} per 15 minutes",
    )


def _attempt_on_both_workers(server, email, password):
    """One sign-in attempt answered by each worker, each from its own browser."""
    browsers = [Browser(server), Browser(server)]
    attempts = []
    for browser in browsers:
        form = {"csrf_token": browser.csrf_token("/login"), "email": email, "password": password}
        attempts.append((browser, "POST", "/login", form))
    return on_both_workers(*attempts)


def _workers_answering(server, status):
    return {
        pid for pid, code, method, path in server.answers() if (method, code) == ("POST", status)
    }


def test_failed_sign_ins_are_counted_across_workers_in_redis(
    app, tmp_path, make_user, redis_prefix
):
    """With Redis, failures on either worker add up: the next attempt is refused by both."""
    agent = make_user(role="agent")
    with _server(app, tmp_path, REDIS_URL, redis_prefix) as server:
        for _ in range(LIMIT // 2):
            answers = _attempt_on_both_workers(server, agent.email, "wrong password")
            assert [a.status for a in answers] == [200, 200]
            assert all("do not match an account" in a.text for a in answers)
        refused = _attempt_on_both_workers(server, agent.email, PASSWORD)
        assert [a.status for a in refused] == [429, 429]
        assert all(TOO_MANY in a.text and "Traceback" not in a.text for a in refused)
    # The access log (complete once the server stopped) names the worker of each answer.
    assert len(_workers_answering(server, 200)) == 2  # the failures were split between them
    assert len(_workers_answering(server, 429)) == 2
    assert "Traceback" not in server.errors()
    assert any(redis.Redis.from_url(REDIS_URL).scan_iter(f"*{redis_prefix}*"))


def test_memory_counts_give_each_worker_its_own_allowance(app, tmp_path, make_user):
    """Why Redis: in memory each worker counts alone, so the same failures are not refused."""
    agent = make_user(role="agent")
    with _server(app, tmp_path, "memory://") as server:
        for _ in range(LIMIT // 2 + 1):
            answers = _attempt_on_both_workers(server, agent.email, "wrong password")
            assert [a.status for a in answers] == [200, 200]
    assert len(_workers_answering(server, 200)) == 2
    assert _workers_answering(server, 429) == set()

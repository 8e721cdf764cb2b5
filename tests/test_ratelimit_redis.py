"""Sign-in rate limits kept in Redis (needs the Redis service on 127.0.0.1:6379; CI has it)."""

import uuid

import pytest
import redis

from portal import create_app
from portal.extensions import db
from tests.helpers import login

REDIS_URL = "redis://127.0.0.1:6379/15"


def _redis_up() -> bool:
    try:
        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.exceptions.ConnectionError:
        return False


pytestmark = pytest.mark.skipif(not _redis_up(), reason="needs Redis on 127.0.0.1:6379")


def _app(database_url, prefix):
    return create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=database_url,
        RATELIMIT_STORAGE_URI=REDIS_URL,
        RATELIMIT_KEY_PREFIX=prefix,
        LOGIN_LIMIT_PER_ACCOUNT="3 per 15 minutes",
    )


def test_failed_sign_ins_are_counted_across_app_instances(database_url, app, make_user):
    """Two processes sharing Redis share the count: the 4th failure is refused by either one."""
    agent = make_user(role="agent")
    prefix = f"test-{uuid.uuid4().hex}"
    first, second = _app(database_url, prefix), _app(database_url, prefix)
    for instance in (first, second):
        with instance.app_context():
            db.create_all()  # in-memory SQLite is per app; PostgreSQL already has the tables
    clients = [first.test_client(), second.test_client()]
    statuses = [login(clients[i % 2], agent, "wrong password").status_code for i in range(3)]
    assert statuses == [200, 200, 200]
    refused = login(clients[1], agent)
    assert refused.status_code == 429
    assert "Too many failed sign-ins" in refused.get_data(as_text=True)
    store = redis.Redis.from_url(REDIS_URL)
    assert any(store.scan_iter(f"*{prefix}*"))
    for key in store.scan_iter(f"*{prefix}*"):
        store.delete(key)
    for instance in (first, second):
        with instance.app_context():
            db.session.remove()
            db.engine.dispose()

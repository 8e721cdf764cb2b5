"""Behind a load balancer the client's address comes from X-Forwarded-For, and only then."""

from sqlalchemy import select

from portal import create_app
from portal.audit.models import AuditEvent
from portal.extensions import db
from tests.helpers import login


def _failed_sign_in_address(app, client):
    login(
        client,
        "nobody@example.com",
        "wrong password",
    )
    with app.app_context():
        return db.session.scalars(
            select(AuditEvent.ip_address).where(AuditEvent.action == "auth.sign_in_failed")
        ).first()


def _post_with_forwarded_for(client):
    client.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.9"
    client.environ_base["REMOTE_ADDR"] = "10.0.0.2"


def test_forwarded_address_is_ignored_without_trusted_proxies(app, client):
    """By default a client cannot forge its address with X-Forwarded-For."""
    _post_with_forwarded_for(client)
    assert _failed_sign_in_address(app, client) == "10.0.0.2"


def test_forwarded_address_is_used_behind_a_trusted_proxy(database_url):
    """With TRUSTED_PROXY_COUNT=1 the audit log records the client, not the proxy."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url, TRUSTED_PROXY_COUNT=1)
    with app.app_context():
        db.create_all()
    client = app.test_client()
    _post_with_forwarded_for(client)
    try:
        assert _failed_sign_in_address(app, client) == "203.0.113.9"
    finally:
        with app.app_context():
            db.session.execute(db.delete(AuditEvent))
            db.session.commit()
            db.session.remove()
            db.engine.dispose()

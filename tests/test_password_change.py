"""Changing one's own password from the profile page."""

from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.people.models import User
from tests.helpers import PASSWORD, csrf_token, login

NEW_PASSWORD = "a brand new passphrase"


def change_password(client, current, new=NEW_PASSWORD, confirm=None):
    token = csrf_token(client, "/profile")
    return client.post(
        "/profile/password",
        data={
            "pw-csrf_token": token,
            "pw-current": current,
            "pw-password": new,
            "pw-confirm": new if confirm is None else confirm,
        },
    )


def signed_in(client) -> bool:
    return client.get("/").status_code == 200


def count_events(app, action) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
        )


def test_changing_password_keeps_this_session_and_ends_others(app, make_user):
    """Changing one's password signs out other devices but not this one."""
    agent = make_user(role="agent")
    this, other = app.test_client(), app.test_client()
    login(this, agent)
    login(other, agent)
    response = change_password(this, PASSWORD)
    assert response.status_code == 302 and response.location == "/profile"
    assert signed_in(this) and not signed_in(other)
    assert login(app.test_client(), agent, NEW_PASSWORD).status_code == 302
    assert count_events(app, "auth.password_changed") == 1


def test_changing_password_needs_the_current_one(app, client, make_user):
    """A wrong current password gets a message, is logged, and changes nothing."""
    agent = make_user(role="agent")
    login(client, agent)
    response = change_password(client, "not my password")
    assert response.status_code == 200
    assert "That is not your current password." in response.get_data(as_text=True)
    with app.app_context():
        after = db.session.get(User, agent.id)
        assert after.password_hash == agent.password_hash
        assert after.auth_version == agent.auth_version
    assert signed_in(client)
    assert count_events(app, "auth.password_change_failed") == 1


def test_mismatched_new_passwords_change_nothing(app, client, make_user):
    """A confirmation that differs from the new password is refused with a message."""
    agent = make_user(role="agent")
    login(client, agent)
    response = change_password(client, PASSWORD, confirm="something else entirely")
    assert "The two passwords differ." in response.get_data(as_text=True)
    assert login(app.test_client(), agent, PASSWORD).status_code == 302


def test_guessing_the_current_password_is_rate_limited(app, client, make_user):
    """After five wrong current passwords, even the right one is refused for a while."""
    agent = make_user(role="agent")
    login(client, agent)
    for _ in range(5):
        assert change_password(client, "a wrong guess").status_code == 200
    refused = change_password(client, PASSWORD)
    assert refused.status_code == 429
    assert "Too many wrong current passwords" in refused.get_data(as_text=True)
    assert login(app.test_client(), agent, PASSWORD).status_code == 302

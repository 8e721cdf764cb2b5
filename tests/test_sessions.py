"""Sign-ins end after an idle time and after an absolute time, remember-me included."""

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import event

from portal import create_app
from portal.auth import sessions
from portal.extensions import db
from portal.people.models import User
from tests.helpers import PASSWORD, csrf_token, login, post

IDLE = "You were signed out after 60 minutes without activity."
ABSOLUTE = "You were signed out 12 hours after signing in."


@pytest.fixture
def clock(monkeypatch):
    """The sessions' clock, moved by hand: ``clock.advance(minutes=61)``."""

    class Clock:
        now = 1_800_000_000

        def advance(self, minutes=0, hours=0):
            self.now += minutes * 60 + hours * 3600

    fake = Clock()
    monkeypatch.setattr(sessions, "_now", lambda: fake.now)
    return fake


@pytest.fixture
def agent(make_user):
    return make_user(role="agent")


def signed_in(client) -> bool:
    return client.get("/").status_code == 200


def signed_out_with(client, message, path="/") -> bool:
    """The next request to ``path`` goes to the sign-in page, which says ``message``."""
    response = client.get(path)
    if response.status_code != 302 or not response.location.startswith("/login"):
        return False
    return message in client.get(response.location).get_data(as_text=True)


def test_sign_in_starts_the_clock_in_the_session(client, clock, agent):
    """Signing in records the sign-in time and the last-seen time in the session."""
    login(client, agent)
    with client.session_transaction() as session:
        assert session[sessions.SIGNED_IN_AT] == session[sessions.LAST_SEEN_AT] == clock.now


def test_an_idle_session_is_signed_out_with_a_message(client, clock, agent):
    """After 60 minutes without a request the next one signs the person out and says why."""
    login(client, agent)
    clock.advance(minutes=59)
    assert signed_in(client)
    clock.advance(minutes=60)
    assert signed_out_with(client, IDLE)
    assert not signed_in(client)


def test_the_page_asked_for_is_where_sign_in_leads_back(client, clock, agent):
    """An idle sign-out remembers the page that was asked for, for after signing in again."""
    login(client, agent)
    clock.advance(minutes=61)
    response = client.get("/library/?kind=playbook")
    assert response.location == "/login?next=/library/?kind%3Dplaybook"
    again = post(
        client,
        response.location,
        {"email": agent.email, "password": PASSWORD},
        token_from=response.location,
    )
    assert again.location == "/library/?kind=playbook"


def test_activity_keeps_a_session_alive_until_the_absolute_limit(client, clock, agent):
    """Requests every 50 minutes keep the sign-in, but only for 12 hours after signing in."""
    login(client, agent)
    for _ in range(14):  # 11 hours 40 minutes
        clock.advance(minutes=50)
        assert signed_in(client)
    clock.advance(minutes=20)
    assert signed_out_with(client, ABSOLUTE)


def test_a_form_posted_after_the_limit_changes_nothing(app, client, clock, agent):
    """A form sent from a page left open too long signs out instead of being applied."""
    login(client, agent)
    token = csrf_token(client, "/profile")
    clock.advance(minutes=61)
    data = {"csrf_token": token, "name": "Renamed", "language": "en", "timezone": "UTC"}
    response = client.post("/profile", data={**data, "submit": "Save profile"})
    assert response.status_code == 302 and response.location == "/login"
    assert IDLE in client.get(response.location).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, agent.id).name == agent.name


def test_settings_change_the_limits(app, client, clock, agent):
    """SESSION_IDLE_MINUTES and SESSION_MAX_HOURS set the two limits."""
    app.config.update(SESSION_IDLE_MINUTES=5, SESSION_MAX_HOURS=1)
    login(client, agent)
    clock.advance(minutes=6)
    assert signed_out_with(client, "You were signed out after 5 minutes without activity.")
    login(client, agent)
    for _ in range(15):
        clock.advance(minutes=4)
    assert signed_out_with(client, "You were signed out 1 hours after signing in.")


def test_json_clients_get_401_saying_why(client, clock, agent):
    """A JSON request after the idle limit answers 401 with the reason, not a page."""
    login(client, agent)
    clock.advance(minutes=61)
    response = client.get("/", headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.json["message"] == IDLE


def test_a_session_without_a_clock_is_ended(client, clock, agent):
    """A session that carries no sign-in time (issued before the limits existed) ends."""
    login(client, agent)
    with client.session_transaction() as session:
        del session[sessions.SIGNED_IN_AT]
    assert signed_out_with(client, sessions.UNTIMED)


def test_requests_do_not_write_to_the_database(app, client, clock, agent):
    """Keeping the session's clock writes no database rows, even when it moves."""
    login(client, agent)
    writes = []

    def note(conn, cursor, statement, *args):
        if statement.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            writes.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        for _ in range(3):
            clock.advance(minutes=30)
            assert client.get("/profile").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert writes == []
    with client.session_transaction() as session:
        assert session[sessions.LAST_SEEN_AT] == clock.now


# Remember-me


def remembered(app, user):
    """A client signed in with "keep me signed in", whose browser then dropped the session."""
    client = app.test_client()
    login(client, user, remember="y")
    client.delete_cookie("session")
    return client


def test_remember_me_restores_a_sign_in_within_the_limits(app, clock, agent):
    """With "keep me signed in", a browser without its session cookie is still signed in."""
    client = remembered(app, agent)
    clock.advance(minutes=30)
    assert signed_in(client)
    client.delete_cookie("session")
    clock.advance(minutes=30)
    assert signed_in(client)


def test_remember_me_cannot_outlast_the_idle_limit(app, clock, agent):
    """The remember cookie restores nothing after 60 idle minutes, and is deleted."""
    client = remembered(app, agent)
    clock.advance(minutes=61)
    assert signed_out_with(client, IDLE)
    assert client.get_cookie("remember_token") is None
    assert client.get_cookie(sessions.CLOCK_COOKIE) is None
    assert not signed_in(client)


def test_remember_me_cannot_outlast_the_absolute_limit(app, clock, agent):
    """Restored or not, a remembered sign-in ends 12 hours after the password was typed."""
    client = remembered(app, agent)
    for _ in range(23):  # 11.5 hours, the session cookie dropped every time
        clock.advance(minutes=30)
        assert signed_in(client)
        client.delete_cookie("session")
    clock.advance(minutes=30)
    assert signed_out_with(client, ABSOLUTE)
    assert client.get_cookie("remember_token") is None


@pytest.mark.parametrize("tamper", ["missing", "forged", "someone else's"])
def test_a_remember_cookie_without_its_own_clock_restores_nothing(
    app, clock, agent, make_user, tamper
):
    """The remember cookie only works with its genuine companion clock cookie."""
    client = remembered(app, agent)
    if tamper == "missing":
        client.delete_cookie(sessions.CLOCK_COOKIE)
    elif tamper == "forged":
        clock.advance(hours=13)  # long expired; the forgery claims a fresh sign-in
        who = client.get_cookie("remember_token").value.rsplit("|", 1)[0]
        forged = URLSafeSerializer("not the secret key", salt="portal.remember-clock")
        client.set_cookie(sessions.CLOCK_COOKIE, forged.dumps([who, clock.now, clock.now]))
    else:
        other = remembered(app, make_user(role="agent"))
        client.set_cookie(sessions.CLOCK_COOKIE, other.get_cookie(sessions.CLOCK_COOKIE).value)
    assert signed_out_with(client, sessions.UNTIMED)
    assert client.get_cookie("remember_token") is None
    assert not signed_in(client)


def test_changing_the_password_keeps_remember_me_and_its_clock(app, clock, agent):
    """After a password change on a remembered device, remember-me still works, same limits."""
    client = remembered(app, agent)
    clock.advance(minutes=30)
    data = {"pw-current": PASSWORD, "pw-password": "a brand new passphrase"}
    data["pw-confirm"] = data["pw-password"]
    data["pw-csrf_token"] = csrf_token(client, "/profile")
    assert client.post("/profile/password", data=data).status_code == 302
    client.delete_cookie("session")
    assert signed_in(client)
    clock.advance(hours=12)
    assert signed_out_with(client, ABSOLUTE)


def test_signing_out_deletes_the_clock_cookie(client, clock, agent):
    """Signing out removes the remember cookie and its companion."""
    login(client, agent, remember="y")
    assert client.get_cookie(sessions.CLOCK_COOKIE) is not None
    post(client, "/logout")
    assert client.get_cookie("remember_token") is None
    assert client.get_cookie(sessions.CLOCK_COOKIE) is None


def test_without_remember_me_there_is_no_clock_cookie(client, clock, agent):
    """A sign-in that ends with the browser leaves no cookie behind but the session."""
    login(client, agent)
    clock.advance(minutes=5)
    assert signed_in(client)
    assert client.get_cookie(sessions.CLOCK_COOKIE) is None


# Cookies in production


@pytest.fixture
def production(app, database_url, tmp_path):
    """A production app on the test database (the ``app`` fixture empties it afterwards)."""
    production = create_app(
        "production",
        SECRET_KEY="p" * 64,
        SQLALCHEMY_DATABASE_URI=database_url,
        SEARCH_INDEX_PATH=str(tmp_path / "search-index"),
        STORAGE_PATH=str(tmp_path / "attachments"),
    )
    with production.app_context():
        db.create_all()  # in-memory SQLite is per app; PostgreSQL already has the tables
        user = User(role="admin", email="ops@example.com", name="Ops")
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.commit()
    yield production
    with production.app_context():
        db.session.remove()
        db.engine.dispose()


def test_production_cookies_are_secure_httponly_and_samesite_lax(production, clock):
    """In production the session, remember and clock cookies are Secure, HttpOnly, Lax."""
    client = production.test_client()
    client.environ_base.update({"wsgi.url_scheme": "https", "HTTP_REFERER": "https://localhost/"})
    response = login(client, "ops@example.com", remember="y")
    assert response.status_code == 302
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
    assert {"session", "remember_token", sessions.CLOCK_COOKIE} <= set(cookies)
    for name in ("session", "remember_token", sessions.CLOCK_COOKIE):
        attributes = [part.strip().lower() for part in cookies[name].split(";")]
        assert {"secure", "httponly", "samesite=lax"} <= set(attributes), cookies[name]
    expires = production.config["REMEMBER_COOKIE_DURATION"].total_seconds()
    assert expires == production.config["SESSION_MAX_HOURS"] * 3600

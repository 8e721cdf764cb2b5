"""Signing in and out, rate limits, invitations, password resets and ending sessions."""

import re
from datetime import timedelta
from urllib.parse import quote, urlsplit

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.auth import services
from portal.auth.routes import TOO_MANY, TOO_MANY_RESETS
from portal.extensions import db
from portal.partners.models import Partner
from portal.people import services as people_services
from portal.people.models import User
from tests.helpers import PASSWORD, login, post

NEW_PASSWORD = "a brand new passphrase"
ALERT_RE = re.compile(r'class="alert alert-danger" role="alert">(.*?)</div>\s*</div>', re.S)


def alert_text(response) -> str:
    """The form-level error message on a page, without markup."""
    match = ALERT_RE.search(response.get_data(as_text=True))
    assert match, "no form error on the page"
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def login_from(address, client, user_or_email, password=PASSWORD):
    """Sign in through the form from another network address."""
    email = getattr(user_or_email, "email", user_or_email)
    data = {"email": email, "password": password}
    return post(client, "/login", data, token_from="/login", environ_base={"REMOTE_ADDR": address})


def choose_password(client, path, password=NEW_PASSWORD, confirm=None):
    """Submit the set-password form of an invitation or reset link."""
    data = {"password": password, "confirm": password if confirm is None else confirm}
    return post(client, path, data, token_from=path)


def ask_for_reset(client, email):
    """Submit the forgotten-password form; returns the page shown afterwards."""
    data = {"email": email}
    return post(
        client, "/password/forgot", data, token_from="/password/forgot", follow_redirects=True
    )


def signed_in(client) -> bool:
    return client.get("/").status_code == 200


def load(app, model, id_):
    with app.app_context():
        obj = db.session.get(model, id_)
        db.session.expunge(obj)
        return obj


def events(app, action):
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def invitation_path(app, user_id) -> str:
    with app.app_context():
        return urlsplit(services.invitation_link(db.session.get(User, user_id))).path


def deactivate(app, user_id):
    with app.app_context():
        admin = db.session.scalars(select(User).where(User.role == "admin")).first()
        people_services.set_active(admin, db.session.get(User, user_id), False)
        db.session.commit()


@pytest.fixture
def agent(make_user):
    return make_user(role="agent", email="ana@example.com", name="Ana Agent")


# Signing in


def test_sign_in_with_email_in_any_case_and_spaces(client, agent):
    """The email is matched case-insensitively and without surrounding spaces."""
    response = login(client, "  ANA@Example.COM ")
    assert response.status_code == 302 and response.location == "/"
    assert "Ana Agent" in client.get("/").get_data(as_text=True)


def test_wrong_email_wrong_password_and_no_password_look_the_same(client, agent, make_user):
    """Unknown email, wrong password and an invited person without a password get one message."""
    make_user(email="invited@example.com", password=None)
    wrong_email = login(client, "nobody@example.com")
    wrong_password = login(client, agent, "not the password")
    invited = login(client, "invited@example.com", "")
    invited_guess = login(client, "invited@example.com", "any guess at all")
    assert wrong_email.status_code == wrong_password.status_code == invited_guess.status_code
    assert alert_text(wrong_email) == alert_text(wrong_password) == alert_text(invited_guess)
    assert alert_text(wrong_email) == services.BAD_CREDENTIALS
    assert "Enter your password." in invited.get_data(as_text=True)
    assert not signed_in(client)


def test_deactivated_person_cannot_sign_in(app, client, agent, make_user):
    """A deactivated person is refused even with the right password."""
    make_user(role="admin")
    deactivate(app, agent.id)
    assert "deactivated" in alert_text(login(client, agent))
    assert alert_text(login(client, agent, "wrong password")) == services.BAD_CREDENTIALS
    assert not signed_in(client)


def test_person_of_deactivated_partner_cannot_sign_in(app, client, agent):
    """People of a partner that is switched off cannot sign in."""
    with app.app_context():
        db.session.get(Partner, agent.partner_id).active = False
        db.session.commit()
    assert "deactivated" in alert_text(login(client, agent))
    assert not signed_in(client)


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/people/", "/people/"),
        ("https://evil.example", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("/\t/evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_next_only_leads_inside_the_portal(app, make_user, target, expected):
    """After sign-in, ``next`` is followed only when it is a path inside the portal."""
    user = make_user(role="admin")
    assert login(app.test_client(), user, next=target).location == expected
    by_query = f"/login?next={quote(target)}"
    data = {"email": user.email, "password": PASSWORD}
    assert post(app.test_client(), by_query, data, token_from="/login").location == expected


def test_next_survives_the_sign_in_form(client, make_user):
    """A page that asked for sign-in is reached after signing in through the form."""
    user = make_user(role="admin")
    to_login = client.get("/people/")
    assert to_login.status_code == 302
    page = client.get(to_login.location).get_data(as_text=True)
    assert 'name="next"' in page and 'value="/people/"' in page
    response = post(
        client,
        to_login.location,
        {"email": user.email, "password": PASSWORD, "next": "/people/"},
        token_from="/login",
    )
    assert response.location == "/people/"


def test_session_is_renewed_at_sign_in(client, agent):
    """Nothing put in the session before signing in survives it."""
    client.get("/login")
    with client.session_transaction() as session:
        session["x"] = 1
    login(client, agent)
    with client.session_transaction() as session:
        assert "x" not in session
        assert session["_user_id"].startswith(f"{agent.id}:")


def test_remember_me_sets_the_remember_cookie_only_when_asked(app, client, agent):
    """'Keep me signed in' sets a remember cookie; without it there is none."""
    response = login(client, agent)
    session_cookie = [c for c in response.headers.getlist("Set-Cookie") if "session=" in c]
    assert session_cookie and "Expires" not in session_cookie[0]  # ends with the browser
    assert client.get_cookie("remember_token") is None
    client.delete_cookie("session")
    assert not signed_in(client)

    other = app.test_client()
    login(other, agent, remember="y")
    assert other.get_cookie("remember_token") is not None
    other.delete_cookie("session")
    assert signed_in(other)


def test_sign_out_ends_the_session_and_the_remember_cookie(client, agent):
    """Signing out signs the person out for good, remember-me or not."""
    login(client, agent, remember="y")
    response = post(client, "/logout")
    assert response.location == "/login"
    assert client.get_cookie("remember_token") is None
    assert not signed_in(client)


def test_passwords_are_hashed_with_scrypt(app, agent):
    """Passwords are stored as scrypt hashes, never as typed."""
    stored = load(app, User, agent.id).password_hash
    assert stored.startswith("scrypt:") and PASSWORD not in stored


def test_audit_log_records_sign_ins(app, client, agent):
    """Successful and failed sign-ins are logged with the address and the typed email."""
    login_from("10.0.0.7", client, "Nobody@Example.com")
    login_from("10.0.0.8", client, agent, "wrong password")
    login_from("10.0.0.9", client, agent)
    unknown, wrong = events(app, "auth.sign_in_failed")
    assert unknown.actor_id is None and unknown.details["email"] == "nobody@example.com"
    assert unknown.ip_address == "10.0.0.7"
    assert wrong.actor_id == agent.id and wrong.ip_address == "10.0.0.8"
    (success,) = events(app, "auth.sign_in")
    assert success.actor_id == agent.id and success.ip_address == "10.0.0.9"
    assert load(app, User, agent.id).last_sign_in_at is not None


# Rate limits


def test_sixth_failure_for_an_account_is_refused_from_any_address(client, agent):
    """After 5 failed sign-ins an account is locked for a while, even with the right password."""
    for i in range(5):
        response = login_from(f"10.0.0.{i}", client, agent, "wrong")
        assert response.status_code == 200
    response = login_from("10.0.1.1", client, " ANA@example.com")
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert TOO_MANY in page and "Partner Portal" in page
    assert not signed_in(client)


def test_successful_sign_ins_do_not_count(app, agent):
    """Only failures use up the allowance; signing in successfully does not."""
    client = app.test_client()
    for _ in range(4):
        assert login(client, agent, "wrong").status_code == 200
    for _ in range(3):
        fresh = app.test_client()
        assert login(fresh, agent).status_code == 302
    assert login(client, agent, "wrong").status_code == 200
    assert login(client, agent).status_code == 429


def test_one_address_cannot_try_many_accounts(app, client, make_user):
    """An address that fails for many accounts is refused, other addresses are not."""
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "3 per 15 minutes"
    people = [make_user() for _ in range(4)]
    here, elsewhere = "10.0.0.9", "10.0.0.10"
    for person in people[:3]:
        assert login_from(here, client, person, "wrong").status_code == 200
    assert login_from(here, client, people[3]).status_code == 429
    assert login_from(elsewhere, client, people[3]).status_code == 302


# Invitations


@pytest.fixture
def invited(make_user):
    return make_user(email="new@example.com", name="Nia New", password=None)


def test_invitation_sets_password_and_signs_in(app, client, invited):
    """An invitation link lets the person choose a password and signs them in."""
    path = invitation_path(app, invited.id)
    page = client.get(path)
    assert page.status_code == 200 and "Welcome, Nia New" in page.get_data(as_text=True)
    response = choose_password(client, path)
    assert response.status_code == 302
    assert "Nia New" in client.get("/").get_data(as_text=True)
    assert load(app, User, invited.id).password_hash.startswith("scrypt:")
    assert events(app, "people.invitation_accepted")
    assert login(app.test_client(), "new@example.com", NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    "password, confirm, message",
    [
        ("short", "short", "Use at least 10 characters."),
        (NEW_PASSWORD, NEW_PASSWORD + "x", "The two passwords differ."),
        ("new@example.com", "new@example.com", "Do not use your email address"),
        ("", "", "Choose a password."),
    ],
)
def test_invitation_refuses_weak_or_mismatched_passwords(
    app, client, invited, password, confirm, message
):
    """A weak or mistyped password gets a message and sets nothing."""
    path = invitation_path(app, invited.id)
    response = choose_password(client, path, password, confirm)
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    after = load(app, User, invited.id)
    assert after.password_hash is None and after.auth_version == invited.auth_version
    assert not signed_in(client)


def test_invitation_drops_someone_elses_remember_cookie(app, client, invited, make_user):
    """Accepting an invitation on a shared device forgets who was remembered there before."""
    login(client, make_user(role="trainer"), remember="y")
    assert client.get_cookie("remember_token") is not None
    path = invitation_path(app, invited.id)
    choose_password(client, path)
    assert client.get_cookie("remember_token") is None
    assert "Nia New" in client.get("/").get_data(as_text=True)


def test_invitation_works_once(app, client, invited):
    """A used invitation link says so and cannot set the password again."""
    path = invitation_path(app, invited.id)
    choose_password(client, path)
    again = app.test_client().get(path)
    assert again.status_code == 400
    assert "already been used" in again.get_data(as_text=True)


def test_expired_invitation_is_refused(app, client, invited):
    """An invitation older than its lifetime says it has expired."""
    path = invitation_path(app, invited.id)
    app.config["INVITATION_MAX_AGE"] = timedelta(seconds=-1)
    response = client.get(path)
    assert response.status_code == 400 and "has expired" in response.get_data(as_text=True)


@pytest.mark.parametrize("mangle", [lambda t: t[:-3] + "xyz", lambda t: "x" + t, lambda t: "junk"])
def test_tampered_invitation_is_refused(app, client, invited, mangle):
    """A link that was altered says it is not valid, without an error page."""
    token = invitation_path(app, invited.id).rsplit("/", 1)[1]
    response = client.get(f"/invitations/{mangle(token)}")
    assert response.status_code == 400 and "is not valid" in response.get_data(as_text=True)


def test_invitation_of_deactivated_person_is_refused(app, client, invited, make_user):
    """Someone deactivated cannot use their invitation."""
    make_user(role="admin")
    path = invitation_path(app, invited.id)
    deactivate(app, invited.id)
    response = client.get(path)
    assert response.status_code == 400 and "no longer valid" in response.get_data(as_text=True)


# Password reset


def reset_link(outbox) -> str:
    match = re.search(r"http://\S+/password/reset/\S+", outbox[-1].get_content())
    assert match, "no reset link in the message"
    return urlsplit(match.group(0)).path


def test_reset_mails_a_link_that_works_once(app, client, agent, outbox):
    """A reset request mails one link; it sets a new password once."""
    response = ask_for_reset(client, "Ana@example.com")
    assert "a reset link is on its way" in response.get_data(as_text=True)
    assert len(outbox) == 1 and outbox[0]["To"] == "ana@example.com"
    path = reset_link(outbox)
    response = choose_password(client, path)
    assert response.status_code == 302 and signed_in(client)
    assert "already been used" in app.test_client().get(path).get_data(as_text=True)
    assert alert_text(login(app.test_client(), agent)) == services.BAD_CREDENTIALS
    assert login(app.test_client(), agent, NEW_PASSWORD).status_code == 302


def test_reset_for_unknown_email_says_the_same_and_sends_nothing(client, outbox):
    """Asking for a reset of an unknown address looks the same and mails nobody."""
    response = ask_for_reset(client, "ghost@example.com")
    assert "a reset link is on its way" in response.get_data(as_text=True)
    assert outbox == []


def test_reset_requests_are_rate_limited(app, client, agent, outbox):
    """Many reset requests from one address are refused with the portal's message."""
    app.config["PASSWORD_RESET_LIMIT"] = "2 per hour"
    ask_for_reset(client, agent.email)
    ask_for_reset(client, "ghost@example.com")
    response = ask_for_reset(client, agent.email)
    assert response.status_code == 429 and TOO_MANY_RESETS in response.get_data(as_text=True)
    assert len(outbox) == 1


def test_reset_ends_other_sessions(app, agent, outbox):
    """After a password reset, devices signed in before are signed out."""
    this, other = app.test_client(), app.test_client()
    login(this, agent)
    login(other, agent, remember="y")
    ask_for_reset(this, agent.email)
    path = reset_link(outbox)
    choose_password(this, path)
    assert signed_in(this)
    response = other.get("/")
    assert response.status_code == 302 and response.location.startswith("/login")
    other.delete_cookie("session")
    assert not signed_in(other)


# Ending sessions


def test_deactivation_ends_sessions_and_remember_cookies(app, agent, make_user):
    """A deactivated person is signed out everywhere, remember-me included."""
    make_user(role="admin")
    plain, remembered = app.test_client(), app.test_client()
    login(plain, agent)
    login(remembered, agent, remember="y")
    remembered.delete_cookie("session")
    assert signed_in(plain) and signed_in(remembered)
    remembered.delete_cookie("session")
    deactivate(app, agent.id)
    response = plain.get("/")
    assert response.status_code == 302 and response.location.startswith("/login")
    assert not signed_in(remembered)

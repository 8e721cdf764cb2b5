"""The people directory: inviting, editing, deactivating, re-inviting, listing, one's profile."""

import html
import re

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.people.models import User
from tests.helpers import count_queries, login, post


def text(response) -> str:
    """The page as a reader sees it (entities such as &#39; decoded)."""
    return html.unescape(response.get_data(as_text=True))


def person(app, email) -> User | None:
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == email.lower())).first()
        if user is not None:
            db.session.expunge(user)
        return user


def counts(app) -> tuple[int, int]:
    """(people, audit events): a refused form must leave both unchanged."""
    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(User)),
            db.session.scalar(select(func.count()).select_from(AuditEvent)),
        )


def actions_for(app, user_id) -> list[str]:
    with app.app_context():
        return db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.target_type == "user", AuditEvent.target_id == user_id)
            .order_by(AuditEvent.id)
        ).all()


@pytest.fixture
def partner_a(make_partner):
    return make_partner(slug="alpha", name="Alpha BPO")


@pytest.fixture
def trainer(make_user, partner_a):
    return make_user(role="trainer", partner=partner_a, name="Tess Trainer")


def invite_form(**overrides):
    data = {
        "email": "new.agent@example.com",
        "name": "Nia New",
        "role": "agent",
        "partner_id": "",
        "team_id": "",
        "hire_date": "2026-02-02",
        "language": "",
        "timezone": "",
    }
    data.update(overrides)
    return data


def field_error(response, name) -> str:
    """The message shown under form field ``name`` ('' when there is none)."""
    match = re.search(rf'id="{name}-error"[^>]*>(.*?)</div>', response.get_data(as_text=True))
    return html.unescape(match.group(1)).strip() if match else ""


def refused(app, client, data, *, message, as_user, existing=False):
    """POST /people/new and check the form came back with ``message`` and nothing was written."""
    login(client, as_user)
    before = counts(app)
    response = post(client, "/people/new", data, token_from="/people/new")
    assert response.status_code == 200, "a refused form is shown again, not redirected"
    assert message in text(response)
    assert counts(app) == before
    assert existing or person(app, data["email"]) is None
    return response


# --- inviting -------------------------------------------------------------------------------


def test_trainer_invites_an_agent_into_their_partner(
    app, client, outbox, trainer, make_team, partner_a
):
    """A trainer's invitation creates an agent of their partner and emails a sign-up link."""
    team = make_team(partner=partner_a, name="Billing", timezone="Asia/Manila")
    login(client, trainer)
    data = invite_form(partner_id=trainer.partner_id, team_id=team.id)
    response = post(client, "/people/new", data, token_from="/people/new")
    assert response.status_code == 302
    new = person(app, "new.agent@example.com")
    assert response.headers["Location"] == f"/people/{new.id}"
    assert (new.role, new.partner_id, new.team_id) == ("agent", trainer.partner_id, team.id)
    assert new.password_hash is None and new.timezone == "Asia/Manila"
    assert [m["To"] for m in outbox] == ["new.agent@example.com"]
    link = re.search(r"https?://\S+/invitations/\S+", outbox[0].get_content())
    assert link, "the invitation carries a sign-up link"
    assert {"people.created", "people.invited"} <= set(actions_for(app, new.id))


def test_trainer_cannot_invite_into_another_partner(app, client, outbox, trainer, make_partner):
    """A trainer posting another partner's id is told to choose their own; nothing is written."""
    other = make_partner(slug="bravo", name="Bravo BPO")
    refused(
        app,
        client,
        invite_form(partner_id=other.id),
        message="Choose one of the partners you manage.",
        as_user=trainer,
    )
    assert outbox == []


@pytest.mark.parametrize("role", ["prm", "admin"])
def test_trainer_cannot_grant_staff_roles(app, client, outbox, trainer, role):
    """A trainer cannot create a PRM or an administrator, even by posting the role by hand."""
    response = refused(
        app,
        client,
        invite_form(role=role, partner_id=trainer.partner_id),
        message="",
        as_user=trainer,
    )
    assert field_error(response, "role"), "the role field says why it was refused"
    assert outbox == []


@pytest.mark.parametrize("role", ["prm", "admin"])
def test_prm_cannot_create_staff(app, client, make_user, role):
    """A PRM invites partner people only: the PRM and administrator roles are refused."""
    prm = make_user(role="prm")
    response = refused(app, client, invite_form(role=role), message="", as_user=prm)
    assert field_error(response, "role"), "the role field says why it was refused"


def test_admin_creates_a_prm_without_partner(app, client, outbox, make_user):
    """An administrator invites a PRM, who belongs to no partner."""
    admin = make_user(role="admin")
    login(client, admin)
    response = post(
        client,
        "/people/new",
        invite_form(email="Pat.PRM@Company.example", name="Pat Prm", role="prm"),
        token_from="/people/new",
    )
    assert response.status_code == 302
    new = person(app, "pat.prm@company.example")
    assert (new.role, new.partner_id, new.team_id) == ("prm", None, None)
    assert [m["To"] for m in outbox] == ["pat.prm@company.example"]


def test_staff_role_with_a_partner_is_refused(app, client, make_user, partner_a):
    """Giving a PRM a partner is refused with a message: company staff belong to no partner."""
    admin = make_user(role="admin")
    refused(
        app,
        client,
        invite_form(role="prm", partner_id=partner_a.id),
        message="Company staff (administrators and PRMs) belong to no partner.",
        as_user=admin,
    )


@pytest.mark.parametrize("email", ["not-an-email", "two@@example.com", "a b@example.com"])
def test_malformed_email_is_refused(app, client, trainer, email):
    """A malformed address gets a message naming it; nobody is created."""
    refused(
        app,
        client,
        invite_form(email=email, partner_id=trainer.partner_id),
        message="is not a valid email address",
        as_user=trainer,
    )


def test_duplicate_email_in_another_case_is_refused(app, client, trainer, make_user, partner_a):
    """An address already in use, typed in other capitals, is refused with a message."""
    make_user(role="agent", email="taken@example.com", partner=partner_a)
    refused(
        app,
        client,
        invite_form(email="  TAKEN@Example.COM ", partner_id=trainer.partner_id),
        message="Someone already has this email address.",
        as_user=trainer,
        existing=True,
    )


def test_team_of_another_partner_is_refused(app, client, trainer, make_team):
    """A team belonging to another partner cannot be given; nothing is written."""
    foreign = make_team(name="Foreign Team")
    refused(
        app,
        client,
        invite_form(partner_id=trainer.partner_id, team_id=foreign.id),
        message="Choose a team of the person's partner.",
        as_user=trainer,
    )


@pytest.mark.parametrize("hire_date", ["2026-13-45", "yesterday", "31/01/2026"])
def test_hire_date_that_is_not_a_date_is_refused(app, client, trainer, hire_date):
    """A hire date that is not a real date is refused by the form with a message."""
    response = refused(
        app,
        client,
        invite_form(partner_id=trainer.partner_id, hire_date=hire_date),
        message="Not a valid date",
        as_user=trainer,
    )
    assert "date" in field_error(response, "hire_date")


def test_hire_date_years_away_is_refused(app, client, trainer):
    """A hire date more than a year ahead (a typo in the year) is refused with a message."""
    refused(
        app,
        client,
        invite_form(partner_id=trainer.partner_id, hire_date="2206-01-01"),
        message="The hire date is more than a year away",
        as_user=trainer,
    )


# --- editing, deactivating, re-inviting -----------------------------------------------------


def edit_form(user, **overrides):
    data = {
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "partner_id": user.partner_id or "",
        "team_id": user.team_id or "",
        "hire_date": user.hire_date.isoformat() if user.hire_date else "",
        "language": user.language,
        "timezone": user.timezone,
    }
    data.update(overrides)
    return data


def test_edit_changes_fields_and_records_audit_events(app, client, trainer, make_user, partner_a):
    """Editing a person saves the change and logs it; a new role is logged as a role change."""
    agent = make_user(role="agent", partner=partner_a, name="Old Name")
    login(client, trainer)
    url = f"/people/{agent.id}/edit"
    data = edit_form(agent, name="New Name", role="trainer", language="es")
    response = post(client, url, data, token_from=url)
    assert response.status_code == 302
    saved = person(app, agent.email)
    assert (saved.name, saved.role, saved.language) == ("New Name", "trainer", "es")
    assert {"people.updated", "people.role_changed"} <= set(actions_for(app, agent.id))
    with app.app_context():
        change = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "people.role_changed")
        ).one()
        assert change.actor_id == trainer.id
        assert change.partner_id == trainer.partner_id
        assert (change.details["old"], change.details["new"]) == ("agent", "trainer")


def test_nobody_changes_their_own_role(app, client, make_user):
    """An administrator cannot demote (or otherwise change) their own role."""
    admin = make_user(role="admin")
    login(client, admin)
    url = f"/people/{admin.id}/edit"
    response = post(client, url, edit_form(admin, role="prm"), token_from=url)
    assert response.status_code == 200
    assert "You cannot change your own role." in text(response)
    assert person(app, admin.email).role == "admin"


def test_nobody_deactivates_themselves(app, client, make_user):
    """Deactivating one's own account is refused with a message."""
    admin = make_user(role="admin")
    login(client, admin)
    response = post(client, f"/people/{admin.id}/active", {"active": "0"}, follow_redirects=True)
    assert "You cannot deactivate your own account." in text(response)
    assert person(app, admin.email).active is True


def test_deactivate_and_reactivate(app, client, trainer, make_user, partner_a):
    """A trainer deactivates an agent (who can no longer sign in) and restores them."""
    agent = make_user(role="agent", partner=partner_a)
    login(client, trainer)
    response = post(client, f"/people/{agent.id}/active", {"active": "0"}, follow_redirects=True)
    assert "deactivated" in text(response)
    gone = person(app, agent.email)
    assert gone.active is False and gone.auth_version > agent.auth_version
    post(client, f"/people/{agent.id}/active", {"active": "1"})
    assert person(app, agent.email).active is True
    assert actions_for(app, agent.id)[-2:] == ["people.deactivated", "people.reactivated"]


def test_deactivated_person_cannot_sign_in(app, client, trainer, make_user, partner_a):
    """Once deactivated, the right password no longer signs the person in."""
    agent = make_user(role="agent", partner=partner_a, active=False)
    response = login(client, agent)
    assert response.status_code == 200
    assert "deactivated" in text(response)


def test_resend_invitation_only_without_password(
    app, client, outbox, trainer, make_user, partner_a
):
    """An invitation goes again to someone without a password, never to someone with one."""
    invited = make_user(role="agent", partner=partner_a, password=None)
    signed_up = make_user(role="agent", partner=partner_a)
    login(client, trainer)
    response = post(client, f"/people/{invited.id}/invitation", follow_redirects=True)
    assert f"A new invitation is on its way to {invited.email}." in text(response)
    assert [m["To"] for m in outbox] == [invited.email]
    response = post(client, f"/people/{signed_up.id}/invitation", follow_redirects=True)
    assert "has already set a password" in text(response)
    assert [m["To"] for m in outbox] == [invited.email]


# --- the list -------------------------------------------------------------------------------

ROW_RE = re.compile(r'<td><a href="/people/(\d+)">')


def listed(client, url) -> list[int]:
    response = client.get(url)
    assert response.status_code == 200, url
    return [int(i) for i in ROW_RE.findall(response.get_data(as_text=True))]


@pytest.fixture
def directory(make_partner, make_team, make_user):
    """Two partners' people with distinct names, teams, roles and statuses, and an admin."""
    a, b = make_partner(slug="alpha"), make_partner(slug="bravo")
    team_a, team_b = make_team(partner=a, name="Alpha Sales"), make_team(partner=b, name="Bravo")
    people = {
        "maria": make_user(role="agent", partner=a, team=team_a, name="Maria Santos"),
        "mario": make_user(
            role="trainer", partner=a, team=team_a, name="Mario Reyes", email="mr@x.example"
        ),
        "jonas": make_user(role="agent", partner=b, team=team_b, name="Jonas Petraitis"),
        "invitee": make_user(role="agent", partner=b, name="Ina Invitee", password=None),
        "gone": make_user(role="agent", partner=a, name="Gus Gone", active=False),
        "admin": make_user(role="admin", name="Ada Admin"),
    }
    return {"a": a, "b": b, "team_a": team_a, **people}


def test_people_list_search_and_filters(client, directory):
    """The list finds people by name or email and narrows by partner, team, role and status."""
    d = directory
    login(client, d["admin"])
    ids = {k: v.id for k, v in d.items() if hasattr(v, "email")}
    assert set(listed(client, "/people/?q=mari")) == {ids["maria"], ids["mario"]}
    assert listed(client, "/people/?q=MR@X.EX") == [ids["mario"]]
    assert set(listed(client, f"/people/?partner={d['a'].id}")) == {
        ids["maria"],
        ids["mario"],
        ids["gone"],
    }
    assert set(listed(client, f"/people/?team={d['team_a'].id}")) == {ids["maria"], ids["mario"]}
    assert listed(client, "/people/?role=trainer") == [ids["mario"]]
    assert listed(client, "/people/?status=invited") == [ids["invitee"]]
    assert listed(client, "/people/?status=deactivated") == [ids["gone"]]
    assert set(listed(client, "/people/?status=active&role=agent")) == {ids["maria"], ids["jonas"]}
    assert listed(client, f"/people/?q=jonas&partner={d['a'].id}") == []


def test_people_list_pages(client, make_partner, make_user):
    """30 people fill a first page of 25, and the second page has the other 5."""
    partner = make_partner()
    admin = make_user(role="admin", name="Zz Admin")
    for n in range(30):
        make_user(role="agent", partner=partner, password=None, name=f"Agent {n:02d}")
    login(client, admin)
    first = listed(client, "/people/?role=agent")
    second = listed(client, "/people/?role=agent&page=2")
    assert (len(first), len(second)) == (25, 5)
    assert not set(first) & set(second)
    assert listed(client, "/people/?role=agent&page=3") == []


def test_people_list_query_count_does_not_grow(app, client, make_partner, make_team, make_user):
    """The people list runs as many SQL statements for 25 rows as for 5."""
    admin = make_user(role="admin")
    partners = [make_partner() for _ in range(5)]
    teams = [make_team(partner=p) for p in partners]

    def add(n, start):
        for i in range(start, start + n):
            make_user(role="agent", partner=partners[i % 5], team=teams[i % 5], password=None)

    add(4, 0)  # with the admin: 5 rows
    login(client, admin)
    client.get("/people/")
    with count_queries(app) as few:
        assert len(listed(client, "/people/")) == 5
    add(20, 4)
    with count_queries(app) as many:
        assert len(listed(client, "/people/")) == 25
    assert many() == few(), f"{few()} statements for 5 rows but {many()} for 25"


# --- one's own profile ----------------------------------------------------------------------


def profile_form(**overrides):
    data = {"name": "Renamed Person", "language": "lt", "timezone": "Europe/Vilnius"}
    data.update(overrides)
    data["submit"] = "Save profile"
    return data


def test_profile_saves_name_language_and_time_zone(app, client, make_user):
    """Anyone can change their own name, language and time zone."""
    agent = make_user(role="agent")
    login(client, agent)
    response = post(client, "/profile", profile_form(), token_from="/profile")
    assert response.status_code == 302
    saved = person(app, agent.email)
    assert (saved.name, saved.language, saved.timezone) == (
        "Renamed Person",
        "lt",
        "Europe/Vilnius",
    )


def test_profile_refuses_unknown_time_zone(app, client, make_user):
    """An unknown time zone is refused with a message and nothing is saved."""
    agent = make_user(role="agent", name="Kept Name")
    login(client, agent)
    response = post(
        client, "/profile", profile_form(timezone="Mars/Olympus"), token_from="/profile"
    )
    assert response.status_code == 200
    assert field_error(response, "timezone")
    saved = person(app, agent.email)
    assert (saved.name, saved.timezone) == ("Kept Name", agent.timezone)

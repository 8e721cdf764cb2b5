"""Partners (administrators manage them, PRMs look) and their teams."""

import html
import re

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.partners.models import Partner, Team
from tests.helpers import count_queries, login, post


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def field_error(response, name) -> str:
    """The message shown under form field ``name`` ('' when there is none)."""
    match = re.search(rf'id="{name}-error"[^>]*>(.*?)</div>', response.get_data(as_text=True))
    return html.unescape(match.group(1)).strip() if match else ""


def load(app, model, **where):
    with app.app_context():
        obj = db.session.scalars(select(model).filter_by(**where)).first()
        if obj is not None:
            db.session.expunge(obj)
        return obj


def table_counts(app) -> tuple[int, int, int]:
    """(partners, teams, audit events): a refused form leaves all three unchanged."""
    with app.app_context():
        return tuple(
            db.session.scalar(select(func.count()).select_from(model))
            for model in (Partner, Team, AuditEvent)
        )


@pytest.fixture
def admin(make_user):
    return make_user(role="admin", name="Ada Admin")


def partner_form(**overrides):
    data = {"name": "Atlas Manila", "slug": "atlas-manila", "country": "PH"}
    data["timezone"] = "Asia/Manila"
    data.update(overrides)
    return data


# --- partners -------------------------------------------------------------------------------


def test_admin_creates_a_partner(app, client, admin):
    """An administrator creates a partner and lands on its page."""
    login(client, admin)
    response = post(client, "/partners/new", partner_form(country="ph"), token_from="/partners/new")
    assert response.status_code == 302
    partner = load(app, Partner, slug="atlas-manila")
    assert response.headers["Location"] == f"/partners/{partner.id}"
    assert (partner.name, partner.country, partner.timezone, partner.active) == (
        "Atlas Manila",
        "PH",
        "Asia/Manila",
        True,
    )
    page = text(client.get(f"/partners/{partner.id}"))
    assert "Atlas Manila" in page and "Asia/Manila" in page
    assert load(app, AuditEvent, action="partners.created").partner_id == partner.id


def test_admin_edits_a_partner(app, client, admin, make_partner):
    """An administrator renames a partner and changes its slug, country and time zone."""
    partner = make_partner(slug="old-slug", name="Old Name", country="PH")
    login(client, admin)
    url = f"/partners/{partner.id}/edit"
    data = partner_form(
        name="New Name", slug="new-slug", country="CR", timezone="America/Costa_Rica"
    )
    response = post(client, url, data, token_from=url)
    assert response.status_code == 302
    saved = load(app, Partner, id=partner.id)
    assert (saved.name, saved.slug, saved.country, saved.timezone) == (
        "New Name",
        "new-slug",
        "CR",
        "America/Costa_Rica",
    )
    assert load(app, AuditEvent, action="partners.updated") is not None


def test_admin_deactivates_and_reactivates_a_partner(app, client, admin, make_partner, make_user):
    """A deactivated partner's people cannot sign in; after reactivation they can again."""
    partner = make_partner()
    agent = make_user(role="agent", partner=partner)
    login(client, admin)
    url = f"/partners/{partner.id}/active"
    response = post(client, url, {"active": "0"}, token_from=f"/partners/{partner.id}")
    assert response.status_code == 302
    assert load(app, Partner, id=partner.id).active is False

    agent_client = app.test_client()
    refused = login(agent_client, agent)
    assert refused.status_code == 200, "the sign-in form is shown again"
    assert "deactivated" in text(refused)
    assert agent_client.get("/").status_code == 302, "still not signed in"

    post(client, url, {"active": "1"}, token_from=f"/partners/{partner.id}")
    assert load(app, Partner, id=partner.id).active is True
    assert login(agent_client, agent).status_code == 302
    assert agent_client.get("/").status_code == 200


def test_deactivating_a_partner_ends_its_peoples_sessions(
    app, client, admin, make_partner, make_user
):
    """Someone already signed in is shut out as soon as their partner is deactivated."""
    partner = make_partner()
    agent = make_user(role="agent", partner=partner)
    agent_client = app.test_client()
    login(agent_client, agent)
    assert agent_client.get("/").status_code == 200
    login(client, admin)
    post(client, f"/partners/{partner.id}/active", {"active": "0"})
    assert agent_client.get("/").status_code == 302


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("slug", "Not A Slug!", "lower-case letters, digits and hyphens"),
        ("slug", "-edge-", "lower-case letters, digits and hyphens"),
        ("country", "P1", "two-letter ISO country code"),
        ("country", "PHL", "2 characters"),
        ("timezone", "Mars/Olympus", ""),
        ("name", "   ", "Enter the partner's name."),
    ],
)
def test_bad_partner_input_is_refused(app, client, admin, field, value, message):
    """Each bad field gets a message beside it and no partner is created."""
    login(client, admin)
    before = table_counts(app)
    data = partner_form(**{field: value})
    response = post(client, "/partners/new", data, token_from="/partners/new")
    assert response.status_code == 200
    assert field_error(response, field), f"no message beside {field}"
    assert message in field_error(response, field)
    assert table_counts(app) == before


def test_duplicate_slug_is_refused(app, client, admin, make_partner):
    """A slug already in use (in any capitals) is refused with a message."""
    make_partner(slug="atlas-manila")
    login(client, admin)
    before = table_counts(app)
    data = partner_form(slug="Atlas-Manila")
    response = post(client, "/partners/new", data, token_from="/partners/new")
    assert response.status_code == 200
    assert "is already taken" in field_error(response, "slug")
    assert table_counts(app) == before


def test_editing_to_a_taken_slug_is_refused(app, client, admin, make_partner):
    """Renaming a partner's slug to another partner's is refused; nothing changes."""
    make_partner(slug="taken")
    partner = make_partner(slug="mine", name="Mine")
    login(client, admin)
    url = f"/partners/{partner.id}/edit"
    response = post(client, url, partner_form(name="Mine", slug="taken"), token_from=url)
    assert "is already taken" in field_error(response, "slug")
    assert load(app, Partner, id=partner.id).slug == "mine"


def test_prm_views_partners_but_cannot_change_them(app, client, make_user, make_partner):
    """A PRM sees every partner but creating, editing or deactivating one is refused."""
    partner = make_partner(name="Seen Partner")
    prm = make_user(role="prm")
    login(client, prm)
    assert "Seen Partner" in text(client.get("/partners/"))
    assert client.get(f"/partners/{partner.id}").status_code == 200
    assert client.get("/partners/new").status_code == 403
    assert client.get(f"/partners/{partner.id}/edit").status_code == 403
    before = table_counts(app)
    assert post(client, "/partners/new", partner_form()).status_code == 403
    url = f"/partners/{partner.id}/edit"
    assert post(client, url, partner_form(name="Hijacked")).status_code == 403
    response = post(client, f"/partners/{partner.id}/active", {"active": "0"})
    assert response.status_code in (302, 403)
    assert table_counts(app) == before
    assert load(app, Partner, id=partner.id).active is True
    assert load(app, Partner, id=partner.id).name == "Seen Partner"


def test_partners_list_query_count_does_not_grow(app, client, admin, make_partner, make_user):
    """The partners list runs as many SQL statements for 12 partners as for 2."""
    for _ in range(2):
        make_user(role="agent", partner=make_partner(), password=None)
    login(client, admin)
    client.get("/partners/")
    with count_queries(app) as few:
        assert client.get("/partners/").status_code == 200
    for _ in range(10):
        make_user(role="agent", partner=make_partner(), password=None)
    with count_queries(app) as many:
        page = client.get("/partners/").get_data(as_text=True)
    assert len(re.findall(r'<td><a href="/partners/\d+">', page)) == 12
    assert many() == few(), f"{few()} statements for 2 partners but {many()} for 12"


# --- teams ----------------------------------------------------------------------------------


def team_form(partner, **overrides):
    data = {"partner_id": partner.id, "name": "Billing Queue", "timezone": "", "language": "en"}
    data.update(overrides)
    return data


@pytest.fixture
def own(make_partner, make_user):
    """A trainer and their partner."""
    partner = make_partner(slug="alpha", name="Alpha BPO", timezone="Asia/Manila")
    return partner, make_user(role="trainer", partner=partner)


def test_trainer_creates_a_team_in_their_partner(app, client, own):
    """A trainer creates a team of their own partner; it takes the partner's time zone."""
    partner, trainer = own
    login(client, trainer)
    response = post(client, "/teams/new", team_form(partner), token_from="/teams/new")
    assert response.status_code == 302
    team = load(app, Team, name="Billing Queue")
    assert (team.partner_id, team.timezone, team.language) == (partner.id, "Asia/Manila", "en")
    assert load(app, AuditEvent, action="teams.created").partner_id == partner.id


def test_trainer_cannot_create_a_team_in_another_partner(app, client, own, make_partner):
    """A trainer posting another partner's id gets a message; no team is created."""
    _, trainer = own
    other = make_partner(slug="bravo")
    login(client, trainer)
    before = table_counts(app)
    response = post(client, "/teams/new", team_form(other), token_from="/teams/new")
    assert response.status_code == 200
    assert field_error(response, "partner_id"), "the partner field says why"
    assert table_counts(app) == before


def test_duplicate_team_name_within_a_partner_is_refused(app, client, own, make_team):
    """A second team with the same name (in any capitals) at one partner is refused."""
    partner, trainer = own
    make_team(partner=partner, name="Billing Queue")
    login(client, trainer)
    before = table_counts(app)
    data = team_form(partner, name="  billing QUEUE ")
    response = post(client, "/teams/new", data, token_from="/teams/new")
    assert response.status_code == 200
    assert "already has a team called" in field_error(response, "name")
    assert table_counts(app) == before


def test_same_team_name_at_another_partner_is_fine(app, client, own, make_team, make_partner):
    """Team names only need to be unique within one partner."""
    partner, trainer = own
    make_team(partner=make_partner(), name="Billing Queue")
    login(client, trainer)
    response = post(client, "/teams/new", team_form(partner), token_from="/teams/new")
    assert response.status_code == 302


def test_trainer_edits_a_team(app, client, own, make_team):
    """A trainer renames a team and changes its time zone and language."""
    partner, trainer = own
    team = make_team(partner=partner, name="Old Team")
    login(client, trainer)
    url = f"/teams/{team.id}/edit"
    data = team_form(partner, name="New Team", timezone="Europe/Vilnius", language="lt")
    response = post(client, url, data, token_from=url)
    assert response.status_code == 302
    saved = load(app, Team, id=team.id)
    assert (saved.name, saved.timezone, saved.language, saved.partner_id) == (
        "New Team",
        "Europe/Vilnius",
        "lt",
        partner.id,
    )


def test_editing_a_team_cannot_move_it_to_another_partner(
    app, client, own, make_team, make_partner
):
    """Posting another partner's id while editing a team leaves the team where it is."""
    partner, trainer = own
    other = make_partner()
    team = make_team(partner=partner, name="Stay Here")
    login(client, trainer)
    url = f"/teams/{team.id}/edit"
    post(client, url, team_form(other, name="Stay Here"), token_from=url)
    assert load(app, Team, id=team.id).partner_id == partner.id


def test_delete_an_empty_team(app, client, own, make_team):
    """An empty team can be deleted, and the deletion is logged."""
    partner, trainer = own
    team = make_team(partner=partner, name="Short Lived")
    login(client, trainer)
    response = post(client, f"/teams/{team.id}/delete", token_from=f"/teams/{team.id}/edit")
    assert response.status_code == 302
    assert load(app, Team, id=team.id) is None
    assert load(app, AuditEvent, action="teams.deleted").details["team_id"] == team.id


def test_team_with_members_is_not_deleted(app, client, own, make_team, make_user):
    """Deleting a team that still has members is refused with a message saying why."""
    partner, trainer = own
    team = make_team(partner=partner, name="Busy Team")
    make_user(role="agent", partner=partner, team=team, password=None)
    login(client, trainer)
    url = f"/teams/{team.id}/delete"
    response = post(client, url, token_from=f"/teams/{team.id}/edit", follow_redirects=True)
    assert "still has 1 member(s)" in text(response)
    assert load(app, Team, id=team.id) is not None


def test_team_named_by_an_audience_is_not_deleted(app, client, own, make_team, make_document):
    """A team a document is addressed to cannot be deleted: its audience would become everyone."""
    partner, trainer = own
    team = make_team(partner=partner, name="Audience Team")
    make_document("Team notes", author=trainer, audience={"team_ids": [team.id]})
    login(client, trainer)
    url = f"/teams/{team.id}/delete"
    response = post(client, url, token_from=f"/teams/{team.id}/edit", follow_redirects=True)
    assert "is the audience of 1 document(s)" in text(response)
    assert load(app, Team, id=team.id) is not None


def test_admin_creates_a_team_for_any_partner(app, client, admin, make_partner):
    """An administrator can create a team for any active partner."""
    partner = make_partner()
    login(client, admin)
    response = post(client, "/teams/new", team_form(partner), token_from="/teams/new")
    assert response.status_code == 302
    assert load(app, Team, name="Billing Queue").partner_id == partner.id


def test_agent_sees_their_partner_without_roster_counts(client, make_user, make_team):
    """An agent may open their own partner's page, but sees no people counts or directory link."""
    team = make_team(name="Davao Chat")
    agent = make_user(role="agent", team=team)
    login(client, agent)
    page = client.get(f"/partners/{team.partner_id}").get_data(as_text=True)
    assert "Davao Chat" in page
    assert "invited</dd>" not in page
    assert "/people/?" not in page

"""Tenant isolation and the role matrix.

Partners compete: a partner's people, teams and records are invisible to every other
partner, and a request for another partner's object answers 404, exactly like an id that
does not exist. The walk below is built from ``app.url_map`` so a new route that takes an
id is checked without anyone remembering to add it here.
"""

import re

import pytest

from tests import access_world
from tests.access_world import (
    HIJACK,
    WALKED_METHODS,
    id_rules,
    snapshot,
    unclassified,
    urls_for,
)
from tests.helpers import csrf_token, login

world = access_world.world  # the fixture

# --- the tenant-isolation walk --------------------------------------------------------------


def test_every_id_argument_is_classified(app):
    """Each route that takes an id says which kind of object it is, so the walk can cover it."""
    missing = unclassified(app)
    assert not missing, (
        "These routes take an id the tenant-isolation walk does not know: "
        f"{', '.join(missing)}. Add the argument name to ID_ARGUMENTS in tests/test_access.py, "
        "mapped to the ids of one partner's objects of that kind."
    )
    assert len(id_rules(app)) >= 9, "the walk found fewer id routes than the portal has"


def test_a_new_id_route_is_picked_up_by_the_walk(app):
    """A route added with an unknown id argument makes the walk ask for it to be classified."""
    app.add_url_rule("/widgets/<int:widget_id>", "widget", lambda widget_id: "")
    assert unclassified(app) == ["/widgets/<int:widget_id> (widget_id)"]


@pytest.mark.parametrize("who", ["trainer", "agent"])
def test_another_partners_ids_answer_404(app, client, world, who):
    """Every page and action that takes an id answers 404 for another partner's objects."""
    assert not unclassified(app), "classify every id argument first (see the test above)"
    login(client, getattr(world.a, who))
    token = csrf_token(client, "/profile")
    requests = [
        (method, url)
        for rule, names in id_rules(app)
        for url in urls_for(app, world.b, rule, names)
        for method in WALKED_METHODS
        if method in rule.methods
    ]
    assert len(requests) >= 20
    before = snapshot(app)
    wrong = []
    for method, url in requests:
        data = None if method == "GET" else {**HIJACK, "csrf_token": token}
        response = client.open(url, method=method, data=data)
        if response.status_code != 404:
            wrong.append(f"{method} {url} -> {response.status_code}")
    assert not wrong, f"as A's {who}, B's objects must answer 404:\n" + "\n".join(wrong)
    after = snapshot(app)
    changed = [name for name in before if before[name] != after[name]]
    assert not changed, f"refused requests changed these tables: {changed}"


def test_own_partners_ids_are_reachable_by_its_trainer(client, world, app):
    """The walk is not vacuous: the same pages with one's own partner's ids do not answer 404."""
    login(client, world.a.trainer)
    not_found = []
    for rule, names in id_rules(app):
        if "GET" not in rule.methods:
            continue
        for url in urls_for(app, world.a, rule, names):
            if client.get(url).status_code == 404:
                not_found.append(url)
    assert not not_found, f"A's trainer gets 404 on A's own objects: {not_found}"


def test_trainer_cannot_touch_company_staff(client, world):
    """A trainer's id walk over company staff answers 404 too: staff are not their people."""
    login(client, world.a.trainer)
    token = csrf_token(client, "/profile")
    for staff in (world.admin, world.prm):
        assert client.get(f"/people/{staff.id}").status_code == 404
        assert client.get(f"/people/{staff.id}/edit").status_code == 404
        response = client.post(
            f"/people/{staff.id}/active", data={"csrf_token": token, "active": "0"}
        )
        assert response.status_code == 404


# --- the role matrix for list and create pages ----------------------------------------------

LIST_PAGES = (
    "/partners/",
    "/teams/",
    "/people/",
    "/people/import",
    "/admin/audit",
    "/partners/new",
    "/teams/new",
    "/people/new",
    "/library/",
    "/library/new",
    "/library/reviews",
    "/search?q=refund",
    "/announcements/manage",
    "/announcements/new",
    "/notifications",
    "/admin/mail",
    "/training/",
    "/training/manage/",
    "/training/manage/new",
    "/training/requirements",
    "/training/requirements/new",
    "/training/reports",
    "/training/reports/overdue",
    "/training/reports/expiring",
    "/training/verify",
    "/onboarding/",
    "/onboarding/board",
    "/onboarding/enrol",
    "/onboarding/cohorts",
    "/onboarding/manage/",
    "/onboarding/manage/new",
    "/reports/compliance",
    "/reports/compliance/people",
    "/reports/review",
)
OK, NO = 200, 403
EVERYONE = {
    "/library/": OK,
    "/search?q=refund": OK,
    "/notifications": OK,
    "/training/": OK,
    "/onboarding/": OK,
}
AUTHORS = {
    "/library/new": OK,
    "/library/reviews": OK,
    "/announcements/manage": OK,
    "/announcements/new": OK,
    "/training/manage/": OK,
    "/training/manage/new": OK,
    "/training/requirements": OK,
    "/training/requirements/new": OK,
    "/training/reports": OK,
    "/training/reports/overdue": OK,
    "/training/reports/expiring": OK,
    "/training/verify": OK,
    "/onboarding/board": OK,
    "/onboarding/enrol": OK,
    "/onboarding/cohorts": OK,
    "/onboarding/manage/": OK,
    "/onboarding/manage/new": OK,
    "/reports/compliance": OK,
    "/reports/compliance/people": OK,
    "/reports/review": OK,
}
EXPECTED = {
    "agent": {
        **dict.fromkeys(LIST_PAGES, NO),
        **EVERYONE,
    },
    "trainer": {
        **EVERYONE,
        **AUTHORS,
        "/partners/": NO,
        "/teams/": OK,
        "/people/": OK,
        "/people/import": OK,
        "/admin/audit": NO,
        "/admin/mail": NO,
        "/partners/new": NO,
        "/teams/new": OK,
        "/people/new": OK,
    },
    "prm": {
        **dict.fromkeys(LIST_PAGES, OK),
        "/partners/new": NO,
        "/admin/audit": NO,
        "/admin/mail": NO,
    },
    "admin": dict.fromkeys(LIST_PAGES, OK),
}


def test_anonymous_visitors_are_sent_to_sign_in(client, world):
    """Someone not signed in who opens any list page is sent to the sign-in page."""
    for url in LIST_PAGES:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login"), url


@pytest.mark.parametrize("role", ["agent", "trainer", "prm", "admin"])
def test_role_matrix_for_list_pages(client, world, role):
    """Each role opens exactly the list and create pages its job needs; the rest answer 403."""
    user = {"agent": world.a.agent, "trainer": world.a.trainer}.get(role) or getattr(world, role)
    login(client, user)
    got = {url: client.get(url).status_code for url in LIST_PAGES}
    assert got == EXPECTED[role]


# --- lists and counts show one's own partner only -------------------------------------------


def _names_on(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def test_trainer_lists_show_only_their_partner(client, world):
    """A trainer's people and team lists, and the forms' choices, never name another partner's."""
    login(client, world.a.trainer)
    b_names = [p.name for p in world.b.people] + [world.b.team.name, world.b.empty_team.name]
    b_names += [p.email for p in world.b.people] + [world.b.partner.name]
    pages = {
        "/people/": _names_on(client, "/people/"),
        "/people/?q=Bravo": _names_on(client, "/people/?q=Bravo"),
        "/people/?q=bravo.example": _names_on(client, "/people/?q=bravo.example"),
        "/people/?q=Agent": _names_on(client, "/people/?q=Agent"),
        f"/people/?partner={world.b.partner.id}": _names_on(
            client, f"/people/?partner={world.b.partner.id}"
        ),
        f"/people/?team={world.b.team.id}": _names_on(client, f"/people/?team={world.b.team.id}"),
        "/teams/": _names_on(client, "/teams/"),
        f"/teams/?partner={world.b.partner.id}": _names_on(
            client, f"/teams/?partner={world.b.partner.id}"
        ),
        "/people/new": _names_on(client, "/people/new"),
        "/teams/new": _names_on(client, "/teams/new"),
        "/": _names_on(client, "/"),
    }
    leaks = [
        f"{name!r} on {url}" for url, page in pages.items() for name in b_names if name in page
    ]
    assert not leaks, "partner B shows through to A's trainer: " + "; ".join(leaks)
    # The same lists do show A's own people and teams.
    assert world.a.agent.name in pages["/people/"]
    assert world.a.agent.name in pages["/people/?q=Agent"]
    assert world.a.team.name in pages["/teams/"]


def test_staff_lists_show_every_partner(client, world):
    """A PRM's people list covers every partner (the control for the trainer's view)."""
    login(client, world.prm)
    page = _names_on(client, "/people/?q=Agent 1")
    assert world.a.agent.name in page
    assert world.b.agent.name in page


def _stat(page: str, label: str) -> int:
    match = re.search(r'class="number">\s*(\d+)\s*</div>\s*<div class="label">\s*' + label, page)
    assert match, f"no '{label}' figure on the page"
    return int(match.group(1))


def test_trainer_home_counts_only_their_partner(client, world, make_user):
    """The trainer's home page counts their own partner's people, whatever other partners hold."""
    for n in range(5):
        make_user(role="agent", partner=world.b.partner, name=f"Bravo Extra {n}")
    make_user(role="agent", partner=world.b.partner, password=None, name="Bravo Extra Invitee")
    make_user(role="agent", partner=world.b.partner, active=False, name="Bravo Extra Gone")
    login(client, world.a.trainer)
    page = _names_on(client, "/")
    assert _stat(page, "people signed up") == 3  # A's trainer and two agents
    assert _stat(page, "invitations not yet accepted") == 1
    assert _stat(page, "deactivated") == 0
    assert world.b.team.name not in page


@pytest.mark.parametrize("who", ["trainer", "agent"])
def test_library_and_search_show_only_ones_own_partners_documents(app, client, world, who):
    """Another partner's local documents never appear in the library list or in search results."""
    access_world.build_document(app, world.a)
    access_world.build_document(app, world.b)
    login(client, getattr(world.a, who))
    pages = {
        url: re.sub(r"<[^>]+>", "", _names_on(client, url))  # search marks words in titles
        for url in ("/library/", "/search?q=floor+rules", "/")
    }
    for url, page in pages.items():
        assert "Bravo BPO floor rules" not in page, url
    assert "Alpha BPO floor rules" in pages["/library/"]
    assert "Alpha BPO floor rules" in pages["/search?q=floor+rules"]

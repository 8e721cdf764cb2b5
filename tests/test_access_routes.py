"""Every route in Flask's URL map × every role: who may use it, and that looking changes nothing.

``ROUTES`` classifies each endpoint by the roles that may use it; a route added to the portal
fails ``test_every_route_is_classified`` until someone decides who may open it. The walks
then fill every route with partner A's objects (``tests/access_world.py``) and check, for
anonymous visitors, A's agent and trainer, a PRM and an administrator:

- a role the route is for reaches it (not refused, no server error);
- a role it is not for is refused (403 or 404; anonymous visitors go to the sign-in page), and
  a refused POST changes no table;
- no GET changes data: the only rows a GET may write are the read receipts that record that
  the viewer opened an announcement (``announcement_read``).

Partner B's objects are walked by ``tests/test_access.py``: every id route answers 404 to A's
trainer and agent, and changes nothing.
"""

import itertools

import pytest

from tests import access_world
from tests.access_world import HIJACK, ID_ARGUMENTS, snapshot
from tests.helpers import csrf_token, login

world = access_world.world  # the fixture

ROLES = ("anonymous", "agent", "trainer", "prm", "admin")
ANYONE = frozenset(ROLES)
SIGNED_IN = frozenset({"agent", "trainer", "prm", "admin"})
TRAINERS_AND_STAFF = frozenset({"trainer", "prm", "admin"})
STAFF = frozenset({"prm", "admin"})
ADMIN = frozenset({"admin"})
# Quiz attempts are personal: only the person taking the quiz opens them. The world's
# attempts are its trainer's.
ATTEMPT_OWNER = frozenset({"trainer"})

ROUTES = {
    # no sign-in needed
    "static": ANYONE,
    "core.health": ANYONE,
    "auth.login": ANYONE,
    "auth.forgot_password": ANYONE,
    "auth.reset_password": ANYONE,
    "auth.accept_invitation": ANYONE,
    # everyone signed in: their own home, reading, learning, onboarding, notifications
    "auth.logout": SIGNED_IN,
    "home.home": SIGNED_IN,
    "people.profile": SIGNED_IN,
    "people.change_password": SIGNED_IN,
    "partners.show": SIGNED_IN,
    "library.index": SIGNED_IN,
    "library.show": SIGNED_IN,
    "library.history": SIGNED_IN,
    "library.version": SIGNED_IN,
    "library.diff": SIGNED_IN,
    "attachments.download": SIGNED_IN,
    "acknowledgements.acknowledge": SIGNED_IN,
    "search.search": SIGNED_IN,
    "announcements.index": SIGNED_IN,
    "announcements.show": SIGNED_IN,
    "announcements.acknowledge": SIGNED_IN,
    "notifications.index": SIGNED_IN,
    "notifications.preferences": SIGNED_IN,
    "notifications.mark_read": SIGNED_IN,
    "notifications.mark_all_read": SIGNED_IN,
    "training.index": SIGNED_IN,
    "training.course": SIGNED_IN,
    "training.lesson": SIGNED_IN,
    "training.start_quiz": SIGNED_IN,
    "training.attempt": ATTEMPT_OWNER,
    "onboarding.index": SIGNED_IN,
    # trainers (their own partner) and company staff: people, content, reports
    "people.index": TRAINERS_AND_STAFF,
    "people.show": TRAINERS_AND_STAFF,
    "people.edit": TRAINERS_AND_STAFF,
    "people.invite": TRAINERS_AND_STAFF,
    "people.resend_invitation": TRAINERS_AND_STAFF,
    "people.set_active": TRAINERS_AND_STAFF,
    "roster.upload": TRAINERS_AND_STAFF,
    "roster.preview": TRAINERS_AND_STAFF,
    "roster.apply": TRAINERS_AND_STAFF,
    "roster.template": TRAINERS_AND_STAFF,
    "partners.teams": TRAINERS_AND_STAFF,
    "partners.create_team": TRAINERS_AND_STAFF,
    "partners.edit_team": TRAINERS_AND_STAFF,
    "partners.delete_team": TRAINERS_AND_STAFF,
    "library.new": TRAINERS_AND_STAFF,
    "library.edit": TRAINERS_AND_STAFF,
    "library.settings": TRAINERS_AND_STAFF,
    "library.live_preview": TRAINERS_AND_STAFF,
    "library.publish": TRAINERS_AND_STAFF,
    "library.archive": TRAINERS_AND_STAFF,
    "library.restore": TRAINERS_AND_STAFF,
    "library.review": TRAINERS_AND_STAFF,
    "library.reviews": TRAINERS_AND_STAFF,
    "attachments.upload": TRAINERS_AND_STAFF,
    "attachments.remove": TRAINERS_AND_STAFF,
    "acknowledgements.report": TRAINERS_AND_STAFF,
    "acknowledgements.export": TRAINERS_AND_STAFF,
    "announcements.manage": TRAINERS_AND_STAFF,
    "announcements.new": TRAINERS_AND_STAFF,
    "announcements.edit": TRAINERS_AND_STAFF,
    "announcements.publish": TRAINERS_AND_STAFF,
    "announcements.withdraw": TRAINERS_AND_STAFF,
    "announcements.receipts": TRAINERS_AND_STAFF,
    "announcements.receipts_csv": TRAINERS_AND_STAFF,
    "training.completion": TRAINERS_AND_STAFF,
    "training.certificate": TRAINERS_AND_STAFF,
    "training.verify": TRAINERS_AND_STAFF,
    "course_editor.index": TRAINERS_AND_STAFF,
    "course_editor.new": TRAINERS_AND_STAFF,
    "course_editor.edit": TRAINERS_AND_STAFF,
    "course_editor.archive": TRAINERS_AND_STAFF,
    "course_editor.restore": TRAINERS_AND_STAFF,
    "course_editor.publish": TRAINERS_AND_STAFF,
    "course_editor.new_lesson": TRAINERS_AND_STAFF,
    "course_editor.edit_lesson": TRAINERS_AND_STAFF,
    "course_editor.remove_lesson": TRAINERS_AND_STAFF,
    "course_editor.order_lessons": TRAINERS_AND_STAFF,
    "course_editor.new_question": TRAINERS_AND_STAFF,
    "course_editor.edit_question": TRAINERS_AND_STAFF,
    "course_editor.remove_question": TRAINERS_AND_STAFF,
    "course_editor.order_questions": TRAINERS_AND_STAFF,
    "training_reports.index": TRAINERS_AND_STAFF,
    "training_reports.course": TRAINERS_AND_STAFF,
    "training_reports.course_csv": TRAINERS_AND_STAFF,
    "training_reports.overdue": TRAINERS_AND_STAFF,
    "training_reports.overdue_csv": TRAINERS_AND_STAFF,
    "training_reports.expiring": TRAINERS_AND_STAFF,
    "training_reports.expiring_csv": TRAINERS_AND_STAFF,
    "training_reports.requirements": TRAINERS_AND_STAFF,
    "training_reports.requirement": TRAINERS_AND_STAFF,
    "training_reports.requirement_csv": TRAINERS_AND_STAFF,
    "training_reports.new_requirement": TRAINERS_AND_STAFF,
    "training_reports.withdraw": TRAINERS_AND_STAFF,
    "onboarding.board": TRAINERS_AND_STAFF,
    "onboarding.enrol": TRAINERS_AND_STAFF,
    "onboarding.enrolment": TRAINERS_AND_STAFF,
    "onboarding.move": TRAINERS_AND_STAFF,
    "onboarding.sign": TRAINERS_AND_STAFF,
    "onboarding.reverse": TRAINERS_AND_STAFF,
    "onboarding_cohorts.index": TRAINERS_AND_STAFF,
    "onboarding_cohorts.export": TRAINERS_AND_STAFF,
    "path_builder.index": TRAINERS_AND_STAFF,
    "path_builder.new": TRAINERS_AND_STAFF,
    "path_builder.edit": TRAINERS_AND_STAFF,
    "path_builder.archive": TRAINERS_AND_STAFF,
    "path_builder.restore": TRAINERS_AND_STAFF,
    "path_builder.publish": TRAINERS_AND_STAFF,
    "path_builder.start_draft": TRAINERS_AND_STAFF,
    "path_builder.phases": TRAINERS_AND_STAFF,
    "path_builder.new_step": TRAINERS_AND_STAFF,
    "path_builder.edit_step": TRAINERS_AND_STAFF,
    "path_builder.remove_step": TRAINERS_AND_STAFF,
    "path_builder.versions": TRAINERS_AND_STAFF,
    "path_builder.version": TRAINERS_AND_STAFF,
    "compliance.index": TRAINERS_AND_STAFF,
    "compliance.index_csv": TRAINERS_AND_STAFF,
    "compliance.people": TRAINERS_AND_STAFF,
    "compliance.people_csv": TRAINERS_AND_STAFF,
    "person_compliance.show": TRAINERS_AND_STAFF,
    "person_compliance.csv": TRAINERS_AND_STAFF,
    "business_review.index": TRAINERS_AND_STAFF,
    # company staff: every partner at once
    "partners.index": STAFF,
    # administrators: partners, the audit log and the mail outbox
    "partners.create": ADMIN,
    "partners.edit": ADMIN,
    "partners.set_active": ADMIN,
    "audit.index": ADMIN,
    "mail.index": ADMIN,
    "mail.retry": ADMIN,
}
# The rows a GET may write: the receipt saying the viewer opened an announcement.
READ_RECEIPTS = {"announcement_read"}
REFUSED = {403, 404}
# Values for URL arguments that name no object.
FIXED_ARGUMENTS = {"filename": "notes.txt", "token": "forged-token"}


def _endpoints(app) -> set[str]:
    return {rule.endpoint for rule in app.url_map.iter_rules()}


def _urls(app, side, rule) -> list[str]:
    """Every URL of ``rule`` filled with ``side``'s objects (static: a real file)."""
    values = dict(FIXED_ARGUMENTS, filename="favicon.svg" if rule.endpoint == "static" else "")
    values["filename"] = values["filename"] or FIXED_ARGUMENTS["filename"]
    fixed = {name: values[name] for name in rule.arguments if name in values}
    names = [name for name in rule.arguments if name in ID_ARGUMENTS]
    choices = [ID_ARGUMENTS[name](app, side) for name in names]
    return [
        rule.build({**fixed, **dict(zip(names, ids, strict=True))})[1]
        for ids in itertools.product(*choices)
    ]


def _walk(app, world, method):
    """(endpoint, URL) for every rule taking ``method``, filled with partner A's objects."""
    rules = sorted(
        (rule for rule in app.url_map.iter_rules() if method in rule.methods),
        key=lambda rule: (rule.rule, rule.endpoint),
    )
    return [(rule.endpoint, url) for rule in rules for url in _urls(app, world.a, rule)]


def _sign_in(client, world, role):
    user = {
        "agent": world.a.agent,
        "trainer": world.a.trainer,
        "prm": world.prm,
        "admin": world.admin,
    }.get(role)
    if user is not None:
        assert login(client, user).status_code == 302


def _refused(role, response) -> bool:
    if role == "anonymous":
        return response.status_code == 302 and response.location.startswith("/login")
    return response.status_code in REFUSED


def test_every_route_is_classified(app):
    """Each endpoint says who may use it; a new route fails here until someone decides."""
    endpoints = _endpoints(app)
    missing = sorted(endpoints - ROUTES.keys())
    assert not missing, (
        f"Classify these routes in ROUTES (tests/test_access_routes.py): {', '.join(missing)}"
    )
    stale = sorted(ROUTES.keys() - endpoints)
    assert not stale, f"ROUTES names endpoints that no longer exist: {', '.join(stale)}"


def test_a_new_route_fails_until_classified(app):
    """The check above is live: an unclassified route is reported by name."""
    app.add_url_rule("/reports/secret", "reports.secret", lambda: "")
    assert sorted(_endpoints(app) - ROUTES.keys()) == ["reports.secret"]


@pytest.mark.parametrize("role", ROLES)
def test_every_page_for_every_role_and_no_get_changes_data(app, client, world, role):
    """Every GET route, filled with partner A's objects: the roles it is for reach it, the
    others are refused, nothing answers with a server error, and only read receipts change."""
    _sign_in(client, world, role)
    walk = _walk(app, world, "GET")
    assert len(walk) >= 100
    before = snapshot(app)
    wrong = []
    for endpoint, url in walk:
        response = client.get(url)
        response.close()
        allowed = role in ROUTES[endpoint]
        if response.status_code >= 500 or _refused(role, response) == allowed:
            expected = "reached" if allowed else "refused"
            wrong.append(f"GET {url} ({endpoint}) -> {response.status_code}, expected {expected}")
    assert not wrong, f"as {role}:\n" + "\n".join(wrong)
    after = snapshot(app)
    changed = {name for name in before if before[name] != after[name]}
    assert changed <= READ_RECEIPTS, f"GET requests changed {sorted(changed - READ_RECEIPTS)}"


@pytest.mark.parametrize("role", ROLES)
def test_refused_posts_change_nothing(app, client, world, role):
    """Every POST route a role is not for, filled with partner A's objects and a form that
    would change something: refused, and no table changes."""
    _sign_in(client, world, role)
    token = csrf_token(client, "/login" if role == "anonymous" else "/profile")
    walk = [(e, url) for e, url in _walk(app, world, "POST") if role not in ROUTES[e]]
    assert walk, f"every POST route is open to {role}"
    before = snapshot(app)
    wrong = []
    for endpoint, url in walk:
        response = client.post(url, data={**HIJACK, "csrf_token": token})
        if not _refused(role, response):
            wrong.append(f"POST {url} ({endpoint}) -> {response.status_code}")
    assert not wrong, f"as {role}, these must be refused:\n" + "\n".join(wrong)
    after = snapshot(app)
    assert [name for name in before if before[name] != after[name]] == []

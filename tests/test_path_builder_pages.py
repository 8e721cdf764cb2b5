"""The path builder's pages: the whole flow, bad input on the page, access, the list."""

import re
from datetime import date

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.onboarding import paths
from portal.onboarding.models import Enrolment, OnboardingPath, PathStep, PathVersion
from portal.training.services import publish_course
from tests.course_editor_helpers import page_text, send, sign_in
from tests.helpers import count_queries, login
from tests.onboarding_helpers import path_rows, path_with_steps
from tests.training_helpers import ctx, quiz_course

MANAGE = "/onboarding/manage"
TASK = {"kind": "task", "title": "Shadow five live calls", "due_day": "5", "required": "y"}


def new_path(client, token, title="Agent 90-day path") -> int:
    response = send(client, token, f"{MANAGE}/new", {"title": title, "description": "Welcome."})
    assert response.status_code == 302, page_text(response)
    return int(re.search(r"/onboarding/manage/(\d+)", response.location).group(1))


def add(client, token, path_id, **step):
    response = send(client, token, f"{MANAGE}/{path_id}/steps/new", {**TASK, **step})
    assert response.status_code == 302, page_text(response)


def version_steps(app, path_id, number) -> list[tuple]:
    """(title, due day, kind, required) of a version's steps in path order."""
    with app.app_context():
        version = db.session.scalars(
            select(PathVersion).where(PathVersion.path_id == path_id, PathVersion.number == number)
        ).one()
        return [(s.title, s.due_day, s.kind, s.required) for s in paths.steps_of(version)]


def counts(app):
    with app.app_context():
        return path_rows()


@pytest.mark.parametrize("role", ["trainer", "prm"])
def test_an_author_builds_publishes_and_edits_a_path_in_versions(
    app, client, make_user, make_document, role
):
    """Create, add a task, a document and a course step, rename the phases, publish v1;
    start v2, change it, publish it: someone enrolled on v1 keeps v1's steps, and the
    versions pages show both."""
    # Hired long ago, so publishing does not enrol the author on their own path.
    author = make_user(role=role, hire_date=date(2019, 1, 7) if role == "trainer" else None)
    local = author if role == "trainer" else None
    document = make_document("Brand voice", author=local, requires_ack=True)
    with ctx(app, author) as actor:
        course = quiz_course(actor, "Refunds 101")
        publish_course(actor, course)
        db.session.commit()
        course_id = course.id
    token = sign_in(client, author)
    path_id = new_path(client, token)
    add(client, token, path_id)
    add(client, token, path_id, kind="document", document_id=str(document.id), title="")
    add(client, token, path_id, kind="course", course_id=str(course_id), due_day="40", title="")
    add(client, token, path_id, title="Meet your partner manager", due_day="70", required="")
    response = send(
        client,
        token,
        f"{MANAGE}/{path_id}/phases",
        {"phase_1": "Learn", "phase_2": "Practise", "phase_3": "Own it"},
        follow_redirects=True,
    )
    page = page_text(response)
    assert "The phase names are saved." in page and "Draft of version 1." in page
    assert "Learn · days 1-30 · 2 steps" in page and "Own it · days 61-90 · 1 step" in page
    assert "Acknowledge the document “Brand voice”" in page and "Optional" in page
    with app.app_context():
        path = db.session.get(OnboardingPath, path_id)
        assert path.partner_id == (author.partner_id if local else None)

    response = send(
        client, token, f"{MANAGE}/{path_id}/publish", {"note": "Launch"}, follow_redirects=True
    )
    page = page_text(response)
    assert "Version 1 of “Agent 90-day path” is published" in page
    assert "Version 1 is published." in page and "Edit: start version 2" in page
    v1 = version_steps(app, path_id, 1)
    assert v1 == [
        ("Shadow five live calls", 5, "task", True),
        ("Brand voice", 5, "document", True),
        ("Refunds 101", 40, "course", True),
        ("Meet your partner manager", 70, "task", False),
    ]
    agent = make_user(role="agent", partner=None, hire_date=date(2019, 1, 7))
    with app.app_context():
        path = db.session.get(OnboardingPath, path_id)
        db.session.add(
            Enrolment(
                user_id=agent.id,
                path_id=path_id,
                version_id=path.current_version_id,
                start_date=date(2026, 11, 2),
            )
        )
        db.session.commit()

    response = send(client, token, f"{MANAGE}/{path_id}/draft", follow_redirects=True)
    assert "Version 2 is a draft copied from version 1." in page_text(response)
    with app.app_context():
        draft = paths.draft_of(db.session.get(OnboardingPath, path_id))
        first, _, _, last = paths.steps_of(draft)
        first_id, last_id = first.id, last.id
    edit = {**TASK, "title": "Shadow ten live calls", "due_day": "8"}
    send(client, token, f"{MANAGE}/{path_id}/steps/{first_id}/edit", edit)
    send(client, token, f"{MANAGE}/{path_id}/steps/{last_id}/remove")
    send(client, token, f"{MANAGE}/{path_id}/publish", {"note": "Ten calls"})

    assert version_steps(app, path_id, 1) == v1
    assert version_steps(app, path_id, 2) == [
        ("Brand voice", 5, "document", True),
        ("Shadow ten live calls", 8, "task", True),
        ("Refunds 101", 40, "course", True),
    ]
    with app.app_context():
        path = db.session.get(OnboardingPath, path_id)
        enrolment = db.session.scalars(select(Enrolment).where(Enrolment.user_id == agent.id)).one()
        v1_id = db.session.scalar(
            select(PathVersion.id).where(PathVersion.path_id == path_id, PathVersion.number == 1)
        )
        assert enrolment.version_id == v1_id != path.current_version_id
        titles = db.session.scalars(
            select(PathStep.title).where(PathStep.version_id == enrolment.version_id)
        ).all()
        assert sorted(titles) == sorted(step[0] for step in v1)

    versions = page_text(client.get(f"{MANAGE}/{path_id}/versions"))
    assert "Version 2 Current" in versions and "Ten calls 3 0" in versions
    assert "Version 1 Earlier" in versions and "Launch 4 1" in versions
    old = page_text(client.get(f"{MANAGE}/{path_id}/versions/1"))
    assert "Shadow five live calls" in old and "Read-only" in old and "Edit" not in old
    assert client.get(f"{MANAGE}/{path_id}/versions/3").status_code == 404


BAD_STEPS = [
    ({"due_day": "0"}, "The due day is a whole number from 1 to 90 (day 1 is the start date)."),
    ({"due_day": "91"}, "The due day is a whole number from 1 to 90"),
    ({"due_day": "five"}, "The due day is a whole number from 1 to 90, such as 5, not “five”."),
    ({"due_day": ""}, "Give the day the step is due: 1 to 90."),
    ({"title": " "}, "Give the task a title, e.g. “Shadow five live calls”."),
    ({"title": "x" * 201}, "Titles are at most 200 characters."),
    ({"kind": "document"}, "Choose the library document people acknowledge."),
    ({"kind": "course"}, "Choose the course people complete."),
    ({"kind": "document", "document_id": "12345"}, "There is no library document #12345"),
    ({"kind": "course", "course_id": "abc"}, "There is no course #abc that you can see"),
]


@pytest.mark.parametrize(("step", "message"), BAD_STEPS)
def test_a_bad_step_gets_its_message_on_the_page_and_writes_nothing(
    app, client, make_user, step, message
):
    """Each bad step input comes back on the form with its message; nothing is written."""
    prm = make_user(role="prm")
    token = sign_in(client, prm)
    path_id = new_path(client, token)
    before = counts(app)
    response = send(client, token, f"{MANAGE}/{path_id}/steps/new", {**TASK, **step})
    assert response.status_code == 200
    assert message in page_text(response)
    assert counts(app) == before


def test_archived_and_unseen_targets_are_named_on_the_page(app, client, make_user, make_document):
    """An archived document and another partner's document are refused with their reason."""
    trainer = make_user(role="trainer")
    theirs = make_document("Their rules", author=make_user(role="trainer"), requires_ack=True)
    archived = make_document("Old refunds", requires_ack=True)
    with app.app_context():
        from portal.library import services as library
        from portal.library.models import Document

        library.archive(None, db.session.get(Document, archived.id))
        db.session.commit()
    token = sign_in(client, trainer)
    path_id = new_path(client, token)
    before = counts(app)
    for document, message in (
        (theirs, f"There is no library document #{theirs.id} that you can see"),
        (archived, "“Old refunds” is archived; choose a published library document."),
    ):
        data = {**TASK, "kind": "document", "document_id": str(document.id)}
        response = send(client, token, f"{MANAGE}/{path_id}/steps/new", data)
        assert message in page_text(response)
    assert counts(app) == before


def test_bad_details_phases_and_publishing_get_messages_and_write_nothing(app, client, make_user):
    """An empty or long title, an empty phase name, publishing without steps or with a long
    note: each message is on the page and nothing changes."""
    token = sign_in(client, make_user(role="prm"))
    before = counts(app)
    response = send(client, token, f"{MANAGE}/new", {"title": " "})
    assert "Give the path a title" in page_text(response) and counts(app) == before
    path_id = new_path(client, token)
    before = counts(app)
    cases = [
        ("", {"title": "x" * 201}, "Titles are at most 200 characters."),
        ("/phases", {"phase_1": "A", "phase_2": "", "phase_3": "C"}, "Name phase 2 (days 31-60)."),
        ("/publish", {"note": ""}, "Add at least one step before publishing version 1."),
        ("/publish", {"note": "n" * 301}, "Keep the note under 300 characters."),
    ]
    for suffix, data, message in cases:
        response = send(client, token, f"{MANAGE}/{path_id}{suffix}", data)
        assert response.status_code == 200 and message in page_text(response), suffix
    assert counts(app) == before


def test_a_published_versions_steps_cannot_be_edited(app, client, make_user):
    """Editing a step of a published version is refused with a message; nothing changes."""
    prm = make_user(role="prm")
    with ctx(app, prm) as actor:
        path = path_with_steps(actor, [{"title": "Shadow calls", "due_day": 5}])
        path_id = path.id
        step_id = paths.steps_of(db.session.get(PathVersion, path.current_version_id))[0].id
    token = sign_in(client, prm)
    before = counts(app)
    refusal = "Version 1 is published and cannot change: start version 2 to change it."
    for url in (f"/steps/{step_id}/edit", f"/steps/{step_id}/remove", "/steps/new"):
        response = send(client, token, f"{MANAGE}/{path_id}{url}", TASK, follow_redirects=True)
        assert refusal in page_text(response), url
    assert refusal in page_text(
        client.get(f"{MANAGE}/{path_id}/steps/{step_id}/edit", follow_redirects=True)
    )
    assert counts(app) == before


# --- who may use the builder ------------------------------------------------------------------


def test_agents_are_refused_the_builder(app, client, make_user):
    """Agents get 403 on the list and the new-path page, 404 on a path's pages."""
    with ctx(app, make_user(role="prm")) as actor:
        path_id = path_with_steps(actor, [{"title": "Shadow calls", "due_day": 5}]).id
    token = sign_in(client, make_user(role="agent"))
    before = counts(app)
    assert client.get(f"{MANAGE}/").status_code == 403
    assert client.get(f"{MANAGE}/new").status_code == 403
    assert send(client, token, f"{MANAGE}/new", {"title": "Mine"}).status_code == 403
    assert client.get(f"{MANAGE}/{path_id}").status_code == 404
    assert send(client, token, f"{MANAGE}/{path_id}/archive").status_code == 404
    assert counts(app) == before


def test_other_partners_and_company_paths_answer_404_to_a_trainer(app, client, make_user):
    """Every page and action of a partner-local path answers 404 to another partner's
    trainer; company paths are not in a trainer's builder at all (404, not listed)."""
    owner = make_user(role="trainer")
    with ctx(app, owner) as actor:
        local = path_with_steps(actor, [{"title": "Shadow calls", "due_day": 5}], title="Ours")
        local_id = local.id
        step_id = paths.steps_of(db.session.get(PathVersion, local.current_version_id))[0].id
    with ctx(app, make_user(role="prm")) as actor:
        company_id = path_with_steps(actor, [{"title": "Meet", "due_day": 2}], title="Co").id
    token = sign_in(client, make_user(role="trainer"))
    before = counts(app)
    base = f"{MANAGE}/{local_id}"
    for url in (
        base,
        f"{base}/versions",
        f"{base}/versions/1",
        f"{base}/steps/new",
        f"{base}/steps/{step_id}/edit",
        f"{MANAGE}/{company_id}",
    ):
        assert client.get(url).status_code == 404, url
    for url in (
        base,
        f"{base}/phases",
        f"{base}/publish",
        f"{base}/draft",
        f"{base}/archive",
        f"{base}/restore",
        f"{base}/steps/new",
        f"{base}/steps/{step_id}/edit",
        f"{base}/steps/{step_id}/remove",
        f"{MANAGE}/{company_id}/draft",
    ):
        assert send(client, token, url, {"title": "Hijacked", **TASK}).status_code == 404, url
    assert counts(app) == before
    listed = page_text(client.get(f"{MANAGE}/"))
    assert "Ours" not in listed and "Co " not in listed
    owners = app.test_client()
    login(owners, owner)
    listed = page_text(owners.get(f"{MANAGE}/"))
    assert "Ours" in listed and "Co " not in listed
    assert owners.get(f"{MANAGE}/{company_id}").status_code == 404


def test_a_step_of_another_path_answers_404(app, client, make_user):
    """Step ids must belong to the path in the URL."""
    prm = make_user(role="prm")
    with ctx(app, prm) as actor:
        first = path_with_steps(actor, [], publish=False, title="First")
        second = path_with_steps(actor, [{"title": "Theirs", "due_day": 3}], publish=False)
        first_id, step_id = first.id, paths.steps_of(paths.draft_of(second))[0].id
    token = sign_in(client, prm)
    assert client.get(f"{MANAGE}/{first_id}/steps/{step_id}/edit").status_code == 404
    assert send(client, token, f"{MANAGE}/{first_id}/steps/{step_id}/remove").status_code == 404


# --- the list ---------------------------------------------------------------------------------


def _paths(app, author, count, start=0, audience=None):
    with ctx(app, author) as actor:
        for n in range(start, start + count):
            path = path_with_steps(
                actor,
                [{"title": "Shadow", "due_day": 5}, {"title": "Meet", "due_day": 40}],
                publish=n % 3 != 1,
                title=f"Path {n:03}",
                audience=audience,
            )
            if n % 3 == 2:
                paths.start_draft(actor, path)
            if n % 5 == 0:
                paths.archive_path(actor, path)
        db.session.commit()


def test_the_list_filters_by_status_and_pages(app, client, make_user):
    """Each path with its status, version, draft and steps; filters and pages."""
    _paths(app, make_user(role="prm"), 3)  # 0: archived, 1: draft, 2: published + v2 draft
    login(client, make_user(role="admin"))
    page = page_text(client.get(f"{MANAGE}/"))
    assert "Path 000 Archived Everyone 1 2 0" in page
    assert "Path 001 Draft Everyone — 2 0" in page
    assert "Path 002 Published Everyone 1 v2 draft 2 0" in page
    drafts = page_text(client.get(f"{MANAGE}/?status=draft"))
    assert "Path 001" in drafts and "Path 002" not in drafts
    archived = page_text(client.get(f"{MANAGE}/?status=archived"))
    assert "Path 000" in archived and "Path 001" not in archived
    _paths(app, make_user(role="prm"), 25, start=3)
    second = page_text(client.get(f"{MANAGE}/?page=2"))
    assert "26–28 of 28" in second and "Path 027" in second and "Path 000" not in second


def test_the_list_runs_the_same_number_of_statements_for_more_paths(
    app, client, make_user, make_team
):
    """The list's SQL statement count does not grow with the paths shown (or their audiences,
    drafts and people)."""
    prm = make_user(role="prm")
    team = make_team()
    audience = {"team_ids": [team.id], "partner_ids": [team.partner_id], "roles": ["agent"]}
    _paths(app, prm, 2, audience=audience)
    _paths(app, make_user(role="trainer"), 1, start=2)
    login(client, prm)

    def statements():
        with count_queries(app) as n:
            assert client.get(f"{MANAGE}/").status_code == 200
        return n()

    few = statements()
    _paths(app, prm, 12, start=3, audience=audience)
    _paths(app, make_user(role="trainer"), 5, start=15)
    assert "20 in all" in page_text(client.get(f"{MANAGE}/"))
    assert statements() == few

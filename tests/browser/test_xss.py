"""Stored XSS: attack strings saved through the portal are shown as text, and nothing runs.

The strings (``xss_corpus``) go into every place that shows user text, through the portal's
own services (``xss_world``) or its forms (the roster import). Each page is then opened in
Chromium with the Content-Security-Policy switched off (``bypass_csp``), so a policy cannot
hide a payload that got through: the page must have no script, event handler or dangerous link
of a payload's making, ``window.__xss`` must stay unset and no dialog may open.
"""

import csv
import io
from datetime import date

import pytest
from playwright.sync_api import Page

from tests.browser.browsing import sign_in
from tests.browser.live_server import live_server
from tests.browser.xss_corpus import (
    FIND_INJECTED,
    MARKDOWN_END,
    SEARCH_WORD,
    SHORT,
    SSTI,
    SSTI_RENDERED,
)
from tests.browser.xss_world import (
    ADMIN,
    AGENT,
    AGENTS,
    CHOICES,
    COURSE,
    DOCUMENTS,
    EVERY_PAYLOAD,
    LESSONS,
    NEWS,
    PARTNER,
    PASSWORD,
    PATH,
    PRM,
    QUESTIONS,
    STEPS,
    TEAMS,
    TRAINER,
    build,
    opening,
    packed,
)


@pytest.fixture(scope="module")
def xss_portal(tmp_path_factory):
    """A portal of its own whose user texts are attack strings, and what was written."""
    with live_server(tmp_path_factory.mktemp("xss-portal"), with_demo=False) as server:
        yield server, build(server.app)


@pytest.fixture(scope="module")
def world(xss_portal):
    return xss_portal[1]


@pytest.fixture(scope="module")
def as_person(browser, xss_portal):
    """``as_person(email)``: a page signed in as that person, CSP off, dialogs recorded."""
    server, pages = xss_portal[0], {}

    def page_for(email: str) -> Page:
        if email not in pages:
            context = browser.new_context(base_url=server.url, bypass_csp=True)
            page = context.new_page()
            page.dialogs = []
            page.on("dialog", lambda dialog, page=page: _record(page, dialog))
            sign_in(page, email, PASSWORD)
            pages[email] = page
        return pages[email]

    yield page_for
    for page in pages.values():
        page.context.close()


# What a person sees of the page: its text and what its form fields hold.
SHOWN_TEXT = """() => [
  document.body.textContent,
  ...Array.from(document.querySelectorAll("input, textarea"), (field) => field.value),
].join("\\n")"""


def _record(page, dialog):
    page.dialogs.append(f"{dialog.type}: {dialog.message}")
    dialog.dismiss()


def assert_inert(page: Page, url: str | None = None, *, shows: list[str]) -> None:
    """Open ``url`` (or check the page as it is): each of ``shows`` appears as text (so the
    payloads are on the page), and none of them ran or left markup."""
    if url is not None:
        page.dialogs.clear()
        response = page.goto(url)
        assert response.ok, f"{url} answered {response.status}"
    where = url or page.url
    page.wait_for_load_state("load")
    page.wait_for_timeout(50)  # handlers such as ontoggle and onfocus fire just after load
    text = page.evaluate(SHOWN_TEXT)
    for shown in shows:
        assert shown in text, f"{where} does not show {shown!r}"
    assert page.evaluate(FIND_INJECTED) == [], f"{where} has a payload's markup"
    assert page.evaluate("() => typeof window.__xss") == "undefined", f"a payload ran on {where}"
    assert page.dialogs == [], f"a payload opened a dialog on {where}"
    assert SSTI_RENDERED not in page.content(), f"{where} rendered user text as a template"


def test_the_check_sees_payloads_that_get_through(browser):
    """The corpus attacks for real: pasted unescaped into a page, it runs and the check
    finds its markup."""
    page = browser.new_page()  # a blank page: no portal needed
    try:
        page.set_content("<!doctype html><title>t</title><body>" + "".join(SHORT) + "</body>")
        page.wait_for_function("() => window.__xss === 1")
        assert len(page.evaluate(FIND_INJECTED)) >= 10
    finally:
        page.close()


def test_documents_search_and_the_home_page(as_person, world):
    """Document titles and Markdown texts, search results and snippets, and the agent's
    home page (to do, urgent banner, onboarding card) show the payloads as text."""
    agent = as_person(AGENT)
    assert_inert(agent, "/", shows=[opening(DOCUMENTS[0]), opening(NEWS[0]), opening(PATH)])
    document = f"/library/{world.documents[0]}"
    assert_inert(agent, document, shows=[DOCUMENTS[0], MARKDOWN_END])
    assert_inert(agent, "/library/", shows=DOCUMENTS)
    assert_inert(agent, f"/search?q={SEARCH_WORD}", shows=DOCUMENTS)
    assert_inert(agent, "/search?q=onerror+script+javascript", shows=[opening(DOCUMENTS[0])])
    prm = as_person(PRM)
    assert_inert(prm, f"{document}/edit", shows=[DOCUMENTS[0], MARKDOWN_END])
    assert_inert(prm, f"{document}/history", shows=[opening(DOCUMENTS[0])])
    trainer = as_person(TRAINER)
    assert_inert(trainer, f"{document}/acknowledgements", shows=[DOCUMENTS[0], AGENTS[0]])


def test_announcements(as_person, world):
    """Announcement titles and Markdown texts: the feed, the page, notifications, receipts."""
    agent = as_person(AGENT)
    announcement = f"/announcements/{world.announcements[0]}"
    assert_inert(agent, "/announcements/", shows=NEWS)
    assert_inert(agent, announcement, shows=[NEWS[0], MARKDOWN_END])
    assert_inert(agent, "/notifications", shows=[opening(NEWS[0])])
    prm = as_person(PRM)
    assert_inert(prm, "/announcements/manage", shows=NEWS)
    assert_inert(prm, f"{announcement}/edit", shows=[NEWS[0], MARKDOWN_END])
    assert_inert(prm, f"{announcement}/receipts", shows=[NEWS[0], PARTNER, TEAMS[0], AGENTS[1]])


def test_people_teams_and_partner_names(as_person, world):
    """People's, teams' and the partner's names in lists, profiles, edit forms and reports."""
    trainer = as_person(TRAINER)
    person = world.agent_id
    assert_inert(trainer, "/people/", shows=AGENTS)
    assert_inert(trainer, f"/people/{person}", shows=[AGENTS[0], TEAMS[0]])
    assert_inert(trainer, f"/people/{person}/edit", shows=[AGENTS[0], TEAMS[0]])
    assert_inert(trainer, "/teams/", shows=TEAMS)
    assert_inert(trainer, "/reports/compliance", shows=[PARTNER, TEAMS[0], opening(DOCUMENTS[0])])
    assert_inert(trainer, f"/reports/people/{person}", shows=[AGENTS[0], opening(DOCUMENTS[0])])
    admin = as_person(ADMIN)
    assert_inert(admin, f"/partners/{world.partner_id}", shows=[PARTNER, *TEAMS])
    assert_inert(admin, "/admin/audit", shows=[PARTNER, opening(STEPS[0]), opening(PATH)])
    review = f"/reports/review?partner={world.partner_id}"
    assert_inert(as_person(PRM), review, shows=[opening(PARTNER)])


def test_roster_import(as_person, tmp_path):
    """A roster CSV full of payloads: the preview (with its error rows), the import list and
    the people it added."""
    trainer = as_person(TRAINER)
    rows = [("email", "name", "team", "role", "hire_date", "language", "timezone")]
    today = date.today().isoformat()
    imported = packed(120, "Imported ")
    rows += [
        (f"roster{n}@xss.example", name, "", "agent", today, "en", "UTC")
        for n, name in enumerate(imported)
    ]
    rows.append(("roster-bad@xss.example", "Bad team", SHORT[1], "agent", today, "en", "UTC"))
    rows.append((SHORT[4], "Bad email", "", "agent", today, "en", "UTC"))
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    roster = tmp_path / "roster.csv"
    roster.write_text(text.getvalue(), encoding="utf-8")

    trainer.goto("/people/import")
    trainer.get_by_label("Roster file (CSV)").set_input_files(
        files=[{"name": f"{SHORT[2]}.csv", "mimeType": "text/csv", "buffer": roster.read_bytes()}]
    )
    trainer.get_by_role("button", name="Upload and preview").click()
    assert_inert(trainer, shows=[*imported, SHORT[1], SHORT[4]])
    trainer.get_by_role("button", name="Apply this import").click()
    assert_inert(trainer, shows=[opening(imported[0])])
    assert_inert(trainer, "/people/import", shows=[SHORT[2]])
    assert_inert(trainer, "/people/?q=Imported", shows=imported)


def test_courses_lessons_and_quizzes(as_person, world):
    """Course and lesson titles and texts, quiz questions and choices: as a learner, as the
    course's author and in the training reports."""
    agent = as_person(AGENT)
    course = world.course_id
    lesson = f"/training/courses/{course}/lessons/{world.lessons[0]}"
    quiz = [*QUESTIONS, *CHOICES]
    assert_inert(agent, "/training/", shows=[COURSE])
    assert_inert(agent, f"/training/courses/{course}", shows=[COURSE, EVERY_PAYLOAD, *LESSONS])
    assert_inert(agent, lesson, shows=[LESSONS[0], MARKDOWN_END])
    assert_inert(agent, f"/training/attempts/{world.open_attempt_id}", shows=quiz)
    assert_inert(agent, f"/training/attempts/{world.failed_attempt_id}", shows=quiz)
    prm = as_person(PRM)
    assert_inert(prm, f"/training/manage/{course}", shows=[COURSE, *LESSONS, *QUESTIONS])
    edit = f"/training/manage/{course}/lessons/{world.lessons[0]}/edit"
    assert_inert(prm, edit, shows=[LESSONS[0], MARKDOWN_END])
    report = f"/training/reports/courses/{course}"
    assert_inert(as_person(TRAINER), report, shows=[COURSE, AGENTS[0]])


def test_onboarding_paths_and_steps(as_person, world):
    """Path titles, phase names, step titles and texts and a sign-off comment: the new
    hire's path, the trainer's board and person page, the path builder and cohorts."""
    path = [PATH, *STEPS, EVERY_PAYLOAD]
    assert_inert(as_person(AGENT), "/onboarding/", shows=path)
    trainer = as_person(TRAINER)
    assert_inert(trainer, "/onboarding/board", shows=[AGENTS[0], PATH])
    assert_inert(trainer, f"/onboarding/enrolments/{world.enrolment_id}", shows=[AGENTS[0], *path])
    prm = as_person(PRM)
    assert_inert(prm, f"/onboarding/manage/{world.path_id}", shows=[PATH, *STEPS])
    assert_inert(prm, "/onboarding/cohorts", shows=[opening(PARTNER)])


def test_template_syntax_is_shown_as_typed(as_person, world):
    """Template syntax in user text is shown as typed, never evaluated."""
    assert_inert(as_person(AGENT), f"/library/{world.documents[-1]}", shows=[SSTI])

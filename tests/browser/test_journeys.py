"""Journeys through the portal in Chromium: what agents, trainers and PRMs click through.

Each journey signs in as its own demo person and touches its own document, course or step, so
the journeys pass in any order and on any xdist worker.
"""

import csv
import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.core.clock import local, utcnow
from portal.demo.training_courses import COURSES
from portal.extensions import db
from portal.onboarding.models import Enrolment
from portal.people.models import User
from portal.training import reporting
from tests.browser.browsing import open_menu_item, sign_in

pytestmark = pytest.mark.usefixtures("screenshot")  # each journey's last page, saved

BRAND_VOICE = next(course for course in COURSES if course.slug == "brand-voice-basics")


def test_agent_searches_opens_a_playbook_and_acknowledges_it(page: Page):
    """An agent finds the refund playbook by searching, reads it and acknowledges it."""
    sign_in(page, "kristine.delacruz@atlas.example")
    search = page.get_by_role("searchbox", name="Search the library")
    search.fill("refund")
    search.press("Enter")
    expect(page.get_by_role("heading", name="Search the library")).to_be_visible()
    page.get_by_role("link", name="Refund requests").click()

    expect(page.get_by_role("heading", name="Refund requests", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Acknowledgement needed")).to_be_visible()
    page.get_by_role("button", name="I have read and understood this").click()

    expect(page.get_by_text(re.compile(r"You acknowledged version \d+ on"))).to_be_visible()
    expect(page.get_by_role("button", name="I have read and understood this")).to_have_count(0)


def _agent_row(page: Page, partner: str, email: str):
    """The agent's row in a document's acknowledgement report, narrowed to their partner."""
    page.get_by_label("Partner").select_option(label=partner)
    page.get_by_role("button", name="Filter").click()
    return page.get_by_role("row").filter(has_text=email)


def test_prm_publishes_a_material_change_and_the_agent_must_acknowledge_again(page: Page):
    """A PRM publishes a material new version of a playbook an agent had acknowledged; the
    acknowledgement report then shows that agent as outdated (to acknowledge again)."""
    agent, partner = "mantas.petrauskas@baltic.example", "Baltic Support Hub"
    sign_in(page, "prm@lumen.example")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Library").click()
    page.get_by_role("link", name="Escalation playbook", exact=True).click()
    page.get_by_role("link", name="Who has acknowledged").click()
    expect(_agent_row(page, partner, agent)).to_contain_text("Acknowledged")

    page.get_by_role("link", name="Escalation playbook").first.click()
    page.get_by_role("link", name="Edit text").click()
    text = page.get_by_label("Text", exact=True)
    text.fill(
        text.input_value()
        + "\n\n## Safety escalations at night\n\nCall the Safety on-call line as well.\n"
    )
    page.get_by_label("What changed").fill("Safety escalations at night also call on-call")
    page.get_by_label(re.compile("^Material: the meaning changed")).check()
    page.get_by_role("button", name="Save draft").click()

    page.once("dialog", lambda dialog: dialog.accept())  # "Publish version 3? ..." → OK
    page.get_by_role("button", name=re.compile(r"^Publish version \d+")).click()
    expect(page.get_by_text(re.compile(r"Version \d+ · published"))).to_be_visible()
    page.get_by_role("link", name="Who has acknowledged").click()
    row = _agent_row(page, partner, agent)
    expect(row).to_contain_text("Outdated")
    expect(row).not_to_contain_text("Acknowledged")


def test_new_hire_sees_their_day_on_the_onboarding_path(page: Page, demo_portal):
    """A new hire sees "Day N of 90" on the home page card and on their onboarding path."""
    email = "kevin.calderon@costa.example"
    with demo_portal.app.app_context():
        person = db.session.scalars(select(User).where(User.email == email)).one()
        start = db.session.scalars(
            select(Enrolment.start_date).where(Enrolment.user_id == person.id)
        ).one()
        today = local(utcnow(), person.timezone).date()
    day = f"Day {(today - start).days + 1} of 90"

    sign_in(page, email)
    expect(page.get_by_role("region", name="My onboarding")).to_contain_text(day)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Onboarding").click()
    expect(page.get_by_text(day, exact=True)).to_be_visible()
    expect(page.get_by_role("list", name="The three phases")).to_contain_text("Foundations")


def test_trainer_signs_off_a_task_and_exports_their_partners_overdue_list(
    page: Page, demo_portal, tmp_path
):
    """A trainer signs off a new hire's hands-on task, then downloads the overdue training
    list: the CSV has the list's header and only their own partner's people."""
    sign_in(page, "trainer@atlas.example")
    open_menu_item(page, "Onboarding", "Board")
    page.get_by_role("link", name="Jerome Castillo").click()
    step = page.locator("li").filter(has=page.get_by_text("Meet your partner manager", exact=True))
    step.get_by_label("Comment on the sign-off (optional)").fill("Met Priya on a video call.")
    step.get_by_role("button", name="Sign off").click()
    expect(page.get_by_text(re.compile("Signed off by Maricel Santos.*Met Priya"))).to_be_visible()

    open_menu_item(page, "Reports", "Training")
    page.get_by_role("link", name="Overdue", exact=True).click()
    shown = page.get_by_role("row").filter(has_text="@").count()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    with path.open(encoding="utf-8-sig", newline="") as file:
        header, *rows = list(csv.reader(file))

    assert tuple(header) == reporting.LIST_CSV_HEADER
    assert rows and len(rows) == shown
    assert {row[2] for row in rows} == {"Atlas Contact Solutions"}
    assert all(row[1].endswith("@atlas.example") for row in rows)
    assert _other_partners_overdue(demo_portal.app), "the demo must have others to leave out"


def _other_partners_overdue(app) -> set[str]:
    """Partners other than Atlas with overdue training, as the PRM's list has them."""
    with app.app_context():
        prm = db.session.scalars(select(User).where(User.email == "prm@lumen.example")).one()
        stmt = reporting.status_list_rows(prm, "overdue", date.today(), reporting.Filters())
        partners = {row.partner_name for row in db.session.execute(stmt)}
    return partners - {"Atlas Contact Solutions"}


def test_agent_reads_the_lessons_and_passes_the_quiz(page: Page):
    """An agent reads a course's lessons, answers its quiz rightly, passes and gets the
    certificate."""
    sign_in(page, "paolo.garcia@atlas.example")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Training").click()
    page.get_by_role("link", name=BRAND_VOICE.title).first.click()
    page.get_by_role("link", name="Start: lesson 1").click()
    lessons = len(BRAND_VOICE.lessons)
    for number in range(1, lessons):
        expect(page.get_by_text(f"Lesson {number} of {lessons}")).to_be_visible()
        page.get_by_role("button", name="Mark as done and continue").click()
    expect(page.get_by_text(f"Lesson {lessons} of {lessons}")).to_be_visible()
    page.get_by_role("button", name="Mark as done and finish").click()
    expect(page.get_by_text("You have finished every lesson. The quiz is next.")).to_be_visible()

    page.get_by_role("button", name="Start the quiz").click()
    for question in BRAND_VOICE.questions:
        fieldset = page.get_by_role("group", name=question.text)
        for choice, right in question.choices:
            if right:
                fieldset.get_by_label(choice, exact=True).check()
    page.get_by_role("button", name="Submit my answers").click()

    expect(page.get_by_role("heading", name="You passed")).to_be_visible()
    page.get_by_role("link", name="See your certificate").click()
    certificate = page.get_by_role("article", name="Certificate of completion")
    expect(certificate).to_contain_text("Paolo Garcia")
    expect(certificate.get_by_role("heading", name=BRAND_VOICE.title)).to_be_visible()

"""The person page: what one person must do, has done and is late on, their records, the CSV."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from portal.acknowledgements.services import acknowledge
from portal.announcements import reading
from portal.announcements.models import Announcement
from portal.compliance import person as person_compliance
from portal.extensions import db
from portal.library.models import Document
from portal.onboarding.enrolment import enrol_by_hand
from portal.onboarding.models import Enrolment, OnboardingPath, PathStep
from portal.onboarding.progress import sign_off
from portal.people.models import User
from tests import announcement_helpers
from tests.helpers import count_queries, login
from tests.onboarding_helpers import path_with_steps
from tests.training_report_helpers import ago, make_course, require, set_active, switch, take

make_announcement = announcement_helpers.make_announcement  # the fixture
TASK = {"kind": "task", "title": "Shadow five calls", "due_day": 1}


def _day(delta: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=delta)).strftime("%d %b %Y")


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _section(page: str, key: str) -> str:
    """The text of one section (late, todo, done) of the page."""
    match = re.search(rf'<section[^>]*id="{key}".*?</section>', page, re.S)
    assert match, f"no {key} section"
    return _text(match.group(0))


def _get(model, obj):
    return db.session.get(model, obj.id)


def _acknowledge(app, person, document):
    with app.app_context():
        doc = _get(Document, document)
        acknowledge(_get(User, person), doc, doc.current_version_id)
        db.session.commit()


def _enrol(app, trainer, person, path_id, start_days_ago):
    with app.app_context():
        enrolment = enrol_by_hand(
            _get(User, trainer),
            _get(User, person),
            db.session.get(OnboardingPath, path_id),
            start=datetime.now(UTC).date() - timedelta(days=start_days_ago),
            reason="New on the floor",
        )
        db.session.commit()
        return enrolment.id


@pytest.fixture
def world(app, make_partner, make_team, make_user, make_document, make_announcement):
    """Pat, an Alpha agent hired 60 days ago, with a document, course, announcement and
    onboarding path in every state; Gil, deactivated, with records; Bea at Bravo."""
    w = SimpleNamespace()
    w.alpha, w.bravo = make_partner(name="Alpha BPO"), make_partner(name="Bravo BPO")
    w.billing = make_team(partner=w.alpha, name="Alpha Billing")
    w.prm, w.admin = make_user("prm", name="Pam Prm"), make_user("admin")
    w.tess = make_user("trainer", partner=w.alpha, name="Tess Trainer")
    w.tom = make_user("trainer", partner=w.bravo, name="Tom Bravo")
    hired = ago(60)
    w.pat = make_user(
        partner=w.alpha, team=w.billing, name="Pat Agent", created_at=hired, hire_date=hired.date()
    )
    w.gil = make_user(partner=w.alpha, name="Gil Gone", created_at=hired, hire_date=hired.date())
    w.bea = make_user(partner=w.bravo, name="Bea Bravo")

    w.doc_done = make_document("Escalation playbook", requires_ack=True)
    w.doc_todo = make_document("Refund policy", requires_ack=True)
    w.doc_late = make_document("=Security policy", requires_ack=True)  # a formula, for the CSV
    require(app, w.prm, w.doc_late.id, kind="document")  # due 14 days after hire: 46 days late
    for person in (w.pat, w.gil):
        _acknowledge(app, person, w.doc_done)

    w.course_done = make_course(app, None, "Brand basics")
    w.course_late = make_course(app, None, "Data privacy")
    w.course_todo = make_course(app, None, "Upselling")
    w.course_expiring = make_course(app, None, "Fire safety", validity_days=365)
    for course in (w.course_done, w.course_late, w.course_expiring):
        require(app, w.prm, course, warning_days=30)
    require(app, w.prm, w.course_todo, days_ago=0, due_rule="after_required", due_days=7)
    take(app, w.pat, w.course_done, 10)
    take(app, w.pat, w.course_expiring, 355)
    take(app, w.gil, w.course_done, 5)

    w.ann_done = make_announcement("Holiday hours", requires_ack=True)
    w.ann_todo = make_announcement("New refund limit", requires_ack=True)
    w.ann_late = make_announcement("Badge rules", requires_ack=True, publish=False)
    with app.app_context():
        from portal.announcements import services

        services.publish(None, db.session.get(Announcement, w.ann_late.id), now=ago(30))
        reading.acknowledge(_get(User, w.pat), db.session.get(Announcement, w.ann_done.id))
        # For trainers, so publishing does not enrol Pat (a recent hire) automatically.
        trainers = {"roles": ["trainer"]}
        w.path_late = path_with_steps(w.tess, [TASK], title="Floor basics", audience=trainers).id
        w.path_todo = path_with_steps(
            w.tess, [{**TASK, "due_day": 80}], title="Advanced", audience=trainers
        ).id
        w.path_done = path_with_steps(w.tess, [TASK], title="Tools tour", audience=trainers).id
    _enrol(app, w.tess, w.pat, w.path_late, 3)
    _enrol(app, w.tess, w.pat, w.path_todo, 0)
    w.enrolment = _enrol(app, w.tess, w.pat, w.path_done, 2)
    with app.app_context():
        enrolment = db.session.get(Enrolment, w.enrolment)
        step = db.session.scalars(
            select(PathStep).where(PathStep.version_id == enrolment.version_id)
        ).one()
        tess = _get(User, w.tess)
        sign_off(tess, enrolment, step, comment="", now=ago(2))
        sign_off(tess, enrolment, step, comment="Missed a call", signed=False, now=ago(1))
        sign_off(tess, enrolment, step, comment="All five done", now=ago(0))
        db.session.commit()
    set_active(app, User, w.gil.id, False)
    return w


def _page(client, person, **args):
    query = "&".join(f"{key}={value}" for key, value in args.items())
    response = client.get(f"/reports/people/{person.id}" + (f"?{query}" if query else ""))
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_each_kind_in_each_state_shows_in_its_section_with_dates(client, world):
    """Late items show their due date and days late, to-dos their due dates, done items when."""
    login(client, world.prm)
    page = _page(client, world.pat)
    assert "Pat Agent" in page and "Alpha BPO" in page and "Alpha Billing" in page
    assert re.search(r'class="number">4</div><div class="label">late', page)
    assert re.search(r'class="number">5</div><div class="label">to do', page)
    assert re.search(r'class="number">4</div><div class="label">done', page)
    assert "38%" in page  # 4 done and 1 expiring but valid, of 13

    late = _section(page, "late")
    assert f"=Security policy {_day(-46)} 46 days" in late
    assert "Data privacy" in late and "Badge rules" in late
    # A step is late; the path itself is due on day 90.
    assert f"Floor basics {_day(-3 + 89)} A step is overdue" in late
    for title in ("Refund policy", "Upselling", "Fire safety", "New refund limit", "Advanced"):
        assert title in _section(page, "todo")
    todo = _section(page, "todo")
    assert f"Refund policy {_day(14)} in 14 days Pending" in todo
    assert f"Upselling {_day(7)} in 7 days Pending" in todo
    assert "Fire safety" in todo and "Expiring" in todo
    done = _section(page, "done")
    for title in ("Escalation playbook", "Brand basics", "Holiday hours", "Tools tour"):
        assert title in done
    assert f"Brand basics {ago(10).strftime('%d %b %Y')}" in done
    assert f"/onboarding/enrolments/{world.enrolment}" in page
    assert f"/library/{world.doc_late.id}" in page
    assert f"/training/reports/courses/{world.course_late}" in page
    assert f"/announcements/{world.ann_late.id}" in page


def test_records_tabs_list_every_written_once_record_with_dates(client, world):
    """Acknowledgements, attempts, completions, sign-offs and announcement acknowledgements."""
    login(client, world.tess)
    acks = _text(_page(client, world.pat))
    assert "Escalation playbook 1" in acks and "Button" in acks
    attempts = _text(_page(client, world.pat, records="attempts"))
    assert f"Brand basics 1 100% (pass mark 50%) Passed {ago(10).strftime('%d %b %Y')}" in attempts
    completions = _page(client, world.pat, records="completions")
    assert "Fire safety" in completions and "<code>" in completions
    assert _day(10) in _text(completions)  # completed 355 days ago, valid 365: expires in 10
    sign_offs = _text(_page(client, world.pat, records="sign_offs"))
    assert sign_offs.count("Shadow five calls") == 3
    assert "Reversed Missed a call Tess Trainer" in sign_offs
    assert "Signed off All five done Tess Trainer" in sign_offs
    announcements = _text(_page(client, world.pat, records="announcements"))
    assert "Holiday hours" in announcements


def test_long_lists_are_capped_and_paginated(client, world, monkeypatch):
    """A kind with more rows than the cap links to all of them; records and lists page on."""
    monkeypatch.setattr(person_compliance, "GROUP_CAP", 1)
    monkeypatch.setattr(person_compliance, "PER_PAGE", 2)
    login(client, world.prm)
    page = _page(client, world.pat)
    assert "Show all 2 (1 more)" in _section(page, "todo")  # two courses to do
    more = _text(_page(client, world.pat, section="todo", kind="course"))
    assert "Upselling" in more and "Fire safety" in more and "Refund policy" not in more
    paged = _text(_page(client, world.pat, records="sign_offs", records_page=2))
    assert "3–3 of 3" in paged and paged.count("Shadow five calls") == 1
    assert "There is no page 99999" in _page(client, world.pat, section="late", page=99999)
    assert "There is no page 99999" in _page(client, world.pat, records_page=99999)


@pytest.mark.parametrize("suffix", ["", ".csv"])
def test_who_may_see_a_person(client, world, suffix):
    """Own partner's trainer and staff see; another partner's trainer 404; an agent gets 403
    for their own id and 404 for anyone else's (nobody learns which ids exist)."""
    url = f"/reports/people/{{}}{suffix}"
    assert client.get(url.format(world.pat.id)).status_code == 302  # sign in first
    for viewer, person, code in [
        (world.tess, world.pat, 200),
        (world.tess, world.bea, 404),
        (world.tess, world.prm, 404),
        (world.tom, world.pat, 404),
        (world.prm, world.pat, 200),
        (world.prm, world.bea, 200),
        (world.admin, world.bea, 200),
        (world.pat, world.pat, 403),
        (world.bea, world.pat, 404),
    ]:
        switch(client, viewer)
        response = client.get(url.format(person.id))
        body = response.get_data(as_text=True)  # reads (and closes) a streamed CSV
        assert response.status_code == code, (viewer.name, person.name)
        if code == 403:
            assert "My training" in body
    switch(client, world.prm)
    assert client.get(url.format(999999)).status_code == 404


def test_a_deactivated_person_shows_records_and_a_note(client, world):
    """Gil no longer counts in rates: no sections, but every record is still there."""
    login(client, world.tess)
    page = _page(client, world.gil)
    assert "Gil Gone is deactivated" in page and "no longer count" in page
    assert 'id="late"' not in page and "Deactivated" in page
    assert "Escalation playbook" in page
    assert "Brand basics" in _page(client, world.gil, records="completions")
    assert f'href="/reports/people/{world.gil.id}"' in client.get(f"/people/{world.gil.id}").text
    response = client.get(f"/reports/people/{world.gil.id}.csv")
    assert response.get_data(as_text=True).strip() == "Kind,Item,Due date,Status,Done at (UTC)"


def test_the_csv_lists_every_obligation_streamed_and_formula_safe(client, world):
    """One row per obligation with kind, item, due date, status and done time."""
    login(client, world.tess)
    response = client.get(f"/reports/people/{world.pat.id}.csv")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["Kind", "Item", "Due date", "Status", "Done at (UTC)"]
    assert len(rows) == 1 + 13
    by_item = {row[1]: row for row in rows[1:]}
    today = datetime.now(UTC).date()
    late = by_item["'=Security policy"]  # a spreadsheet will not run it
    assert late[:4] == ["Document", "'=Security policy", str(today - timedelta(days=46)), "Overdue"]
    assert by_item["Upselling"][2:] == [str(today + timedelta(days=7)), "Pending", ""]
    assert by_item["Fire safety"][3] == "Expiring"
    done = by_item["Brand basics"]
    assert done[0] == "Course" and done[3] == "Done" and done[4].startswith(str(ago(10).date()))
    assert by_item["Tools tour"][0] == "Onboarding path"
    assert [row[3] for row in rows[1:5]] == ["Overdue"] * 4  # late first


def _more(app, make_document, make_announcement, world, n):
    """``n`` more documents and announcements, half of them acknowledged by Pat."""
    for number in range(n):
        document = make_document(f"Extra document {number}", requires_ack=True)
        note = make_announcement(f"Extra announcement {number}", requires_ack=True)
        if number % 2:
            _acknowledge(app, world.pat, document)
            with app.app_context():
                reading.acknowledge(_get(User, world.pat), db.session.get(Announcement, note.id))
                db.session.commit()


def test_statements_do_not_grow_with_items_or_records(
    app, client, world, make_document, make_announcement, monkeypatch
):
    """The page and its lists issue the same number of statements at two sizes."""
    monkeypatch.setattr(person_compliance, "GROUP_CAP", 2)
    monkeypatch.setattr(person_compliance, "PER_PAGE", 2)
    login(client, world.prm)
    urls = [
        f"/reports/people/{world.pat.id}",
        f"/reports/people/{world.pat.id}?records=announcements",
        f"/reports/people/{world.pat.id}?section=todo",
        f"/reports/people/{world.gil.id}",
    ]

    def counts():
        result = []
        for url in urls:
            with count_queries(app) as n:
                assert client.get(url).status_code == 200
            result.append(n())
        return result

    before = counts()
    _more(app, make_document, make_announcement, world, 6)
    after = counts()
    assert after == before, (before, after)
    assert "Extra document" in client.get(urls[2]).get_data(as_text=True)

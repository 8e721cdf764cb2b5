"""Training reports: courses overview, one course's report, the overdue and expiring lists."""

import csv
import io

import pytest

from portal.audiences.services import AudienceSpec
from tests.helpers import count_queries, login
from tests.training_report_helpers import (
    ago,
    make_course,
    read_lessons,
    require,
    rows,
    stat,
    switch,
    take,
    world_fixture,  # noqa: F401 - the world fixture
)


def page(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, url
    return response.get_data(as_text=True)


def names(listed):
    return [" ".join(row.split()[:2]) for row in listed]


def csv_rows(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def course_url(w, query=""):
    return f"/training/reports/courses/{w.course}{query}"


# --- one course -----------------------------------------------------------------------------


def test_prm_sees_every_partners_people_with_their_status(client, world):
    """A PRM's course report counts and lists all partners' people, most urgent first."""
    login(client, world.prm)
    html = page(client, course_url(world))
    assert (stat(html, "overdue"), stat(html, "pending"), stat(html, "expiring soon")) == (
        "3",
        "2",
        "1",
    )
    assert stat(html, "3 of 8 required done") == "38%"
    assert stat(html, "average pass score") == "80%"  # Ada 100, Eve 50, Rex 100, Tess 100, Ben 50
    listed = rows(html)
    assert names(listed) == [
        "Bea Bravo",
        "Otto Overdue",
        "Rex Recert",
        "Eve Expiring",
        "Ivan Inprogress",
        "Pia Pending",
        "Ada Done",
        "Ben Bravo",
        "Tess Trainer",
    ]
    assert "Gil" not in html and "Carl" not in html  # deactivated person, deactivated partner
    assert "1 more person has taken the course without being required to" in html


def test_each_row_shows_progress_attempts_and_scores(client, world):
    """Rows give the status, due date, lessons done, attempts, best and last score."""
    login(client, world.prm)
    listed = {" ".join(r.split()[:2]): r for r in rows(page(client, course_url(world)))}
    assert "In progress" in listed["Ivan Inprogress"]
    assert "1 of 1" in listed["Ivan Inprogress"] and "0% / 0%" in listed["Ivan Inprogress"]
    assert "Not started" in listed["Pia Pending"] and "0 of 1" in listed["Pia Pending"]
    assert "Expiring soon" in listed["Eve Expiring"] and "50% / 50%" in listed["Eve Expiring"]
    # Rex's completion expired 35 days ago: the course was due again on its expiry day.
    assert "Overdue" in listed["Rex Recert"]
    assert ago(35).strftime("%d %b %Y") in listed["Rex Recert"]
    assert "Completed" in listed["Tess Trainer"] and "Not required" in listed["Tess Trainer"]


def test_trainer_sees_only_their_partners_people(client, world):
    """A trainer's report counts and lists their own partner only, grouped by team."""
    login(client, world.trainer)
    html = page(client, course_url(world))
    assert (stat(html, "overdue"), stat(html, "pending"), stat(html, "expiring soon")) == (
        "2",
        "2",
        "1",
    )
    assert stat(html, "2 of 6 required done") == "33%"
    assert stat(html, "average pass score") == "88%"  # Bravo's Ben is not theirs
    assert "Bravo" not in html
    assert "By team" in html and "Alpha Sales" in html


@pytest.mark.parametrize(
    "query",
    ["?partner={bravo}", "?team={desk}", "?partner=999999"],
    ids=["partner", "team", "unknown"],
)
def test_a_filter_naming_another_partner_answers_404(client, world, query):
    """A trainer asking for another partner's people, by partner or team, gets 404."""
    login(client, world.trainer)
    url = course_url(world, query.format(bravo=world.bravo.id, desk=world.desk.id))
    page(client, url, 404)
    page(client, url.replace(f"{world.course}", f"{world.course}.csv"), 404)


FILTERS = [
    ("overdue", ["Bea Bravo", "Otto Overdue", "Rex Recert"]),
    ("expiring", ["Eve Expiring"]),
    ("pending", ["Ivan Inprogress", "Pia Pending"]),
    ("in_progress", ["Ivan Inprogress"]),
    ("not_started", ["Pia Pending"]),
    ("completed", ["Ada Done", "Ben Bravo", "Tess Trainer"]),
]


@pytest.mark.parametrize(("status", "expected"), FILTERS, ids=[f[0] for f in FILTERS])
def test_status_filter(client, world, status, expected):
    """Each status filter keeps exactly the people in that state."""
    login(client, world.prm)
    assert names(rows(page(client, course_url(world, f"?status={status}")))) == expected


def test_partner_and_team_filters(client, world):
    """Staff narrow the report to a partner or a team; the figures follow."""
    login(client, world.prm)
    html = page(client, course_url(world, f"?partner={world.bravo.id}"))
    assert names(rows(html)) == ["Bea Bravo", "Ben Bravo"]
    assert stat(html, "1 of 2 required done") == "50%"
    team = page(client, course_url(world, f"?team={world.sales.id}&status=pending"))
    assert names(rows(team)) == ["Ivan Inprogress", "Pia Pending"]


def test_course_report_csv(client, world, make_user):
    """The CSV has every filtered row, dates in ISO 8601, and no formula a sheet would run."""
    evil = make_user(
        partner=world.alpha, team=world.billing, name="=HYPERLINK(1)", created_at=ago(200)
    )
    take(client.application, evil, world.course, 10)
    login(client, world.trainer)
    table = csv_rows(client, course_url(world, ".csv"))
    header, body = table[0], table[1:]
    assert header[:7] == ["Name", "Email", "Partner", "Team", "Status", "Requirement", "Due on"]
    assert [r[0] for r in body][:3] == ["Otto Overdue", "Rex Recert", "Eve Expiring"]
    assert "'=HYPERLINK(1)" in [r[0] for r in body]
    assert not any("Bravo" in cell for r in body for cell in r)
    ivan = next(r for r in body if r[0] == "Ivan Inprogress")
    assert ivan[4:5] == ["In progress"] and ivan[7:12] == ["1", "1", "1", "0", "0"]
    assert ivan[5] == str(world.requirement)
    overdue = csv_rows(client, course_url(world, ".csv?status=overdue"))
    assert [r[0] for r in overdue[1:]] == ["Otto Overdue", "Rex Recert"]


def test_another_partners_course_answers_404(client, world, app, make_user):
    """A trainer gets 404 for another partner's own course; its own trainer and staff see it."""
    bravo_trainer = make_user(role="trainer", partner=world.bravo, name="Bob Bravo")
    local = make_course(app, bravo_trainer, "Bravo floor basics")
    login(client, world.trainer)
    page(client, f"/training/reports/courses/{local}", 404)
    page(client, f"/training/reports/courses/{local}.csv", 404)
    other = app.test_client()
    login(other, bravo_trainer)
    assert "Bravo floor basics" in page(other, f"/training/reports/courses/{local}")


def test_a_draft_course_has_an_empty_report(client, world, app):
    """A course nobody can take yet reports nobody, and is not in the overview."""
    login(client, world.prm)
    draft = make_course(app, world.prm, "Draft course", publish=False)
    html = page(client, f"/training/reports/courses/{draft}")
    assert "is required to take this course or has started it yet" in html
    assert "Draft course" not in page(client, "/training/reports")


# --- the courses overview -------------------------------------------------------------------


def test_overview_gives_each_course_its_figures(client, world, app):
    """The overview lists published courses with required, done, expiring, overdue, score."""
    other = make_course(app, world.prm, "Escalations")
    require(app, world.prm, other, audience=AudienceSpec(team_ids=[world.sales.id]))
    login(client, world.prm)
    html = page(client, "/training/reports")
    listed = {r.split(" Valid")[0].split(" Never")[0]: r for r in rows(html)}
    assert listed["Data privacy"].split()[-7:] == ["8", "3", "(38%)", "1", "2", "3", "80%"]
    # Escalations: Ivan and Pia (new) pending, Rex overdue; nobody has taken it.
    assert listed["Escalations"].split()[-7:] == ["3", "0", "(0%)", "0", "2", "1", "—"]
    assert stat(html, "overdue") == "4"  # three in Data privacy, Rex in Escalations
    assert stat(html, "completions expiring soon") == "1"
    switch(client, world.trainer)
    mine = {r.split(" Valid")[0]: r for r in rows(page(client, "/training/reports"))}
    assert mine["Data privacy"].split()[-7:] == ["6", "2", "(33%)", "1", "2", "2", "88%"]


# --- the overdue and expiring lists ---------------------------------------------------------


def test_overdue_list_across_courses(client, world):
    """The overdue list has a person × course row for each overdue requirement, in scope."""
    login(client, world.prm)
    html = page(client, "/training/reports/overdue")
    assert names(rows(html)) == ["Bea Bravo", "Otto Overdue", "Rex Recert"]
    assert "76 days overdue" in rows(html)[0]
    switch(client, world.trainer)
    assert names(rows(page(client, "/training/reports/overdue"))) == ["Otto Overdue", "Rex Recert"]
    table = csv_rows(client, "/training/reports/overdue.csv")
    assert table[0][:5] == ["Name", "Email", "Partner", "Team", "Course"]
    assert [r[0] for r in table[1:]] == ["Otto Overdue", "Rex Recert"]
    assert table[1][5] == ago(46).date().isoformat()
    page(client, f"/training/reports/overdue?partner={world.bravo.id}", 404)
    page(client, f"/training/reports/overdue.csv?team={world.desk.id}", 404)


def test_expiring_list_and_course_filter(client, world, app):
    """The expiring list shows completions inside their warning period; a course filter
    narrows it, and an unknown course answers 404."""
    login(client, world.prm)
    html = page(client, "/training/reports/expiring")
    assert names(rows(html)) == ["Eve Expiring"]
    assert "in 10 days" in rows(html)[0]
    other = make_course(app, world.prm, "Escalations")
    assert rows(page(client, f"/training/reports/expiring?course={other}")) == []
    page(client, "/training/reports/expiring?course=999999", 404)


# --- who may see reports, and what they cost ------------------------------------------------

REPORT_PAGES = ["/training/reports", "/training/reports/overdue", "/training/reports/expiring"]


def test_agents_may_not_see_reports(client, world):
    """Agents get 403 on the report lists and 404 on a course's report."""
    login(client, world.agent)
    for url in [*REPORT_PAGES, "/training/reports/overdue.csv"]:
        page(client, url, 403)
    page(client, course_url(world), 404)
    page(client, course_url(world, ".csv"), 404)


def grow(app, w, make_user, count):
    """``count`` more agents at each partner with records: overdue, in progress, completed."""
    for n in range(count):
        for partner, team in ((w.alpha, w.billing), (w.bravo, w.desk)):
            person = make_user(
                partner=partner, team=team, name=f"Extra {n} {partner.name}", created_at=ago(200)
            )
            if n % 3 == 1:
                read_lessons(app, person, w.course, 2)
            elif n % 3 == 2:
                take(app, person, w.course, 2)


@pytest.mark.parametrize("who", ["prm", "trainer"])
def test_statement_counts_do_not_grow_with_people(client, world, app, make_user, who):
    """Every report page runs the same number of SQL statements for 3 or 30 more people."""
    login(client, getattr(world, who))
    urls = [
        *REPORT_PAGES,
        course_url(world),
        course_url(world, "?status=pending"),
        course_url(world, ".csv"),
        "/training/reports/overdue.csv",
    ]

    def counts():
        found = {}
        for url in urls:
            with count_queries(app) as n:
                assert client.get(url).status_code == 200
            found[url] = n()
        return found

    grow(app, world, make_user, 3)
    small = counts()
    grow(app, world, make_user, 27)
    assert counts() == small

"""The compliance dashboard and its drill-down: cells, scope, filters, bad input, SQL counts."""

import re
from datetime import date, timedelta

import pytest

from portal.compliance.dashboard import cell_level
from tests.compliance_helpers import (
    EXPECTED,
    TITLES,
    compliance_world_fixture,  # noqa: F401 - the compliance_world fixture
)
from tests.helpers import count_queries, login
from tests.training_report_helpers import ago, switch

URL = "/reports/compliance"
PEOPLE = "/reports/compliance/people"


def page(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, url
    return response.get_data(as_text=True)


def _text(html):
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def table(html):
    """{item title: [cell text, ...]} and the column headings of the dashboard table."""
    head = html.split("<thead>")[1].split("</thead>")[0]
    headings = [_text(h) for h in re.findall(r"<th[^>]*>(.*?)</th>", head, re.S)][1:]
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        title = _text(re.search(r"<th[^>]*>(.*?)<div", row, re.S).group(1))
        rows[title] = [_text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    return headings, rows


def levels(html):
    return re.findall(r'class="compliance-cell compliance-(\w+)"', html)


def people(html):
    """The drill-down's rows: (name, status) pairs, in order."""
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    found = []
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        name = _text(row.split("<div")[0])
        status = re.search(r'class="badge[^"]*">([^<]+)<', row).group(1)
        found.append((name, status))
    return found


def cell_text(people_count, complete, overdue):
    percent = int(100 * complete / people_count)
    noun = "person" if people_count == 1 else "people"
    tail = f"{overdue} overdue" if overdue else f"{people_count} {noun}"
    return f"{percent}% {tail}"


def test_prm_sees_every_partner_with_exact_cells(client, compliance_world):
    """A PRM's dashboard: one row per required item, a column per partner, and the total."""
    w = compliance_world
    login(client, w.prm)
    html = page(client, URL)
    headings, rows = table(html)
    assert headings == ["Alpha BPO", "Bravo BPO", "Total"]
    assert list(rows) == list(TITLES.values())  # documents, courses, announcements, paths
    for kind, title in TITLES.items():
        alpha, bravo = EXPECTED[kind, "alpha"], EXPECTED[kind, "bravo"]
        total = tuple(a + b for a, b in zip(alpha, bravo, strict=True))
        assert rows[title] == [cell_text(*alpha), cell_text(*bravo), cell_text(*total)], kind
    assert "Charlie" not in html and "Gil" not in html
    # Document: Alpha 1 of 5 overdue (20%: red), Bravo none overdue and 66% (in progress),
    # total 1 of 8 overdue (amber).
    assert levels(html)[:3] == ["late", "progress", "behind"]
    assert "Download CSV" in html and "(4 rows)" in html
    assert "20% or more overdue" in html  # the legend


def test_every_cell_links_to_its_people(client, compliance_world):
    """A cell's percent opens its people; its overdue count opens the overdue ones."""
    w = compliance_world
    login(client, w.prm)
    html = page(client, URL)
    link = f"{PEOPLE}?kind=document&amp;item={w.document}&amp;partner={w.alpha.id}"
    assert f'href="{link}"' in html
    listed = people(page(client, link.replace("&amp;", "&")))
    assert sorted(listed) == [
        ("Ada Done", "Done"),
        ("Otto Overdue", "Overdue"),
        ("Pia Pending", "Pending"),
        ("Rex Late", "Done"),
        ("Tess Trainer", "Done"),
    ]
    overdue = f"{PEOPLE}?kind=course&item={w.course}&status=overdue&partner={w.alpha.id}"
    assert f'href="{overdue.replace("&", "&amp;")}"' in html
    assert people(page(client, overdue)) == [("Otto Overdue", "Overdue"), ("Rex Late", "Overdue")]


def test_trainer_sees_their_partner_by_team(client, compliance_world):
    """A trainer's dashboard (same page) has their own teams as columns, nobody else's."""
    w = compliance_world
    login(client, w.trainer)
    html = page(client, URL)
    headings, rows = table(html)
    assert headings == ["Alpha Billing", "Alpha Sales", "Total"]
    assert "Bravo" not in html
    # Billing: Tess and Ada done, Otto overdue; Sales: Rex done, Pia pending.
    assert rows[TITLES["document"]] == ["66% 1 overdue", "50% 2 people", "60% 1 overdue"]
    assert rows[TITLES["path"]] == ["—", "0% 1 overdue", "0% 1 overdue"]
    sales = f"{PEOPLE}?kind=document&amp;item={w.document}&amp;team={w.sales.id}"
    assert sales in html


def test_partner_filter_turns_columns_into_its_teams(client, compliance_world):
    """Staff choosing a partner see its teams, and a "No team" column for people of none."""
    w = compliance_world
    login(client, w.prm)
    headings, rows = table(page(client, f"{URL}?partner={w.bravo.id}"))
    assert headings == ["Bravo Desk", "No team", "Total"]
    assert rows[TITLES["course"]] == ["50% 1 overdue", "0% 1 person", "33% 1 overdue"]
    nobody = people(page(client, f"{PEOPLE}?partner={w.bravo.id}&team=none&kind=document"))
    assert nobody == [("Nia Newhire", "Pending")]
    headings, _ = table(page(client, f"{URL}?team={w.desk.id}"))
    assert headings == ["Bravo Desk", "Total"]


def test_kind_item_status_and_due_filters(client, compliance_world):
    """Filters keep items by kind, by item, by their people's status and by due dates."""
    w = compliance_world
    login(client, w.prm)
    assert list(table(page(client, f"{URL}?kind=course"))[1]) == [TITLES["course"]]
    item = page(client, f"{URL}?item=announcement:{w.announcement}")
    assert list(table(item)[1]) == [TITLES["announcement"]]
    assert list(table(page(client, f"{URL}?status=expiring"))[1]) == [TITLES["course"]]
    assert "No required item matches" in page(client, f"{URL}?status=complete")
    # Within 30 days only the new hires' acknowledgements and Pia's course fall due
    # (Ben's certificate expires in 25 days: due again then).
    soon = table(page(client, f"{URL}?due_within=30"))[1]
    assert list(soon) == [TITLES["document"], TITLES["course"], TITLES["announcement"]]
    assert soon[TITLES["course"]] == ["0% 1 person", "50% 2 people", "33% 3 people"]
    start, end = (ago(40).date(), ago(10).date())
    window = table(page(client, f"{URL}?due_from={start}&due_to={end}"))[1]
    assert window[TITLES["document"]] == ["75% 1 overdue", "100% 2 people", "83% 1 overdue"]


def test_cell_colours():
    """Green at 95% with nobody overdue, amber with anyone overdue, red from 20% overdue."""
    assert cell_level(0, 0, 0) == "empty"
    assert cell_level(20, 19, 0) == "complete"
    assert cell_level(20, 18, 0) == "progress"
    assert cell_level(20, 19, 1) == "behind"
    assert cell_level(20, 10, 4) == "late"
    assert cell_level(10, 8, 1) == "behind"


@pytest.mark.parametrize("url", [URL, f"{URL}.csv", PEOPLE, f"{PEOPLE}.csv"])
def test_agents_get_403(client, compliance_world, url):
    """Agents see no compliance report and may export none."""
    login(client, compliance_world.agent)
    page(client, url, 403)


def test_filters_naming_what_the_viewer_may_not_see_answer_404(
    client, compliance_world, make_user, make_document
):
    """Another partner, its team or its local item, unknown and non-numeric ids: 404."""
    w = compliance_world
    bravo_trainer = make_user("trainer", partner=w.bravo)
    local = make_document("Bravo desk rules", author=bravo_trainer, requires_ack=True)
    login(client, w.trainer)
    for query in (
        f"partner={w.bravo.id}",
        f"team={w.desk.id}",
        f"kind=document&item={local.id}",
        f"item=document:{local.id}",
        "partner=999999",
        "partner=abc",
        "team=1x",
        "kind=bogus",
        "item=7",
        "item=document:abc",
        f"partner={w.charlie.id}",
    ):
        for url in (URL, f"{URL}.csv", PEOPLE, f"{PEOPLE}.csv"):
            page(client, f"{url}?{query}", 404)
    page(client, f"{URL}?kind=document&item={w.document}")


def test_bad_filters_get_a_message_and_nothing_is_computed(client, compliance_world, app):
    """A reversed date range, a bad number of days, a team of another partner: messages."""
    w = compliance_world
    login(client, w.prm)
    reversed_url = f"{URL}?due_from=2026-05-01&due_to=2026-04-01"
    with count_queries(app) as reversed_count:
        html = page(client, reversed_url)
    assert "The due date range is reversed" in html and "<tbody>" not in html
    assert "Download CSV" not in html
    with count_queries(app) as normal:
        page(client, f"{URL}?due_from=2026-04-01&due_to=2026-05-01")
    assert reversed_count() < normal()  # the table's statement did not run
    assert "from 0 to 3650" in page(client, f"{URL}?due_within=-3")
    assert "is not a date" in page(client, f"{PEOPLE}?due_to=yesterday")
    other = page(client, f"{URL}?partner={w.alpha.id}&team={w.desk.id}")
    assert "is a team of Bravo BPO, not of Alpha BPO" in other
    csv = client.get(f"{URL}.csv?due_from=2026-05-01&due_to=2026-04-01")
    assert csv.status_code == 302 and "due_from=2026-05-01" in csv.headers["Location"]


def test_huge_page_numbers_show_the_last_page(client, compliance_world, make_document):
    """Page 10**9 of the dashboard or the drill-down shows the last page, quickly."""
    w = compliance_world
    for number in range(23):  # 27 items: two pages of 25
        make_document(f"Policy {number:02}", requires_ack=True)
    login(client, w.prm)
    headings, rows = table(page(client, f"{URL}?page={10**9}"))
    assert list(rows) == [TITLES["announcement"], TITLES["path"]]
    assert "26–27 of 27" in page(client, f"{URL}?page={10**9}")
    assert "1–25 of 27" in page(client, f"{URL}?page=-4")
    assert "1–25 of 27" in page(client, f"{URL}?page=abc")
    listed = people(page(client, f"{PEOPLE}?kind=document&item={w.document}&page={10**9}"))
    assert len(listed) == 8


def test_drill_down_sorts_by_due_date(client, compliance_world):
    """People are listed earliest due first, or latest first, or by name."""
    w = compliance_world
    login(client, w.prm)
    url = f"{PEOPLE}?kind=announcement&item={w.announcement}"
    earliest = [name for name, _ in people(page(client, url))]
    assert earliest[-2:] == ["Nia Newhire", "Pia Pending"]  # joined 5 days ago: due later
    latest = [name for name, _ in people(page(client, f"{url}&sort=-due"))]
    assert latest[:2] == ["Nia Newhire", "Pia Pending"]
    named = [name for name, _ in people(page(client, f"{url}&sort=name"))]
    assert named == sorted(named)
    html = page(client, f"{url}&status=incomplete")
    assert {status for _, status in people(html)} == {"Overdue", "Pending"}
    assert (date.today() + timedelta(days=9)).strftime("%d %b %Y") in html


def _grow(app, w, make_user, make_document, size):
    for n in range(size):
        for partner, team in ((w.alpha, w.billing), (w.alpha, w.sales), (w.bravo, w.desk)):
            make_user("agent", partner=partner, team=team, created_at=ago(100))
        make_document(f"Grown {size}-{n}", requires_ack=True)


def test_statement_count_does_not_grow_with_people_or_items(
    client, app, compliance_world, make_user, make_document
):
    """Each page issues the same number of SQL statements at two data sizes."""
    w = compliance_world
    urls = [
        (w.prm, URL),
        (w.prm, f"{URL}?partner={w.alpha.id}&status=overdue"),
        (w.prm, f"{PEOPLE}?kind=document&item={w.document}"),
        (w.trainer, URL),
        (w.trainer, f"{PEOPLE}?team={w.sales.id}&sort=status"),
    ]

    def counts():
        found = []
        for who, url in urls:
            switch(client, who)
            with count_queries(app) as n:
                assert client.get(url).status_code == 200
            found.append(n())
        return found

    _grow(app, w, make_user, make_document, 2)
    small = counts()
    _grow(app, w, make_user, make_document, 30)  # now more than a page of items
    assert counts() == small

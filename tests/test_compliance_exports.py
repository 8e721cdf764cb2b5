"""Compliance exports: the dashboard and the drill-down as streamed, formula-safe CSV."""

import csv
import io
import re

from tests.compliance_helpers import (
    TITLES,
    compliance_world_fixture,  # noqa: F401 - the compliance_world fixture
)
from tests.helpers import login
from tests.training_report_helpers import ago

URL = "/reports/compliance"
PEOPLE = "/reports/compliance/people"


def export(client, url):
    """The CSV rows of ``url``, checking it is a streamed CSV attachment with a file name."""
    response = client.get(url)
    assert response.status_code == 200, url
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert re.fullmatch(
        r'attachment; filename="compliance[\w-]*-\d{4}-\d\d-\d\d\.csv"', disposition
    )
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def shown_rows(client, url):
    """The row count the page shows next to its download link."""
    html = client.get(url).get_data(as_text=True)
    return int(
        re.search(r"Download CSV <span[^>]*>\(([\d,]+) rows?\)", html).group(1).replace(",", "")
    )


def test_dashboard_csv_has_every_item_and_column(client, compliance_world):
    """The dashboard CSV: one row per item, percent, overdue and people per partner and total."""
    login(client, compliance_world.prm)
    rows = export(client, f"{URL}.csv")
    assert rows[0] == [
        "Kind",
        "Item",
        "Alpha BPO: complete %",
        "Alpha BPO: overdue",
        "Alpha BPO: people",
        "Bravo BPO: complete %",
        "Bravo BPO: overdue",
        "Bravo BPO: people",
        "Total: complete %",
        "Total: overdue",
        "Total: people",
    ]
    assert rows[1:] == [
        ["Document", TITLES["document"], "60", "1", "5", "66", "0", "3", "62", "1", "8"],
        ["Course", TITLES["course"], "25", "2", "4", "33", "1", "3", "28", "3", "7"],
        ["Announcement", TITLES["announcement"], "40", "2", "5", "33", "1", "3", "37", "3", "8"],
        ["Onboarding path", TITLES["path"], "0", "1", "2", "50", "0", "2", "25", "1", "4"],
    ]
    assert shown_rows(client, URL) == len(rows) - 1


def test_trainer_dashboard_csv_has_their_teams_only(client, compliance_world):
    """A trainer's export has their own teams as columns and filters apply."""
    login(client, compliance_world.trainer)
    rows = export(client, f"{URL}.csv?kind=document")
    assert [h for h in rows[0] if h.endswith("people")] == [
        "Alpha Billing: people",
        "Alpha Sales: people",
        "No team: people",
        "Total: people",
    ]
    assert rows[1:] == [
        ["Document", TITLES["document"], "66", "1", "3", "50", "0", "2", "", "", "", "60", "1", "5"]
    ]
    assert "Bravo" not in str(rows)
    assert shown_rows(client, f"{URL}?kind=document") == 1


def test_people_csv_lists_the_cell_and_guards_formulas(client, compliance_world, make_user):
    """The drill-down CSV: its people with dates and statuses, no formula a sheet would run."""
    w = compliance_world
    make_user(
        partner=w.alpha,
        team=w.sales,
        name="=HYPERLINK(1)",
        email="evil@example.com",
        created_at=ago(100),
    )
    login(client, w.prm)
    query = f"?kind=document&item={w.document}&partner={w.alpha.id}&sort=name"
    rows = export(client, f"{PEOPLE}.csv{query}")
    assert rows[0] == [
        "Name",
        "Email",
        "Partner",
        "Team",
        "Kind",
        "Item",
        "Due on",
        "Status",
        "Done at (UTC)",
    ]
    by_name = {row[0]: row for row in rows[1:]}
    assert sorted(by_name) == [
        "'=HYPERLINK(1)",
        "Ada Done",
        "Otto Overdue",
        "Pia Pending",
        "Rex Late",
        "Tess Trainer",
    ]
    ada = by_name["Ada Done"]
    assert ada[2:6] == ["Alpha BPO", "Alpha Billing", "Document", TITLES["document"]]
    assert ada[6] == ago(16).date().isoformat()  # published 30 days ago, 14 days to do it
    assert ada[7] == "Done" and ada[8].endswith("+00:00")
    assert by_name["Otto Overdue"][7:] == ["Overdue", ""]
    assert shown_rows(client, f"{PEOPLE}{query}") == len(rows) - 1


def test_people_csv_of_every_kind_has_no_extra_rows(client, compliance_world):
    """Without an item the export lists every obligation in scope, and nothing more."""
    login(client, compliance_world.trainer)
    rows = export(client, f"{PEOPLE}.csv")
    assert len(rows) - 1 == shown_rows(client, PEOPLE) == 5 + 4 + 5 + 2
    assert {row[2] for row in rows[1:]} == {"Alpha BPO"}
    assert rows[-1] != [] and all(len(row) == 9 for row in rows)


def test_exports_with_bad_filters_send_back_to_the_page(client, compliance_world):
    """A reversed range on an export leads to the page and its message, not a file."""
    login(client, compliance_world.prm)
    response = client.get(f"{PEOPLE}.csv?due_from=2026-05-02&due_to=2026-05-01")
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The due date range is reversed" in html

"""Roster import input: unusable files, rows with errors, spreadsheet encodings."""

import codecs

import pytest

from tests.helpers import login, post
from tests.roster_helpers import (
    HEADER,
    URL,
    csv_bytes,
    import_and_apply,
    imports_count,
    make_acme,
    people_count,
    person,
    preview_rows,
    upload,
)


@pytest.fixture
def acme(make_partner, make_team, make_user):
    """A partner with two teams, its trainer, and a second partner with one of its people."""
    return make_acme(make_partner, make_team, make_user)


FILE_ERRORS = [
    ("missing columns", b"email,name\na@acme.example.com,Ann\n", "Missing columns: team, role"),
    (
        "extra columns",
        csv_bytes("a@acme.example.com,Ann,,,,,,555", header=HEADER + ",phone"),
        "Unknown columns: “phone”",
    ),
    ("repeated column", csv_bytes("a,b,,,,,,", header=HEADER + ",Email"), "more than once: email"),
    ("empty file", b"", "The file is empty"),
    ("blank file", b"\r\n \r\n", "The file is empty"),
    ("header only", (HEADER + "\r\n").encode(), "header row but no people"),
    ("binary file", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "not a text CSV"),
    ("undecodable bytes", b"email,name\n\x81\x8d\x8f\n", "not a text CSV"),
    ("excel workbook", b"PK\x03\x04" + b"\x00" * 100, "Excel workbook, not a CSV"),
    (
        "too many rows",
        csv_bytes(*(f"p{i}@acme.example.com,P {i},,,,," for i in range(10_001))),
        "more than 10,000 people rows",
    ),
    (
        "over 5 MB",
        csv_bytes("a@acme.example.com," + "x" * (5 * 1024 * 1024) + ",,,,,"),
        "larger than 5 MB",
    ),
]


@pytest.mark.parametrize(
    ("data", "message"), [c[1:] for c in FILE_ERRORS], ids=[c[0] for c in FILE_ERRORS]
)
def test_unusable_files_are_refused_with_a_message(app, client, acme, data, message):
    """A file that is not a usable roster gets a clear message, and nothing is stored."""
    login(client, acme["trainer"])
    before = people_count(app)
    response = upload(client, data, acme["partner"].id)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in page
    assert 'role="alert"' in page and "nothing has changed" in page
    assert people_count(app) == before and imports_count(app) == 0


def test_uploading_without_a_file_asks_for_one(app, client, acme):
    """Submitting the form without choosing a file says to choose one."""
    login(client, acme["trainer"])
    response = post(client, URL, {"partner_id": acme["partner"].id}, token_from=URL)
    assert "Choose a CSV file to upload." in response.get_data(as_text=True)
    assert imports_count(app) == 0


def test_a_30_mb_upload_gets_the_file_too_large_page(app, client, acme):
    """Uploads over the portal's request limit (26 MB) get the 413 page and change nothing."""
    login(client, acme["trainer"])
    before = people_count(app)
    response = upload(
        client, csv_bytes("a@acme.example.com," + "x" * (30 * 1024 * 1024) + ",,,,,"), 1
    )
    assert response.status_code == 413
    assert "larger than the portal accepts" in response.get_data(as_text=True)
    assert people_count(app) == before and imports_count(app) == 0


ROW_ERRORS = [
    ("not-an-email,Ann,,,,,", "is not a valid email address"),
    ("taken@globex.example.com,Ann,,,,,", "already used by another account"),
    ("boss@company.example.com,Ann,,,,,", "already used by another account"),
    ("a@acme.example.com,,,,,,", "The name is empty."),
    (
        "a@acme.example.com,Ann,Billing,,,,",
        "Acme has no team “Billing”. Its teams are: Chat, Voice.",
    ),
    ("a@acme.example.com,Ann,,captain,,,", "Unknown role “captain”"),
    ("a@acme.example.com,Ann,,prm,,,", "You cannot give the role “Partner relationship manager”"),
    ("a@acme.example.com,Ann,,admin,,,", "You cannot give the role “Administrator”"),
    ("a@acme.example.com,Ann,,,05/01/2026,,", "is not a date: write it as YYYY-MM-DD"),
    ("a@acme.example.com,Ann,,,2026-02-30,,", "is not a date"),
    ("a@acme.example.com,Ann,,,1900-01-01,,", "too far in the past"),
    ("a@acme.example.com,Ann,,,,klingon,", "Unknown language “klingon”"),
    ("a@acme.example.com,Ann,,,,,Mars/Olympus", "Unknown time zone “Mars/Olympus”"),
    ("a@acme.example.com,Ann,,,,,,surplus", "more columns than the header"),
    ("trainer@acme.example.com,Me,,agent,,,", "You cannot change your own role."),
]


@pytest.mark.parametrize(("row", "message"), ROW_ERRORS)
def test_row_errors_are_explained_and_the_row_is_skipped(app, acme, make_user, row, message):
    """Each bad row says why in plain words; applying skips it and changes no one."""
    make_user(role="prm", email="boss@company.example.com", password=None)
    before = people_count(app)
    rows = preview_rows(app, acme["trainer"].id, acme["partner"].id, csv_bytes(row))
    assert rows[0]["action"] == "error"
    assert any(message in error for error in rows[0]["errors"]), rows[0]["errors"]
    _, applied = import_and_apply(app, acme["trainer"].id, acme["partner"].id, csv_bytes(row))
    assert applied["errors"] == 1 and applied["new"] == applied["updated"] == 0
    assert people_count(app) == before
    outsider = person(app, "taken@globex.example.com")
    assert (outsider.partner_id, outsider.name) == (acme["other"].id, "Taken")


def test_admin_cannot_import_company_staff_into_a_partner(app, acme, make_user):
    """Even an admin may not put an administrator or PRM into a partner's roster."""
    admin = make_user(role="admin", email="admin@company.example.com")
    rows = preview_rows(
        app, admin.id, acme["partner"].id, csv_bytes("a@acme.example.com,Ann,,prm,,,")
    )
    assert "company staff" in rows[0]["errors"][0]


def test_duplicate_emails_in_the_file_are_errors_on_both_rows(app, acme):
    """The same person twice in one file marks both rows, naming the other row."""
    data = csv_bytes(
        "a@acme.example.com,Ann,,,,,",
        "b@acme.example.com,Bob,,,,,",
        "A@ACME.example.com,Ann 2,,,,,",
    )
    rows = preview_rows(app, acme["trainer"].id, acme["partner"].id, data)
    assert [r["action"] for r in rows] == ["error", "new", "error"]
    assert "also on row 4" in rows[0]["errors"][0]
    assert "also on row 2" in rows[2]["errors"][0]


ENCODED = [
    ("utf-8 with BOM", codecs.BOM_UTF8 + csv_bytes("jose@acme.example.com,José Müller,,,,,")),
    ("windows-1252", csv_bytes("jose@acme.example.com,José Müller,,,,,", encoding="cp1252")),
    (
        "excel semicolons, crlf",
        csv_bytes(
            "jose@acme.example.com;José Müller;Voice;agent;2026-01-05;;",
            header=HEADER.replace(",", ";").upper(),
            encoding="cp1252",
            newline="\r\n",
        ),
    ),
    (
        "utf-16 unicode text",
        csv_bytes(
            "jose@acme.example.com\tJosé Müller\t\t\t\t\t",
            header=HEADER.replace(",", "\t"),
            encoding="utf-16",
            newline="\r\n",
        ),
    ),
    (
        "columns in another order",
        csv_bytes(
            "Asia/Manila,José Müller,jose@acme.example.com,,,,",
            header="Timezone,Name,E-mail,Team,Role,Hire Date,Language",
        ),
    ),
]


@pytest.mark.parametrize("data", [c[1] for c in ENCODED], ids=[c[0] for c in ENCODED])
def test_spreadsheet_encodings_and_separators_are_read(app, acme, data):
    """UTF-8 with BOM, Windows-1252, semicolons, CRLF and UTF-16 files import the same."""
    _, applied = import_and_apply(app, acme["trainer"].id, acme["partner"].id, data)
    assert applied["new"] == 1, applied
    assert person(app, "jose@acme.example.com").name == "José Müller"


def test_quoted_cells_may_hold_separators_and_line_breaks(app, acme):
    """A quoted name with a comma or a line break stays one cell."""
    data = csv_bytes('a@acme.example.com,"Lee, Ann",,,,,', 'b@acme.example.com,"Bob\nRay",,,,,')
    _, applied = import_and_apply(app, acme["trainer"].id, acme["partner"].id, data)
    assert applied["new"] == 2
    assert person(app, "a@acme.example.com").name == "Lee, Ann"
    assert person(app, "b@acme.example.com").name == "Bob\nRay"

"""Roster import: upload a CSV, preview it, apply it once; who may do it."""

import io
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.audit.services import Actions
from portal.extensions import db
from portal.people.models import User
from portal.roster import services
from tests.helpers import count_queries, csrf_token, login, post
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


def test_upload_shows_a_preview_and_writes_nobody(app, client, acme):
    """Uploading shows what would happen to each row; no person is created yet."""
    login(client, acme["trainer"])
    before = people_count(app)
    data = csv_bytes(
        "ann@acme.example.com,Ann Lee,Voice,,2026-01-05,,", "bob@acme.example.com,Bob Ray,,,,,"
    )
    response = upload(client, data, acme["partner"].id)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Roster preview" in page and "ann@acme.example.com" in page
    assert page.count("New person") == 2
    assert "Apply this import" in page
    assert people_count(app) == before


def test_applying_creates_people_with_team_defaults_and_invites_them(app, client, acme, outbox):
    """Applying adds the new people with their team's language and time zone and emails them."""
    login(client, acme["trainer"])
    data = csv_bytes(
        "ann@acme.example.com,Ann Lee,voice,,2026-01-05,,", "bob@acme.example.com,Bob Ray,,,,,"
    )
    location = upload(client, data, acme["partner"].id).headers["Location"]
    response = post(client, f"{location}/apply", {"send_invitations": "y"}, token_from=location)
    assert response.status_code == 302
    page = client.get(location).get_data(as_text=True)
    assert "Roster applied: 2 new" in page
    ann, bob = person(app, "ann@acme.example.com"), person(app, "bob@acme.example.com")
    assert (ann.team_id, ann.role, ann.language, ann.timezone) == (
        acme["voice"].id,
        "agent",
        "lt",
        "Europe/Vilnius",
    )
    assert ann.hire_date == date(2026, 1, 5)
    assert (bob.team_id, bob.language, bob.timezone) == (None, "en", "Asia/Manila")
    assert sorted(m["To"] for m in outbox) == ["ann@acme.example.com", "bob@acme.example.com"]
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == Actions.ROSTER_IMPORTED)
        ).all()
        assert len(events) == 1 and events[0].details["new"] == 2


def test_applying_without_invitations_sends_no_mail(app, client, acme, outbox):
    """Unticking the invitation box creates the people without emailing them."""
    login(client, acme["trainer"])
    location = upload(
        client, csv_bytes("ann@acme.example.com,Ann,,,,,"), acme["partner"].id
    ).headers["Location"]
    post(client, f"{location}/apply", {}, token_from=location)
    assert person(app, "ann@acme.example.com") is not None
    assert outbox == []


def test_reimporting_the_same_file_changes_nothing(app, acme):
    """A second import of the same file shows every row unchanged and writes no change."""
    data = csv_bytes(
        "ann@acme.example.com,Ann Lee,Voice,trainer,2026-01-05,es,Europe/Madrid",
        "bob@acme.example.com,Bob Ray,,,,,",
    )
    first, _ = import_and_apply(app, acme["trainer"].id, acme["partner"].id, data)
    assert (first["new"], first["unchanged"]) == (2, 0)
    with app.app_context():
        events_before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    second, applied = import_and_apply(app, acme["trainer"].id, acme["partner"].id, data)
    assert (second["new"], second["updated"], second["unchanged"]) == (0, 0, 2)
    assert (applied["new"], applied["updated"]) == (0, 0)
    with app.app_context():
        events_after = db.session.scalar(select(func.count()).select_from(AuditEvent))
    assert events_after == events_before + 1  # only the import itself


def test_a_changed_row_updates_that_person(app, acme, make_user):
    """Changed cells update the person, and the preview lists each change."""
    make_user(
        role="agent",
        partner=acme["partner"],
        team=acme["chat"],
        email="ann@acme.example.com",
        name="Ann Lee",
        language="en",
        timezone="Asia/Manila",
    )
    data = csv_bytes("ANN@acme.example.com,Ann Lee-Park,Voice,trainer,2026-02-01,lt,Europe/Vilnius")
    rows = preview_rows(app, acme["trainer"].id, acme["partner"].id, data)
    assert rows[0]["action"] == "update"
    assert ["team", "Chat", "Voice"] in rows[0]["changes"]
    assert ["role", "agent", "trainer"] in rows[0]["changes"]
    _, applied = import_and_apply(app, acme["trainer"].id, acme["partner"].id, data)
    assert applied["updated"] == 1
    ann = person(app, "ann@acme.example.com")
    assert (ann.name, ann.team_id, ann.role, ann.hire_date, ann.language, ann.timezone) == (
        "Ann Lee-Park",
        acme["voice"].id,
        "trainer",
        date(2026, 2, 1),
        "lt",
        "Europe/Vilnius",
    )
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action)).all()
    assert Actions.ROLE_CHANGED in actions and Actions.PERSON_UPDATED in actions


def test_blank_cells_keep_an_existing_persons_values(app, acme, make_user):
    """Blank optional cells leave an existing person's team, role and dates as they are."""
    make_user(
        role="trainer",
        partner=acme["partner"],
        team=acme["chat"],
        email="ann@acme.example.com",
        name="Ann Lee",
        hire_date=date(2025, 3, 1),
    )
    rows = preview_rows(
        app, acme["trainer"].id, acme["partner"].id, csv_bytes("ann@acme.example.com,Ann Lee,,,,,")
    )
    assert rows[0]["action"] == "unchanged"


def test_preview_says_how_many_rows_will_be_skipped_and_filters_errors(app, client, acme):
    """The preview counts rows, warns that rows with errors are skipped, and can show only them."""
    login(client, acme["trainer"])
    rows = [f"p{i}@acme.example.com,Person {i},,,,," for i in range(240)]
    rows += [f"bad{i},Bad {i},,,,," for i in range(12)]
    location = upload(client, csv_bytes(*rows), acme["partner"].id).headers["Location"]
    page = client.get(location).get_data(as_text=True)
    assert "12 rows have errors and will be skipped" in page
    assert re.search(r'<div class="number">240</div><div class="label">new', page)
    assert page.count("<tr>") == 101  # the header and 100 rows a page
    last = client.get(f"{location}?page=3").get_data(as_text=True)
    assert "bad11" in last and "p0@acme.example.com" not in last
    errors_only = client.get(f"{location}?show=errors").get_data(as_text=True)
    assert "bad0" in errors_only and "p0@acme.example.com" not in errors_only


def test_trainer_cannot_import_into_another_partner(app, client, acme):
    """A trainer posting another partner's id is refused and nothing is stored."""
    login(client, acme["trainer"])
    response = upload(client, csv_bytes("a@acme.example.com,Ann,,,,,"), acme["other"].id)
    assert "Choose one of the partners you manage." in response.get_data(as_text=True)
    assert imports_count(app) == 0


def test_a_trainer_cannot_give_staff_roles(app, client, acme):
    """A trainer's rows giving prm or admin are errors, and applying makes no staff."""
    login(client, acme["trainer"])
    data = csv_bytes("a@acme.example.com,Ann,,prm,,,", "b@acme.example.com,Bob,,admin,,,")
    location = upload(client, data, acme["partner"].id).headers["Location"]
    page = client.get(location).get_data(as_text=True)
    assert "You cannot give the role" in page and "Apply this import" not in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(User.role.in_(["prm", "admin"]))) == 0


def test_prm_chooses_among_active_partners(app, client, acme, make_user, make_partner):
    """A PRM picks the partner; deactivated partners are not offered and are refused."""
    prm = make_user(role="prm", email="prm@company.example.com")
    paused = make_partner(slug="paused", name="Paused Inc", active=False)
    login(client, prm)
    page = client.get(URL).get_data(as_text=True)
    assert "Acme" in page and "Globex" in page and "Paused Inc" not in page
    response = upload(client, csv_bytes("a@acme.example.com,Ann,,,,,"), paused.id)
    assert "Paused Inc is deactivated" in response.get_data(as_text=True)
    response = upload(client, csv_bytes("a@acme.example.com,Ann,,,,,"), acme["partner"].id)
    assert response.status_code == 302


def test_another_partners_import_answers_404(app, client, acme, make_user):
    """A trainer cannot see or apply an import of another partner: both answer 404."""
    globex_trainer = make_user(role="trainer", partner=acme["other"])
    with app.app_context():
        actor = db.session.get(User, globex_trainer.id)
        other_import = services.create_import(
            actor, acme["other"].id, "g.csv", csv_bytes("x@globex.example.com,X,,,,,")
        )
        db.session.commit()
        import_id = other_import.id
    login(client, acme["trainer"])
    assert client.get(f"{URL}/{import_id}").status_code == 404
    response = post(client, f"{URL}/{import_id}/apply", {"send_invitations": "y"}, token_from=URL)
    assert response.status_code == 404
    assert person(app, "x@globex.example.com") is None


def test_agents_may_not_import(app, client, acme, make_user):
    """An agent gets 403 on the import pages, and 404 on any import's own page."""
    agent = make_user(role="agent", partner=acme["partner"])
    with app.app_context():
        actor = db.session.get(User, acme["trainer"].id)
        import_id = services.create_import(
            actor, acme["partner"].id, "r.csv", csv_bytes("a@acme.example.com,A,,,,,")
        ).id
        db.session.commit()
    login(client, agent)
    assert client.get(URL).status_code == 403
    assert client.get(f"{URL}/template.csv").status_code == 403
    assert client.get(f"{URL}/{import_id}").status_code == 404
    token = csrf_token(client, "/")
    assert client.post(URL, data={"csrf_token": token}).status_code == 403
    response = client.post(f"{URL}/{import_id}/apply", data={"csrf_token": token})
    assert response.status_code == 404
    assert person(app, "a@acme.example.com") is None


def test_upload_without_csrf_token_is_rejected(app, client, acme):
    """A forged upload without the form's CSRF token gets 400 and stores nothing."""
    login(client, acme["trainer"])
    data = {
        "partner_id": acme["partner"].id,
        "file": (io.BytesIO(csv_bytes("a@acme.example.com,A,,,,,")), "r.csv"),
    }
    response = client.post(URL, data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert imports_count(app) == 0


def test_an_import_applies_only_once(app, client, acme):
    """Applying the same import twice says it was already applied and changes nothing more."""
    login(client, acme["trainer"])
    location = upload(client, csv_bytes("a@acme.example.com,Ann,,,,,"), acme["partner"].id).headers[
        "Location"
    ]
    post(client, f"{location}/apply", {}, token_from=location)
    before = people_count(app)
    response = post(client, f"{location}/apply", {}, token_from=location, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "already applied" in page and "Apply this import" not in page
    assert people_count(app) == before
    with app.app_context():
        count = select(func.count()).where(AuditEvent.action == Actions.ROSTER_IMPORTED)
        assert db.session.scalar(count) == 1


def test_template_csv_downloads_and_imports(app, client, acme):
    """The template download is a CSV with the header and an example row that imports."""
    login(client, acme["trainer"])
    response = client.get(f"{URL}/template.csv")
    assert response.mimetype == "text/csv"
    assert response.get_data(as_text=True).lstrip("\ufeff").startswith(HEADER + "\r\n")
    rows = preview_rows(app, acme["trainer"].id, acme["partner"].id, response.get_data())
    assert [r["action"] for r in rows] == ["new"]


def test_preview_queries_do_not_grow_with_rows(app, acme, make_user):
    """Previewing 500 rows runs as many SQL statements as previewing 50."""
    for i in range(0, 500, 7):  # some rows update existing people
        make_user(
            role="agent", partner=acme["partner"], email=f"p{i}@acme.example.com", password=None
        )

    def statements(n):
        data = csv_bytes(*(f"p{i}@acme.example.com,P {i},Voice,,,," for i in range(n)))
        with count_queries(app) as counted, app.app_context():
            actor = db.session.get(User, acme["trainer"].id)
            services.create_import(actor, acme["partner"].id, "r.csv", data)
            db.session.commit()
        return counted()

    assert statements(500) <= statements(50) + 2


def test_five_thousand_rows_import(app, acme):
    """A 5,000-person roster previews and applies in one go."""
    data = csv_bytes(
        *(
            f"agent{i}@acme.example.com,Agent {i},{'Voice' if i % 2 else 'Chat'},,2026-01-05,,"
            for i in range(5000)
        )
    )
    preview, applied = import_and_apply(app, acme["trainer"].id, acme["partner"].id, data)
    assert preview["new"] == applied["new"] == 5000
    with app.app_context():
        total = select(func.count()).where(User.partner_id == acme["partner"].id)
        assert db.session.scalar(total) == 5001

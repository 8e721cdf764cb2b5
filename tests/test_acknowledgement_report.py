"""The per-document acknowledgement report and its CSV export."""

import csv
import io
import re
from types import SimpleNamespace

import pytest

from portal.acknowledgements import services
from portal.extensions import db
from portal.library import services as library
from portal.library.models import Document
from portal.people.models import User
from tests.helpers import count_queries, login


def publish_material_version(app, document_id, summary="Refund limit raised"):
    with app.app_context():
        document = db.session.get(Document, document_id)
        library.save_draft(
            None, document, title=document.title, body=f"New text: {summary}", summary=summary
        )
        library.publish(None, document)
        db.session.commit()


def acknowledge(app, person, document_id, typed_name=None):
    with app.app_context():
        document = db.session.get(Document, document_id)
        services.acknowledge(
            db.session.get(User, person.id),
            document,
            document.current_version_id,
            typed_name=typed_name,
        )
        db.session.commit()


def set_active(app, person, active):
    with app.app_context():
        db.session.get(User, person.id).active = active
        db.session.commit()


@pytest.fixture
def world(app, make_partner, make_team, make_user, make_document):
    """Two partners; a company playbook everyone must acknowledge, in every state of it."""
    w = SimpleNamespace()
    w.a = make_partner(name="Alpha BPO")
    w.b = make_partner(name="Bravo BPO")
    w.a_billing = make_team(partner=w.a, name="Alpha Billing")
    w.a_sales = make_team(partner=w.a, name="Alpha Sales")
    w.b_desk = make_team(partner=w.b, name="Bravo Desk")
    w.doc = make_document("Refund requests", requires_ack=True)

    def agent(name, partner, team):
        return make_user(role="agent", partner=partner, team=team, name=name)

    w.done = agent("Ada Done", w.a, w.a_billing)
    w.outdated = agent("Otto Outdated", w.a, w.a_billing)
    w.pending = agent("Pia Pending", w.a, w.a_sales)
    w.gone = agent("Gil Gone", w.a, w.a_sales)
    w.bravo_done = agent("Bea Bravo", w.b, w.b_desk)
    w.bravo_pending = agent("Bob Bravo", w.b, w.b_desk)
    w.trainer = make_user(role="trainer", partner=w.a, team=w.a_billing, name="Tess Trainer")
    w.prm = make_user(role="prm", name="Pam Prm")
    acknowledge(app, w.outdated, w.doc.id)
    acknowledge(app, w.gone, w.doc.id)
    publish_material_version(app, w.doc.id)
    for person in (w.done, w.bravo_done):
        acknowledge(app, person, w.doc.id)
    set_active(app, w.gone, False)
    return w


def report(client, document_id, query=""):
    response = client.get(f"/library/{document_id}/acknowledgements{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def stat(page, label):
    match = re.search(r'class="number">(\d+)</div><div class="label">' + label, page)
    assert match, f"no {label} figure"
    return int(match.group(1))


def rows(page):
    """Each row of the last table on the page, as text with whitespace collapsed."""
    body = page.split("<tbody>")[-1].split("</tbody>")[0]
    cells = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in cells]


def test_prm_sees_everyone_in_the_audience_with_their_status(client, world):
    """A PRM sees every partner's people, pending first, with version, time and method."""
    login(client, world.prm)
    page = report(client, world.doc.id)
    assert (stat(page, "acknowledged"), stat(page, "outdated"), stat(page, "pending")) == (2, 1, 3)
    listed = rows(page)
    assert [r.split()[0] for r in listed] == ["Bob", "Pia", "Tess", "Otto", "Ada", "Bea"]
    otto = next(r for r in listed if "Otto" in r)
    assert "Outdated" in otto and "Version 1" in otto and "Button" in otto
    ada = next(r for r in listed if "Ada" in r)
    assert "Acknowledged" in ada and "Version 2" in ada
    assert "Alpha BPO" in page and "Bravo BPO" in page
    assert not any("Gil Gone" in r for r in listed)  # deactivated: out of rows and counts
    assert not any("Pam Prm" in r for r in listed)  # staff are never in an audience


def test_staff_see_counts_per_partner(client, world):
    """The by-partner table gives each partner's acknowledged, outdated and pending figures."""
    login(client, world.prm)
    page = report(client, world.doc.id)
    by_partner = page.split("By partner")[1].split("</table>")[0]
    alpha, bravo = rows(by_partner)
    assert alpha.split() == ["Alpha", "BPO", "1", "1", "2", "25%"]
    assert bravo.split() == ["Bravo", "BPO", "1", "0", "1", "50%"]


def test_trainer_sees_only_their_partner(client, world):
    """A trainer's report, counts and filters hold their own partner's people only."""
    login(client, world.trainer)
    for query in ("", f"?partner={world.b.id}", f"?team={world.b_desk.id}"):
        page = report(client, world.doc.id, query)
        assert "Bravo" not in page, query
    page = report(client, world.doc.id)
    assert (stat(page, "acknowledged"), stat(page, "outdated"), stat(page, "pending")) == (1, 1, 2)
    assert "Pia Pending" in page and "By partner" not in page


def test_filters_by_partner_team_and_status(client, world):
    """Partner, team and status filters narrow the rows; the figures follow partner and team."""
    login(client, world.prm)
    page = report(client, world.doc.id, f"?partner={world.b.id}")
    assert [r.split()[0] for r in rows(page)] == ["Bob", "Bea"]
    page = report(client, world.doc.id, f"?team={world.a_billing.id}&status=outdated")
    assert [r.split()[0] for r in rows(page)] == ["Otto"]
    assert stat(page, "acknowledged") == 1 and stat(page, "pending") == 1
    page = report(client, world.doc.id, "?status=pending&team=nonsense&partner=x")
    assert [r.split()[0] for r in rows(page)] == ["Bob", "Pia", "Tess"]


def test_agents_and_outsiders_get_404(app, client, world, make_user, make_document):
    """Agents never see the report; a trainer gets 404 for another partner's document."""
    login(client, world.done)
    assert client.get(f"/library/{world.doc.id}/acknowledgements").status_code == 404
    assert client.get(f"/library/{world.doc.id}/acknowledgements.csv").status_code == 404
    bravo_trainer = make_user(role="trainer", partner=world.b, name="Tina Bravo")
    local = make_document("Bravo floor rules", author=bravo_trainer, requires_ack=True)
    client = app.test_client()
    login(client, world.trainer)
    assert client.get(f"/library/{local.id}/acknowledgements").status_code == 404
    assert client.get(f"/library/{local.id}/acknowledgements.csv").status_code == 404
    client = app.test_client()
    login(client, bravo_trainer)  # the control: their own document's report opens
    page = report(client, local.id)
    assert [r.split()[0] for r in rows(page)] == ["Bea", "Bob", "Tina"]
    assert client.get(f"/library/{local.id}/acknowledgements.csv").status_code == 200


def test_a_document_without_the_requirement_says_so(client, world, make_document):
    """A document that asks for no acknowledgement shows a clear message instead of a report."""
    notes = make_document("Release notes")
    login(client, world.prm)
    page = report(client, notes.id)
    assert "does not ask readers to acknowledge it" in page
    response = client.get(f"/library/{notes.id}/acknowledgements.csv")
    assert response.status_code == 302


def test_archived_documents_keep_their_acknowledgements(app, client, world):
    """Archiving a document leaves its report and acknowledgements as they were."""
    with app.app_context():
        library.archive(None, db.session.get(Document, world.doc.id))
        db.session.commit()
    login(client, world.prm)
    page = report(client, world.doc.id)
    assert "archived" in page
    assert (stat(page, "acknowledged"), stat(page, "outdated"), stat(page, "pending")) == (2, 1, 3)


def test_the_report_pages_and_its_query_count_does_not_grow(app, client, world, make_user):
    """A report of 6 or 36 people costs the same queries; it shows 25 a page."""
    login(client, world.prm)
    url = f"/library/{world.doc.id}/acknowledgements"
    with count_queries(app) as few:
        assert client.get(url).status_code == 200
    for n in range(30):
        person = make_user(role="agent", partner=world.b, team=world.b_desk, name=f"Extra {n:02}")
        if n % 3 == 0:
            acknowledge(app, person, world.doc.id)
    with count_queries(app) as many:
        page = client.get(url).get_data(as_text=True)
    assert many() == few()
    assert len(rows(page)) == 25 and "1–25 of 36" in page
    page = report(client, world.doc.id, "?page=2")
    assert len(rows(page)) == 11


def parse_csv(response):
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_csv_export_streams_the_filtered_report(client, world):
    """The CSV is a streamed attachment with a header, UTC ISO times and the report's filters."""
    login(client, world.prm)
    page = report(client, world.doc.id, f"?partner={world.a.id}")
    assert f"/library/{world.doc.id}/acknowledgements.csv?partner={world.a.id}" in page
    response = client.get(f"/library/{world.doc.id}/acknowledgements.csv?partner={world.a.id}")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv"
    assert re.fullmatch(
        r'attachment; filename="acknowledgements-refund-requests-\d{4}-\d\d-\d\d\.csv"',
        response.headers["Content-Disposition"],
    )
    header, *lines = parse_csv(response)
    assert header[0] == "Name" and "Acknowledged at (UTC)" in header
    assert [line[0] for line in lines] == [
        "Pia Pending",
        "Tess Trainer",
        "Otto Outdated",
        "Ada Done",
    ]
    ada = lines[-1]
    assert ada[2:6] == ["Alpha BPO", "Alpha Billing", "Acknowledged", "2"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", ada[6])
    assert ada[7] == "Button"
    assert lines[0][4:] == ["Pending", "", "", ""]


def test_trainer_csv_holds_only_their_partner(client, world):
    """A trainer's export, even when asking for another partner, lists their own people only."""
    login(client, world.trainer)
    response = client.get(f"/library/{world.doc.id}/acknowledgements.csv?partner={world.b.id}")
    names = [line[0] for line in parse_csv(response)[1:]]
    assert sorted(names) == ["Ada Done", "Otto Outdated", "Pia Pending", "Tess Trainer"]


def test_csv_cells_cannot_become_formulas(client, world, make_user):
    """Names that start like a spreadsheet formula are exported with a leading apostrophe."""
    for name in ("=HYPERLINK(1)", "+Plus", "-Minus", "@At"):
        make_user(role="agent", partner=world.b, team=world.b_desk, name=name)
    login(client, world.prm)
    response = client.get(f"/library/{world.doc.id}/acknowledgements.csv?status=pending")
    names = {line[0] for line in parse_csv(response)[1:]}
    assert {"'=HYPERLINK(1)", "'+Plus", "'-Minus", "'@At"} <= names
    assert "=HYPERLINK(1)" not in names

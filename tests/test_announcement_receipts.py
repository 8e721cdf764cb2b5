"""Receipts for the sender: counts and rates by partner and team, pending lists, CSV."""

import csv
import io

import pytest

from portal.announcements import reporting
from portal.announcements.models import Announcement
from portal.extensions import db
from portal.people.models import User
from tests import announcement_helpers
from tests.helpers import count_queries, login, post

make_announcement = announcement_helpers.make_announcement  # the fixture


@pytest.fixture
def floor(make_partner, make_team, make_user):
    """Two partners; A has two teams of agents, B one agent; one of A's agents has left."""
    a, b = make_partner(name="Alpha BPO"), make_partner(name="Bravo BPO")
    billing, chat = make_team(partner=a, name="Billing"), make_team(partner=a, name="Chat")
    return {
        "prm": make_user(role="prm"),
        "trainer_a": make_user(role="trainer", partner=a, team=billing, name="Tess Trainer"),
        "billing": [make_user(partner=a, team=billing, name=f"Bill {n}") for n in range(3)],
        "chat": [make_user(partner=a, team=chat, name=f"Chad {n}") for n in range(2)],
        "gone": make_user(partner=a, team=chat, name="Gone Gina", active=False),
        "b_agent": make_user(partner=b, name="Bravo Bob"),
    }


def _read_and_ack(client, person, announcement_id, *, ack):
    login(client, person)
    url = f"/announcements/{announcement_id}"
    assert client.get(url).status_code == 200
    if ack:
        post(client, f"{url}/acknowledge", token_from=url)
    post(client, "/logout")


def _counts(app, viewer, announcement_id):
    with app.app_context():
        return reporting.receipt_counts(
            db.session.get(User, viewer.id), db.session.get(Announcement, announcement_id)
        )


def test_counts_and_rates_by_partner_and_team(app, client, floor, make_announcement):
    """Read and acknowledged counts add up per team and partner; deactivated people are left out."""
    shown = make_announcement(author=floor["prm"], requires_ack=True, audience={"roles": ["agent"]})
    _read_and_ack(client, floor["billing"][0], shown.id, ack=True)
    _read_and_ack(client, floor["billing"][1], shown.id, ack=False)
    _read_and_ack(client, floor["b_agent"], shown.id, ack=True)
    totals, partners = _counts(app, floor["prm"], shown.id)
    assert (totals.people, totals.read, totals.acknowledged) == (6, 3, 2)
    assert totals.read_rate == 50
    alpha = partners[0]
    assert alpha.partner_name == "Alpha BPO"
    assert (alpha.counts.people, alpha.counts.read, alpha.counts.acknowledged) == (5, 2, 1)
    teams = {name: (c.people, c.read, c.acknowledged) for name, c in alpha.teams}
    assert teams == {"Billing": (3, 2, 1), "Chat": (2, 0, 0)}
    # A's trainer sees A only.
    totals, partners = _counts(app, floor["trainer_a"], shown.id)
    assert [p.partner_name for p in partners] == ["Alpha BPO"] and totals.people == 5


def test_pending_lists_and_csv(app, client, floor, make_announcement):
    """The page lists who has not read / acknowledged; the CSV has everyone with their times."""
    shown = make_announcement(author=floor["prm"], requires_ack=True, audience={"roles": ["agent"]})
    _read_and_ack(client, floor["billing"][0], shown.id, ack=False)
    login(client, floor["prm"])
    url = f"/announcements/{shown.id}/receipts"
    unread = client.get(url).get_data(as_text=True)
    assert "Bill 1" in unread and "Bravo Bob" in unread and "Bill 0" not in unread
    assert "Gone Gina" not in unread
    unacked = client.get(f"{url}?show=unacknowledged").get_data(as_text=True)
    assert "Bill 0" in unacked
    response = client.get(f"{url}.csv?show=all")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == list(reporting.CSV_HEADER)
    by_name = {row[0]: row for row in rows[1:]}
    assert set(by_name) == {"Bill 0", "Bill 1", "Bill 2", "Chad 0", "Chad 1", "Bravo Bob"}
    assert by_name["Bill 0"][4] and not by_name["Bill 0"][5] and not by_name["Bill 1"][4]


def test_trainer_receipts_show_their_partner_only(client, floor, make_announcement):
    """A trainer opening a company announcement's receipts sees none of B's people."""
    shown = make_announcement(author=floor["prm"])
    login(client, floor["trainer_a"])
    url = f"/announcements/{shown.id}/receipts?show=all"
    page = client.get(url).get_data(as_text=True)
    assert "Bill 0" in page and "Bravo" not in page
    assert "Bravo" not in client.get(url.replace("receipts", "receipts.csv")).get_data(as_text=True)


def test_agents_cannot_see_receipts(client, floor, make_announcement):
    """An agent in the audience gets 404 on the receipts page and its CSV."""
    shown = make_announcement(author=floor["prm"])
    login(client, floor["billing"][0])
    assert client.get(f"/announcements/{shown.id}/receipts").status_code == 404
    assert client.get(f"/announcements/{shown.id}/receipts.csv").status_code == 404


def test_receipts_page_query_count_is_flat(app, client, floor, make_user, make_announcement):
    """The receipts page costs the same queries for 6 people or 30."""
    shown = make_announcement(author=floor["prm"])
    login(client, floor["prm"])
    url = f"/announcements/{shown.id}/receipts?show=all"
    with count_queries(app) as few:
        client.get(url)
    for n in range(24):
        make_user(name=f"Extra {n}")
    with count_queries(app) as many:
        assert client.get(url).status_code == 200
    assert few() == many()

"""The trainer's onboarding board: who is on a path, how far, who is behind, page by page."""

import re
from datetime import timedelta

from portal.extensions import db
from portal.onboarding.enrolment import enrol_new_hires
from tests.helpers import count_queries, login
from tests.onboarding_page_helpers import (  # noqa: F401 - fixtures
    TODAY,
    frozen_noon_fixture,
    page,
    switch,
    words,
    world_fixture,
)


def board_rows(html: str) -> list[str]:
    """Each row of the board's table as text."""
    body = html.split("<tbody>")[-1].split("</tbody>")[0] if "<tbody>" in html else ""
    return [words(cell) for cell in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def grow(app, make_user, partner, team, count, *, start=0):
    """``count`` more new hires of ``partner``, hired yesterday (nothing overdue yet)."""
    for i in range(start, start + count):
        make_user(
            "agent",
            partner=partner,
            team=team,
            hire_date=TODAY - timedelta(days=1),
            name=f"Zed Hire {i:03d}",
        )
    with app.app_context():
        enrol_new_hires(today=TODAY)
        db.session.commit()


def test_the_board_shows_day_percent_overdue_and_status(client, world, app, make_user):
    """A row per person: day N of 90, percent done, overdue count and an at-risk badge."""
    grow(app, make_user, world.partner, world.team, 1)
    login(client, world.trainer)
    html = page(client, "/onboarding/board")
    ana, zed = board_rows(html)
    assert ana.startswith("Ana Reyes")
    assert "Billing" in ana and "Agent 90-day path" in ana and "23 of 90" in ana
    assert "0%" in ana and " 3 " in ana and "At risk" in ana
    assert "2 of 90" in zed and "On track" in zed
    assert "Northwind Support" not in ana  # a trainer's board has no partner column
    assert f'href="/onboarding/enrolments/{world.enrolment_id}"' in html
    assert "Enrol someone" in html
    at_risk = board_rows(page(client, "/onboarding/board?status=at_risk"))
    assert [r.split(" ")[0] for r in at_risk] == ["Ana"]
    on_track = board_rows(page(client, "/onboarding/board?status=on_track"))
    assert [r.split(" ")[0] for r in on_track] == ["Zed"]
    assert board_rows(page(client, "/onboarding/board?status=ready")) == []
    assert "No one matches these filters" in page(client, "/onboarding/board?status=ready")


def test_trainers_see_their_partner_prms_every_partner(
    client, world, app, make_user, make_partner, make_team
):
    """Another partner's people stay off a trainer's board; a PRM filters by partner."""
    elsewhere = make_partner(name="Contoso Care")
    grow(app, make_user, elsewhere, make_team(elsewhere), 2)
    login(client, world.trainer)
    assert len(board_rows(page(client, "/onboarding/board"))) == 1
    page(client, f"/onboarding/board?partner={elsewhere.id}", 404)
    switch(client, world.stranger)
    assert board_rows(page(client, "/onboarding/board")) == []
    switch(client, world.prm)
    assert len(board_rows(page(client, "/onboarding/board"))) == 3
    only = board_rows(page(client, f"/onboarding/board?partner={elsewhere.id}"))
    assert len(only) == 2 and all("Contoso Care" in r for r in only)
    assert len(board_rows(page(client, f"/onboarding/board?path={world.path_id}"))) == 3
    page(client, "/onboarding/board?path=999999", 404)


def test_the_board_paginates(client, world, app, make_user):
    """25 people a page, with the position shown; page 2 holds the rest."""
    grow(app, make_user, world.partner, world.team, 30)
    login(client, world.trainer)
    first = page(client, "/onboarding/board")
    assert len(board_rows(first)) == 25
    assert "1–25 of 31" in first
    assert board_rows(first)[0].startswith("Ana Reyes")  # the one at risk comes first
    assert len(board_rows(page(client, "/onboarding/board?page=2"))) == 6


def test_the_boards_statement_count_does_not_grow_with_people(client, world, app, make_user):
    """The board and a person's page cost the same statements for 4 people as for 40."""
    login(client, world.prm)
    urls = [
        "/onboarding/board",
        f"/onboarding/board?partner={world.partner.id}&status=on_track",
        "/onboarding/board?page=2",
        f"/onboarding/enrolments/{world.enrolment_id}",
    ]

    def counts():
        found = {}
        for url in urls:
            with count_queries(app) as n:
                assert client.get(url).status_code == 200
            found[url] = n()
        return found

    grow(app, make_user, world.partner, world.team, 3)
    small = counts()
    grow(app, make_user, world.partner, world.team, 37, start=3)
    assert counts() == small

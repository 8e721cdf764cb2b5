"""The business-review page: access, periods, escaping, cohorts and statement counts."""

from datetime import date

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.onboarding import enrolment as enrolling
from portal.people.models import User
from portal.training.models import Course
from tests import business_review_helpers
from tests.business_review_helpers import (
    JOINED,
    URL,
    _ack,
    _announcement,
    _complete,
    _document,
    _get,
    _receipts,
    at,
)
from tests.helpers import count_queries, login

world = business_review_helpers.world  # the fixture


def test_the_prm_sees_every_section_for_a_partner(client, world):
    """The PRM's page for Atlas: header, print button, both charts with tables, each section."""
    login(client, world["people"]["prm"])
    page = _get(client, f"{URL}?partner={world['atlas_id']}")
    assert "Business review: Atlas" in page
    assert "01 January 2026 to 31 March 2026" in page and "Generated 15 April 2026" in page
    assert "data-print" in page and "Print or save as PDF" in page
    assert page.count('role="img"') == 3  # trend, by partner, lag
    assert "Completion over time (weekly) by partner" in page
    for heading in (
        "1. Completion and overdue trend",
        "2. Acknowledgement lag after material changes",
        "3. Onboarding cohorts",
        "4. Announcement read rates",
        "5. The items most often late",
    ):
        assert heading in page
    assert '<div class="number">50.0</div>' in page and '<div class="number">506.6</div>' in page
    assert "Refund change" in page and "75%" in page and "Team lunch" not in page
    assert "Data privacy" in page
    assert "No onboarding path has been published" in page


def test_a_trainer_reviews_only_their_own_partner(app, client, world):
    """A trainer gets their own partner without asking (and with its id), no cross-partner
    chart; another partner, an unknown or a malformed id answer 404."""
    login(client, world["people"]["atlas trainer"])
    page = _get(client, URL)
    assert "Business review: Atlas" in page and "Costa" not in page
    assert "by partner" not in page and page.count('role="img"') == 2
    _get(client, f"{URL}?partner={world['atlas_id']}")
    for bad in (world["costa_id"], 99999, "x", "1.5"):
        _get(client, f"{URL}?partner={bad}", status=404)


def test_agents_are_refused_and_staff_choose_a_partner(app, client, world):
    """Agents get 403; an admin without a partner chosen is asked to choose one; an unknown
    partner is 404 for staff too; anonymous visitors are sent to sign in."""
    assert client.get(URL).status_code == 302
    login(client, world["people"]["a1"])
    assert client.get(URL).status_code == 403
    assert client.get(f"{URL}?partner={world['atlas_id']}").status_code == 403
    admin = app.test_client()
    login(admin, world["people"]["admin"])
    page = _get(admin, URL)
    assert "Choose a partner to see their business review" in page and 'role="img"' not in page
    _get(admin, f"{URL}?partner={world['costa_id']}")
    _get(admin, f"{URL}?partner=99999", status=404)


def test_a_bad_period_shows_a_message_and_computes_nothing(app, client, world):
    """A reversed range: a message next to the dates, status 400, no sections; the statements
    run are only those of choosing the partner, not the figures."""
    login(client, world["people"]["prm"])
    url = f"{URL}?partner={world['atlas_id']}&from=2026-03-31&to=2026-01-01"
    with count_queries(app) as refused:
        page = _get(client, url, status=400)
    assert "The period starts after it ends" in page and "is-invalid" in page
    assert "Nothing was computed" in page and "1. Completion" not in page
    with count_queries(app) as shown:
        _get(client, f"{URL}?partner={world['atlas_id']}")
    assert refused() < shown() - 5
    page = _get(client, f"{URL}?partner={world['atlas_id']}&from=2025-01-01&to=2026-03-31", 400)
    assert "at most 366 days" in page


def test_hostile_names_are_escaped_in_the_page_and_the_charts(app, client, world, make_partner):
    """A partner and an announcement named like a script appear as text, never as markup."""
    hostile = "<script>alert(1)</script>"
    partner = make_partner(name=hostile)
    with app.app_context():
        _announcement(hostile, at(2, 1))
        db.session.commit()
    login(client, world["people"]["prm"])
    page = _get(client, f"{URL}?partner={partner.id}")
    assert hostile not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    page = _get(client, f"{URL}?partner={world['atlas_id']}")  # the by-partner chart's legend
    assert hostile not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_cohorts_section_reuses_the_onboarding_cohorts(app, client, world):
    """With a published path, the page shows the partner's cohorts by hire month."""
    from tests.test_onboarding_cohorts import _path, _ready

    with app.app_context():
        db.session.execute(
            User.__table__.update()
            .where(User.id.in_([world["a2"], world["a3"]]))
            .values(hire_date=date(2026, 2, 2))
        )
        db.session.commit()
        _path()
        enrolling.enrol_new_hires(today=date(2026, 2, 10))
        _ready(world["atlas trainer"], world["a2"], date(2026, 2, 20))
        db.session.commit()
    login(client, world["people"]["prm"])
    page = _get(client, f"{URL}?partner={world['atlas_id']}")
    assert "Agent 90-day path" in page and "February 2026" in page
    # Two hired in February: a2 ready on day 19, a3 not; the median of those ready is 19.
    assert '<td class="text-end">19</td>' in page


def _grow(app, world, make_user, count):
    """``count`` more Atlas and Costa people who acknowledge, complete and read, and ``count``
    more documents and announcements."""
    with app.app_context():
        partners = [db.session.get(User, world[k]).partner for k in ("a1", "c1")]
        for partner in partners:
            db.session.expunge(partner)
    people = [
        make_user("agent", partner=partner, created_at=JOINED).id
        for partner in partners
        for _ in range(count)
    ]
    with app.app_context():
        course = db.session.scalars(select(Course)).first()
        for n in range(count):
            document = _document(f"Extra {count} {n}", [(at(1, 7 + n % 20), True)])
            news = _announcement(f"News {count} {n}", at(2, 1 + n % 20), requires_ack=True)
            for offset, person in enumerate(people):
                _ack(person, document, 1, at(1, 8 + n % 20, offset % 20))
                _receipts(news, read=[person], acked=[person] if offset % 2 else [])
        for person in people:
            _complete(person, course, at(3, 5))
        db.session.commit()


@pytest.mark.parametrize("viewer", ["prm", "atlas trainer"])
def test_the_statement_count_does_not_grow_with_people_or_items(
    app, client, world, make_user, viewer
):
    """The page costs the same statements with 2 more people and items as with 12 more."""
    login(client, world["people"][viewer])
    url = f"{URL}?partner={world['atlas_id']}"

    def statements():
        with count_queries(app) as n:
            _get(client, url)
        return n()

    _grow(app, world, make_user, 2)
    small = statements()
    _grow(app, world, make_user, 12)
    assert statements() == small

"""The PRM's onboarding cohorts: new hires by partner and hire month, comparable across partners."""

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.audiences.models import Audience
from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.onboarding import cohort_routes, cohorts, progress
from portal.onboarding import enrolment as enrolling
from portal.onboarding.models import (
    Enrolment,
    OnboardingPath,
    PathStatus,
    PathStep,
    PathVersion,
)
from portal.partners.models import Partner
from portal.people.models import User
from tests.helpers import count_queries, login

TODAY = date(2026, 3, 15)
URL = "/onboarding/cohorts"


def _path(title="Agent 90-day path", *, partner_id=None, status=PathStatus.PUBLISHED):
    """A path for everyone (or one partner): required tasks on days 5 and 20, optional day 60."""
    path = OnboardingPath(title=title, audience=Audience(), status=status, partner_id=partner_id)
    db.session.add(path)
    db.session.flush()
    version = PathVersion(path_id=path.id, number=1, published_at=datetime(2025, 12, 1, tzinfo=UTC))
    db.session.add(version)
    db.session.flush()
    for position, (day, required) in enumerate(((5, True), (20, True), (60, False))):
        db.session.add(
            PathStep(
                version_id=version.id,
                position=position,
                due_day=day,
                kind="task",
                title=f"Task on day {day}",
                required=required,
            )
        )
    path.current_version_id = version.id
    db.session.commit()
    return path


def _ready(trainer_id, user_id, on: date):
    """Sign off both required tasks of ``user_id``'s enrolment at noon on ``on``."""
    enrolment = db.session.scalars(select(Enrolment).where(Enrolment.user_id == user_id)).one()
    steps = db.session.scalars(
        select(PathStep).where(PathStep.version_id == enrolment.version_id, PathStep.required)
    ).all()
    at = datetime.combine(on, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    for step in steps:
        progress.sign_off(db.session.get(User, trainer_id), enrolment, step, comment="Done", now=at)


@pytest.fixture
def world(app, make_user, make_partner, monkeypatch):
    """Two partners' new hires on one path, as of TODAY (15 March 2026)."""
    monkeypatch.setattr(cohort_routes, "_today", lambda: TODAY)
    atlas, costa = make_partner(name="Atlas"), make_partner(name="Costa")
    people = {"prm": make_user("prm"), "admin": make_user("admin")}
    for key, partner in (("atlas", atlas), ("costa", costa)):
        people[f"{key} trainer"] = make_user("trainer", partner=partner, hire_date=None)
        people[f"{key} agent"] = make_user("agent", partner=partner, hire_date=None)
    hires = {
        "a1": (atlas, date(2026, 1, 5)),  # ready on 20 January: day 16
        "a2": (atlas, date(2026, 1, 10)),  # nothing done: at risk
        "a3": (atlas, date(2026, 3, 12)),  # day 4, nothing due yet: on track
        "a4": (atlas, date(2026, 2, 1)),  # ready on 10 February: day 10
        "gone": (atlas, date(2026, 1, 6)),  # deactivated since: counted nowhere
        "c1": (costa, date(2026, 1, 15)),  # ready on 15 February: day 32
        "c2": (costa, date(2026, 2, 3)),  # at risk
    }
    for key, (partner, hired) in hires.items():
        people[key] = make_user("agent", partner=partner, hire_date=hired)
    with app.app_context():
        path = _path()
        enrolling.enrol_new_hires(today=TODAY)
        _ready(people["atlas trainer"].id, people["a1"].id, date(2026, 1, 20))
        _ready(people["atlas trainer"].id, people["a4"].id, date(2026, 2, 10))
        _ready(people["costa trainer"].id, people["c1"].id, date(2026, 2, 15))
        db.session.get(User, people["gone"].id).active = False
        db.session.commit()
        people["path"] = path.id
    people["atlas_id"], people["costa_id"] = atlas.id, costa.id
    return people


def _figures(cohort):
    return (cohort.people, cohort.on_track, cohort.at_risk, cohort.ready, cohort.median_days)


def _table(app, viewer, world, **filters):
    filters.setdefault("first_month", date(2025, 10, 1))
    filters.setdefault("last_month", date(2026, 3, 1))
    with app.app_context():
        viewer = db.session.get(User, viewer.id)
        return cohorts.cohort_table(viewer, cohorts.Filters(world["path"], **filters), TODAY)


def test_cohorts_by_partner_and_hire_month_with_medians(app, world):
    """Each partner's hire months count on track, at risk and ready people with the median
    days to production-ready; partner totals and all partners add up; the deactivated are out."""
    everyone, partners = _table(app, world["prm"], world)
    assert [p.partner_name for p in partners] == ["Atlas", "Costa"]
    atlas, costa = partners
    assert [(m, _figures(c)) for m, c in atlas.months] == [
        (date(2026, 1, 1), (2, 0, 1, 1, 16)),
        (date(2026, 2, 1), (1, 0, 0, 1, 10)),
        (date(2026, 3, 1), (1, 1, 0, 0, None)),
    ]
    assert _figures(atlas.total) == (4, 1, 1, 2, 13)
    assert [(m, _figures(c)) for m, c in costa.months] == [
        (date(2026, 1, 1), (1, 0, 0, 1, 32)),
        (date(2026, 2, 1), (1, 0, 1, 0, None)),
    ]
    assert _figures(everyone) == (6, 1, 2, 3, 16)


def test_months_and_partner_narrow_the_cohorts(app, world):
    """A month range keeps the people whose day 1 is in it; a partner filter keeps one partner."""
    everyone, partners = _table(
        app, world["prm"], world, first_month=date(2026, 2, 1), last_month=date(2026, 2, 1)
    )
    assert [(p.partner_name, len(p.months)) for p in partners] == [("Atlas", 1), ("Costa", 1)]
    assert _figures(everyone) == (2, 0, 1, 1, 10)
    everyone, partners = _table(app, world["prm"], world, partner_id=world["costa_id"])
    assert [p.partner_name for p in partners] == ["Costa"]
    assert everyone.people == 2


def test_a_trainer_counts_only_their_own_partner(app, world):
    """A trainer's cohorts are their own partner's, whatever they ask for."""
    everyone, partners = _table(app, world["costa trainer"], world)
    assert [p.partner_name for p in partners] == ["Costa"]
    assert _figures(everyone) == (2, 0, 1, 1, 32)
    everyone, partners = _table(app, world["costa trainer"], world, partner_id=world["atlas_id"])
    assert partners == [] and everyone.people == 0


@pytest.mark.parametrize(
    "first, last, today, expected",
    [
        ("", "", date(2026, 3, 15), (date(2025, 10, 1), date(2026, 3, 1))),
        ("2026-01", "", date(2026, 3, 15), (date(2026, 1, 1), date(2026, 3, 1))),
        ("", "2025-12", date(2026, 3, 15), (date(2025, 7, 1), date(2025, 12, 1))),
        ("2026-05", "", date(2026, 3, 15), (date(2026, 5, 1), date(2026, 5, 1))),
    ],
)
def test_month_range_defaults(first, last, today, expected):
    """An empty range is the last six months; one end given, the other follows from it."""
    assert cohorts.parse_months(first, last, today) == expected


@pytest.mark.parametrize(
    "first, last, field, message",
    [
        ("2026-03", "2026-01", "from", "starts after it ends"),
        ("March", "", "from", "e.g. 2026-03"),
        ("", "2026-13", "to", "e.g. 2026-03"),
        ("2020-01", "2026-01", "from", "at most 36 months"),
    ],
)
def test_bad_month_ranges_are_refused_with_a_message(first, last, field, message):
    """A reversed, unreadable or too long month range gets a message naming the field."""
    with pytest.raises(InvalidInput) as refusal:
        cohorts.parse_months(first, last, TODAY)
    assert message in refusal.value.errors[field]


# --- the page ---------------------------------------------------------------------------------


def _page(client, url=URL, status=200):
    response = client.get(url)
    assert response.status_code == status, url
    return response.get_data(as_text=True)


def _row(partner):
    return f'<th scope="row">{partner}</th>'


def test_the_prm_compares_partners_on_the_page(client, world):
    """The PRM sees every partner's months, partner totals and the all-partners row."""
    login(client, world["prm"])
    page = _page(client)
    assert "Agent 90-day path" in page
    for text in (
        _row("Atlas"),
        _row("Costa"),
        "January 2026",
        "February 2026",
        "March 2026",
        _row("All partners"),
    ):
        assert text in page
    # 6 people, 1 on track, 2 at risk, 3 ready, median 16 days: the summary cards
    assert '<div class="number">6</div>' in page and '<div class="number">16</div>' in page
    page = _page(client, f"{URL}?partner={world['costa_id']}")
    assert _row("Costa") in page and _row("Atlas") not in page and _row("All partners") not in page


def test_a_trainer_sees_only_their_partner_and_agents_are_refused(app, client, world):
    """A trainer's page shows only their partner; an agent gets 403."""
    login(client, world["atlas trainer"])
    page = _page(client)
    assert _row("Atlas") in page and "Costa" not in page and _row("All partners") not in page
    assert "Showing Atlas&#39;s people only" in page or "Showing Atlas's people only" in page
    client = app.test_client()
    login(client, world["atlas agent"])
    assert client.get(URL).status_code == 403
    assert client.get(f"{URL}.csv").status_code == 403


@pytest.mark.parametrize("viewer", ["atlas trainer", "prm"])
def test_filters_naming_what_the_viewer_cannot_see_answer_404(app, client, world, viewer):
    """Another partner (for a trainer), an unknown partner or path, or another partner's local
    path all answer 404, like their ids would."""
    with app.app_context():
        other_local = _path("Costa local path", partner_id=world["costa_id"]).id
    login(client, world[viewer])
    urls = [f"{URL}?partner=99999", f"{URL}?path=99999", f"{URL}?partner=x"]
    if viewer == "atlas trainer":
        urls += [f"{URL}?partner={world['costa_id']}", f"{URL}?path={other_local}"]
        assert client.get(f"{URL}?partner={world['atlas_id']}").status_code == 200
    else:
        assert client.get(f"{URL}?path={other_local}").status_code == 200
    for url in urls:
        assert client.get(url).status_code == 404, url
        assert client.get(url.replace(URL, f"{URL}.csv")).status_code == 404, url


def test_a_reversed_month_range_shows_a_message(client, world):
    """From after to: the page says so next to the field and shows no table."""
    login(client, world["prm"])
    page = _page(client, f"{URL}?from=2026-03&to=2026-01", status=400)
    assert "The range starts after it ends" in page and "is-invalid" in page
    assert _row("All partners") not in page
    assert client.get(f"{URL}.csv?from=2026-03&to=2026-01").status_code == 400


def test_a_draft_path_is_not_offered_and_no_path_shows_an_empty_page(app, client, world):
    """Only published (or archived) paths have cohorts; without one the page says so."""
    with app.app_context():
        db.session.execute(
            OnboardingPath.__table__.update().values(
                current_version_id=None, status=PathStatus.DRAFT
            )
        )
        db.session.commit()
    login(client, world["prm"])
    page = _page(client)
    assert "No onboarding path has been published yet" in page
    assert client.get(f"{URL}?path={world['path']}").status_code == 404


def test_the_csv_holds_the_table(client, world):
    """The CSV has each partner's months, the partner total and the all-partners row."""
    login(client, world["prm"])
    response = client.get(f"{URL}.csv?from=2026-01&to=2026-03")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:3] == ["Partner", "Hire month", "People"]
    assert ["Atlas", "2026-01", "2", "0", "1", "1", "16"] in rows
    assert ["Atlas", "All months", "4", "1", "1", "2", "13"] in rows
    assert rows[-1] == ["All partners", "All months", "6", "1", "2", "3", "16"]


def _grow(app, world, make_user, count, start):
    """``count`` more new hires at each partner, half of them ready."""
    partners = {"atlas": world["atlas_id"], "costa": world["costa_id"]}
    with app.app_context():
        partners = {k: db.session.get(Partner, v) for k, v in partners.items()}
        db.session.expunge_all()
    for n in range(count):
        for key, partner in partners.items():
            hired = start + timedelta(days=n % 40)
            person = make_user("agent", partner=partner, hire_date=hired)
            with app.app_context():
                enrolling.enrol_new_hires(today=TODAY, user_ids=[person.id])
                if n % 2:
                    _ready(world[f"{key} trainer"].id, person.id, hired + timedelta(days=25))
                db.session.commit()


@pytest.mark.parametrize("viewer", ["prm", "costa trainer"])
def test_the_statement_count_does_not_grow_with_people(app, client, world, make_user, viewer):
    """The page and the CSV cost the same statements for 2 more people as for 20 more."""
    login(client, world[viewer])
    urls = [URL, f"{URL}.csv", f"{URL}?from=2026-01&to=2026-02"]

    def counts():
        found = {}
        for url in urls:
            with count_queries(app) as n:
                assert client.get(url).status_code == 200
            found[url] = n()
        return found

    _grow(app, world, make_user, 1, date(2026, 1, 2))
    small = counts()
    _grow(app, world, make_user, 10, date(2026, 1, 2))
    assert counts() == small

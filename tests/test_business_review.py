"""The business-review page: one partner's quarter, printable, with exact figures per section."""

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.announcements.models import (
    Announcement,
    AnnouncementAck,
    AnnouncementRead,
    AnnouncementStatus,
)
from portal.audiences.models import Audience, AudiencePartner
from portal.compliance import review, review_lag, review_routes
from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.library.models import Acknowledgement, Document, DocumentVersion
from portal.onboarding import enrolment as enrolling
from portal.people.models import User
from portal.training.models import Completion, Course, Requirement
from tests.helpers import count_queries, login

NOW = datetime(2026, 4, 15, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
Q1 = review.Period(date(2026, 1, 1), date(2026, 3, 31))
URL = "/reports/review"
JOINED = datetime(2025, 12, 1, tzinfo=UTC)
_codes = itertools.count(1)


def at(month, day, hour=9):
    return datetime(2026, month, day, hour, tzinfo=UTC)


def _document(title, versions, *, requires_ack=True):
    """A company-wide document for everyone; ``versions`` are (published_at, material)."""
    document = Document(
        slug=title.lower().replace(" ", "-"),
        title=title,
        kind="policy",
        status="published",
        audience=Audience(),
        requires_ack=requires_ack,
    )
    db.session.add(document)
    db.session.flush()
    for number, (published_at, material) in enumerate(versions, start=1):
        version = DocumentVersion(
            document_id=document.id,
            number=number,
            title=title,
            body="Text",
            html="<p>Text</p>",
            summary="Change",
            change_level="material" if material else "minor",
            published_at=published_at,
        )
        db.session.add(version)
        db.session.flush()
        document.current_version_id = version.id
        if material:
            document.ack_from_number = number
    db.session.flush()
    return document


def _ack(person_id, document, number, when):
    version_id = db.session.scalar(
        select(DocumentVersion.id).where(
            DocumentVersion.document_id == document.id, DocumentVersion.number == number
        )
    )
    db.session.add(
        Acknowledgement(
            user_id=person_id,
            document_id=document.id,
            version_id=version_id,
            version_number=number,
            acknowledged_at=when,
        )
    )


def _complete(person_id, course, when):
    db.session.add(
        Completion(
            user_id=person_id,
            course_id=course.id,
            sequence=1,
            course_version=1,
            completed_at=when,
            verification_code=f"CODE{next(_codes)}",
        )
    )


def _announcement(title, published_at, *, requires_ack=False, partner_ids=(), **extra):
    audience = Audience(partner_links=[AudiencePartner(partner_id=p) for p in partner_ids])
    announcement = Announcement(
        title=title,
        body="News",
        html="<p>News</p>",
        audience=audience,
        status=extra.pop("status", AnnouncementStatus.PUBLISHED),
        publish_at=published_at,
        published_at=published_at,
        requires_ack=requires_ack,
        **extra,
    )
    db.session.add(announcement)
    db.session.flush()
    return announcement


def _receipts(announcement, read=(), acked=()):
    for person_id in read:
        db.session.add(
            AnnouncementRead(
                user_id=person_id, announcement_id=announcement.id, read_at=announcement.publish_at
            )
        )
    for person_id in acked:
        db.session.add(
            AnnouncementAck(
                user_id=person_id,
                announcement_id=announcement.id,
                acknowledged_at=announcement.publish_at + timedelta(days=1),
            )
        )


@pytest.fixture
def world(app, make_user, make_partner, monkeypatch):
    """Atlas (trainer and three agents, one more deactivated) and Costa, over Q1 2026.

    Refund policy: material v2 on 5 Jan and v4 on 2 Feb (v3 minor). Lags (hours): v2 a1 2,
    a2 30, a3 363 (acked v3), trainer 722 (acked v4); v4 a1 4, trainer 50, a3 100, a2 never.
    Data privacy course due 1 March: a1 and a2 complete it late, a3 and the trainer never.
    Refund change announcement (acknowledge by 19 Jan): read by a1-a3, acknowledged by a1, a2.
    """
    monkeypatch.setattr(review_routes, "_now", lambda: NOW)
    atlas, costa = make_partner(name="Atlas"), make_partner(name="Costa")
    people = {"prm": make_user("prm"), "admin": make_user("admin")}
    for key, partner in (("atlas", atlas), ("costa", costa)):
        people[f"{key} trainer"] = make_user("trainer", partner=partner, created_at=JOINED)
        people[f"{key} agent"] = make_user("agent", partner=partner, created_at=JOINED)
    for key in ("a2", "a3", "gone"):
        people[key] = make_user("agent", partner=atlas, created_at=JOINED)
    people["a1"] = people["atlas agent"]
    people["c1"] = people["costa agent"]
    ids = {key: person.id for key, person in people.items()}
    t, a1, a2, a3 = ids["atlas trainer"], ids["a1"], ids["a2"], ids["a3"]
    with app.app_context():
        policy = _document(
            "Refund policy",
            [(datetime(2025, 11, 1, tzinfo=UTC), True), (at(1, 5), True), (at(1, 20), False)]
            + [(at(2, 2), True)],
        )
        _document("Brand guide", [(at(1, 10), True)], requires_ack=False)
        _ack(a1, policy, 1, datetime(2025, 11, 2, tzinfo=UTC))
        _ack(a1, policy, 2, at(1, 5, 11))
        _ack(a2, policy, 2, at(1, 6, 15))
        _ack(a3, policy, 3, at(1, 20, 12))
        _ack(a1, policy, 4, at(2, 2, 13))
        _ack(t, policy, 4, at(2, 4, 11))
        _ack(a3, policy, 4, at(2, 6, 13))
        _ack(ids["gone"], policy, 4, at(2, 3))
        _ack(ids["c1"], policy, 2, at(1, 5, 10))
        course = Course(slug="data-privacy", title="Data privacy", status="published")
        course.audience = Audience()
        db.session.add(course)
        db.session.flush()
        db.session.add(
            Requirement(
                kind="course",
                course_id=course.id,
                audience=Audience(),
                due_rule="fixed_date",
                due_on=date(2026, 3, 1),
                created_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
        )
        _complete(a1, course, at(3, 10))
        _complete(a2, course, at(3, 11))
        _complete(ids["gone"], course, at(3, 10))
        _complete(ids["c1"], course, at(3, 12))
        change = _announcement(
            "Refund change", at(1, 12), requires_ack=True, effective_on=date(2026, 1, 19)
        )
        _receipts(change, read=(a1, a2, a3), acked=(a1, a2))
        _announcement("Team lunch", at(2, 20), partner_ids=[costa.id])
        hours = _announcement("Holiday hours", at(3, 2))
        _receipts(hours, read=(t,))
        _announcement("Old news", datetime(2025, 12, 15, tzinfo=UTC))
        _announcement("Draft news", at(3, 3), status=AnnouncementStatus.DRAFT)
        db.session.get(User, ids["gone"]).active = False
        db.session.commit()
    ids.update(atlas_id=atlas.id, costa_id=costa.id, people=people)
    return ids


def _in_app(app, call, *args):
    with app.app_context():
        return call(*args)


# --- the figures --------------------------------------------------------------------------------


def test_weekly_done_and_overdue_trend(app, world):
    """Each week counts the partner's active people's acknowledgements and completions, and the
    required items that went overdue (due that week, not done by the due day)."""
    done = _in_app(app, review.weekly_done, Q1, [world["atlas_id"], world["costa_id"]])
    atlas = done[world["atlas_id"]]
    assert len(atlas) == 14  # Monday 29 Dec 2025 to Monday 30 Mar 2026
    assert [(i, w.acknowledgements, w.completions) for i, w in enumerate(atlas) if w.done] == [
        (1, 2, 0),
        (3, 1, 0),
        (5, 3, 0),
        (10, 0, 2),
    ]
    costa = done[world["costa_id"]]
    assert [(i, w.done) for i, w in enumerate(costa) if w.done] == [(1, 1), (10, 1)]
    overdue = _in_app(app, review.weekly_overdue, Q1, world["atlas_id"], TODAY)
    # The announcement (due 19 Jan): trainer and a3; the policy (due 16 Feb): a2; the course
    # (due Sunday 1 March, week of 23 Feb): all four.
    assert {i: n for i, n in enumerate(overdue) if n} == {3: 2, 7: 1, 8: 4}


def test_acknowledgement_lag_median_percentile_and_buckets(app, world):
    """Material versions in the period: median and 90th percentile hours, and the histogram."""
    lag = _in_app(app, review_lag.acknowledgement_lag, Q1, world["atlas_id"])
    assert lag.versions == 2 and lag.asked == 8
    assert [round(h, 3) for h in lag.hours] == [2, 4, 30, 50, 100, 363, 722]
    assert lag.median == 50
    assert lag.p90 == pytest.approx(506.6)
    assert lag.buckets == [
        ("0–4 hours", 1),
        ("4–24 hours", 1),  # exactly four hours is in the second bucket
        ("1–3 days", 2),
        ("3–7 days", 1),
        ("1–2 weeks", 0),
        ("Over 2 weeks", 2),
        ("Not yet", 1),
    ]


def test_lag_leaves_out_people_who_joined_after_the_change(app, world, make_user):
    """Someone whose account was made after a material version is not counted for it."""
    with app.app_context():
        atlas_partner = db.session.get(User, world["a1"]).partner
        db.session.expunge(atlas_partner)
    newbie = make_user("agent", partner=atlas_partner, created_at=at(2, 10))
    with app.app_context():
        policy = db.session.scalars(select(Document).where(Document.title == "Refund policy")).one()
        _ack(newbie.id, policy, 4, at(2, 11))
        db.session.commit()
    lag = _in_app(app, review_lag.acknowledgement_lag, Q1, world["atlas_id"])
    assert lag.asked == 8 and lag.median == 50


def test_percentile_interpolates_like_percentile_cont():
    """The 90th percentile of 1..10 is 9.1; one value is its own percentile; none is None."""
    assert review_lag.percentile(list(range(1, 11)), 0.9) == pytest.approx(9.1)
    assert review_lag.percentile([7.0], 0.9) == 7.0
    assert review_lag.percentile([], 0.5) is None


def test_announcement_read_rates(app, world):
    """Announcements published in the period to the partner's people: sent, opened, acked."""
    rows = _in_app(app, review.announcement_reads, Q1, world["atlas_id"])
    figures = [(r.title, r.sent, r.opened, r.read_rate, r.acknowledged, r.ack_rate) for r in rows]
    assert figures == [
        ("Refund change", 4, 3, 75, 2, 50),
        ("Holiday hours", 4, 1, 25, 0, None),
    ]
    totals = review.read_totals(rows)
    assert (totals.sent, totals.opened, totals.read_rate, totals.ack_rate) == (8, 4, 50, 50)


def test_items_most_often_late(app, world):
    """The items due in the period most people were late on, most first, with their kind."""
    late = _in_app(app, review.most_late, Q1, world["atlas_id"], TODAY)
    assert [(i.kind_label, i.title, i.people) for i in late] == [
        ("Course", "Data privacy", 4),
        ("Announcement", "Refund change", 2),
        ("Document", "Refund policy", 1),
    ]


@pytest.mark.parametrize(
    "today, expected",
    [
        (date(2026, 4, 15), (date(2026, 1, 1), date(2026, 3, 31))),
        (date(2026, 1, 1), (date(2025, 10, 1), date(2025, 12, 31))),
        (date(2026, 12, 31), (date(2026, 7, 1), date(2026, 9, 30))),
        (date(2026, 8, 2), (date(2026, 4, 1), date(2026, 6, 30))),
    ],
)
def test_the_default_period_is_the_last_full_quarter(today, expected):
    """No dates given: the calendar quarter before today's."""
    period = review.parse_period("", "", today)
    assert (period.start, period.end) == expected


@pytest.mark.parametrize(
    "first, last, field, message",
    [
        ("2026-03-31", "2026-01-01", "from", "starts after it ends"),
        ("2026-01-01", "", "to", "Give both"),
        ("1 January", "2026-03-31", "from", "e.g. 2026-03-31"),
        ("2026-01-01", "2026-02-30", "to", "e.g. 2026-03-31"),
        ("2024-01-01", "2026-03-31", "from", "at most 366 days"),
        ("2026-05-01", "2026-06-30", "from", "starts in the future"),
        ("1900-01-01", "1900-03-31", "from", "from 2000 on"),
    ],
)
def test_bad_periods_are_refused_with_a_message(first, last, field, message):
    """A reversed, half-given, unreadable, too long, future or ancient period is refused."""
    with pytest.raises(InvalidInput) as refusal:
        review.parse_period(first, last, TODAY)
    assert message in refusal.value.errors[field]


# --- the page -----------------------------------------------------------------------------------


def _get(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, url
    return response.get_data(as_text=True)


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

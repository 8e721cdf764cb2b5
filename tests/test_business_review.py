"""The business-review figures: one partner's quarter, exact numbers per section."""

from datetime import date

import pytest
from sqlalchemy import select

from portal.compliance import review, review_lag
from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.library.models import Document
from portal.people.models import User
from tests import business_review_helpers
from tests.business_review_helpers import (
    Q1,
    TODAY,
    _ack,
    _in_app,
    at,
)

world = business_review_helpers.world  # the fixture

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

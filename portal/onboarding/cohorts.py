"""The PRM's cohorts: new hires on a path, by partner and hire month, comparable across partners.

A cohort is the active people of one partner whose day 1 on the path (their enrolment's start
date) falls in one month. Each person is in exactly one state as of today: production-ready
(every required step done), at risk (not ready and a step past its due day) or on track (the
rest, including people who have not started yet). For those who are ready, the days it took
are counted from day 1 (ready on the start day is day 1), and the median is compared.

Counting happens in SQL over :func:`portal.onboarding.progress.enrolment_rows`: one grouped
statement gives every (partner, month) cell and one more the ready days the medians come
from, whatever the number of people. Staff see every active partner; a trainer only their
own. Deactivated people and people of deactivated partners are left out.
"""

import csv
import io
import statistics
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Integer, Select, and_, cast, extract, false, func, or_, select

from portal.acknowledgements.reporting import safe_cell
from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.onboarding.models import Enrolment, OnboardingPath, PathStatus
from portal.onboarding.progress import enrolment_rows
from portal.partners.models import Partner
from portal.people.models import User
from portal.training.requirements import day_of

# The month range shown when none is asked for: this month and the five before it.
DEFAULT_MONTHS = 6
MAX_MONTHS = 36


def month_start(value: date) -> date:
    return value.replace(day=1)


def add_months(month: date, count: int) -> date:
    """The first day of the month ``count`` months after ``month`` (before, if negative)."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def months_between(first: date, last: date) -> int:
    """How many months from ``first`` to ``last``, both included."""
    return (last.year - first.year) * 12 + last.month - first.month + 1


def _parse_month(text: str | None, label: str, errors: dict, key: str) -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        year, month = (int(part) for part in text.split("-"))
        return date(year, month, 1)
    except ValueError:
        errors[key] = f"Give the “{label}” month as year and month, e.g. 2026-03."
        return None


def parse_months(from_text: str | None, to_text: str | None, today: date) -> tuple[date, date]:
    """The (first, last) months asked for, as first days; InvalidInput for a bad range.

    Empty means the default: the last :data:`DEFAULT_MONTHS` months up to this one.
    """
    errors = {}
    first = _parse_month(from_text, "from", errors, "from")
    last = _parse_month(to_text, "to", errors, "to")
    if errors:
        raise InvalidInput(errors)
    if last is None:
        last = max(month_start(today), first) if first else month_start(today)
    if first is None:
        first = add_months(last, 1 - DEFAULT_MONTHS)
    if first > last:
        raise InvalidInput(
            {
                "from": (
                    f"The range starts after it ends ({first:%B %Y} is after {last:%B %Y}); "
                    "choose a “from” month before the “to” month."
                )
            }
        )
    if months_between(first, last) > MAX_MONTHS:
        raise InvalidInput({"from": f"Choose at most {MAX_MONTHS} months at a time."})
    return first, last


@dataclass(frozen=True)
class Filters:
    """What the cohort table is narrowed to."""

    path_id: int
    first_month: date
    last_month: date
    partner_id: int | None = None

    def args(self) -> dict:
        """The filters as URL arguments, for links that keep them (CSV)."""
        values = {
            "path": self.path_id,
            "partner": self.partner_id,
            "from": f"{self.first_month:%Y-%m}",
            "to": f"{self.last_month:%Y-%m}",
        }
        return {name: value for name, value in values.items() if value is not None}


@dataclass
class Cohort:
    """How a group of new hires stands today."""

    people: int = 0
    on_track: int = 0
    at_risk: int = 0
    ready: int = 0
    ready_days: list[int] = field(default_factory=list)

    @property
    def median_days(self) -> float | None:
        """The median days from day 1 to production-ready of those who are; None if nobody is."""
        return statistics.median(self.ready_days) if self.ready_days else None

    def add(self, other: "Cohort") -> None:
        self.people += other.people
        self.on_track += other.on_track
        self.at_risk += other.at_risk
        self.ready += other.ready
        self.ready_days += other.ready_days


@dataclass
class PartnerCohorts:
    """One partner's cohorts by hire month (oldest first) and their total."""

    partner_id: int
    partner_name: str
    total: Cohort = field(default_factory=Cohort)
    months: list[tuple[date, Cohort]] = field(default_factory=list)


def cohort_paths(viewer) -> Select:
    """SQL select of the paths whose cohorts ``viewer`` may see: ever published, company-wide
    or (for a trainer) local to their own partner; staff see every partner's."""
    stmt = select(OnboardingPath).where(OnboardingPath.current_version_id.is_not(None))
    if viewer.is_staff:
        return stmt
    if viewer.partner_id is None:
        return stmt.where(false())
    return stmt.where(
        or_(OnboardingPath.partner_id.is_(None), OnboardingPath.partner_id == viewer.partner_id)
    )


def default_path(paths: list[OnboardingPath]) -> OnboardingPath | None:
    """The path shown when none is chosen: the first published one, else the first at all."""
    published = [p for p in paths if p.status == PathStatus.PUBLISHED]
    return (published or paths or [None])[0]


def _scope(viewer, filters: Filters):
    """Conditions on Enrolment: the path, the months, and active people of partners in scope."""
    people = select(User.id).join(Partner, Partner.id == User.partner_id)
    people = people.where(User.active, Partner.active)
    if not viewer.is_staff:
        people = people.where(User.partner_id == viewer.partner_id)
    if filters.partner_id is not None:
        people = people.where(User.partner_id == filters.partner_id)
    return (
        Enrolment.path_id == filters.path_id,
        Enrolment.start_date >= filters.first_month,
        Enrolment.start_date < add_months(filters.last_month, 1),
        Enrolment.user_id.in_(people),
    )


def _cohort_columns(viewer, filters: Filters, today: date):
    """(rows subquery, partner id, partner name, year, month) shared by both statements."""
    rows = enrolment_rows(today=today, where=_scope(viewer, filters)).subquery("progress")
    year = cast(extract("year", Enrolment.start_date), Integer).label("year")
    month = cast(extract("month", Enrolment.start_date), Integer).label("month")
    joined = (
        select()
        .select_from(rows)
        .join(Enrolment, Enrolment.id == rows.c.enrolment_id)
        .join(User, User.id == Enrolment.user_id)
        .join(Partner, Partner.id == User.partner_id)
    )
    return rows, joined, year, month


def cohort_table(viewer, filters: Filters, today: date) -> tuple[Cohort, list[PartnerCohorts]]:
    """Every partner's cohorts by hire month, with partner totals and the all-partners total.

    Two statements: the grouped counts, then the ready days the medians come from.
    """
    rows, joined, year, month = _cohort_columns(viewer, filters, today)
    ready = rows.c.ready_at.is_not(None)
    overdue = rows.c.overdue > 0
    counts = db.session.execute(
        joined.add_columns(
            Partner.id.label("partner_id"),
            Partner.name.label("partner_name"),
            year,
            month,
            func.count().label("people"),
            func.count().filter(ready).label("ready"),
            func.count().filter(and_(~ready, overdue)).label("at_risk"),
            func.count().filter(and_(~ready, ~overdue)).label("on_track"),
        )
        .group_by(Partner.id, Partner.name, year, month)
        .order_by(Partner.name, Partner.id, year, month)
    ).all()
    ready_day = day_of(rows.c.ready_at) - day_of(Enrolment.start_date) + 1
    days = db.session.execute(
        joined.add_columns(Partner.id, year, month, ready_day.label("day")).where(ready)
    ).all()
    by_cohort = {}
    for partner_id, row_year, row_month, day in days:
        # Everything required done before day 1 (records made earlier) counts as day 1.
        by_cohort.setdefault((partner_id, row_year, row_month), []).append(max(int(day), 1))

    everyone, partners = Cohort(), {}
    for row in counts:
        cohort = Cohort(
            people=row.people,
            on_track=row.on_track,
            at_risk=row.at_risk,
            ready=row.ready,
            ready_days=sorted(by_cohort.get((row.partner_id, row.year, row.month), [])),
        )
        partner = partners.setdefault(
            row.partner_id, PartnerCohorts(row.partner_id, row.partner_name)
        )
        partner.months.append((date(row.year, row.month, 1), cohort))
        partner.total.add(cohort)
        everyone.add(cohort)
    return everyone, list(partners.values())


# --- CSV ------------------------------------------------------------------------------------

CSV_HEADER = (
    "Partner",
    "Hire month",
    "People",
    "On track",
    "At risk",
    "Production-ready",
    "Median days to production-ready",
)


def median_words(cohort: Cohort) -> str:
    """The median as shown: '23', '23.5' or '' when nobody is ready."""
    median = cohort.median_days
    if median is None:
        return ""
    return f"{median:g}"


def _cells(partner: str, month: str, cohort: Cohort) -> list[str]:
    figures = (cohort.people, cohort.on_track, cohort.at_risk, cohort.ready)
    return [safe_cell(partner), month, *map(str, figures), median_words(cohort)]


def csv_text(everyone: Cohort, partners: list[PartnerCohorts], *, staff: bool) -> str:
    """The cohort table as CSV: each partner's months, the partner's total, then all partners."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for partner in partners:
        for month, cohort in partner.months:
            writer.writerow(_cells(partner.partner_name, f"{month:%Y-%m}", cohort))
        writer.writerow(_cells(partner.partner_name, "All months", partner.total))
    if staff:
        writer.writerow(_cells("All partners", "All months", everyone))
    return out.getvalue()

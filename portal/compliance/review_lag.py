"""Acknowledgement lag after material changes, for the business review.

When a material version of a document asking for acknowledgement is published, everyone in
its audience must acknowledge again. The lag is the time from that publication to each
person's first acknowledgement of that version or a later one; people who have not
acknowledged yet are counted apart ("not yet"), never as a lag.
"""

import math
import statistics
from dataclasses import dataclass, field

from sqlalchemy import Float, and_, case, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from portal.audiences.services import audience_includes
from portal.compliance.review import Period, partner_people
from portal.extensions import db
from portal.library.models import (
    Acknowledgement,
    ChangeLevel,
    Document,
    DocumentStatus,
    DocumentVersion,
)
from portal.people.models import User

HOUR = 3600
# (label, upper bound in seconds, exclusive); None: no upper bound.
LAG_BUCKETS = (
    ("0–4 hours", 4 * HOUR),
    ("4–24 hours", 24 * HOUR),
    ("1–3 days", 72 * HOUR),
    ("3–7 days", 168 * HOUR),
    ("1–2 weeks", 336 * HOUR),
    ("Over 2 weeks", None),
)
NEVER = "Not yet"


class seconds_between(FunctionElement):  # noqa: N801 - reads like the SQL function it is
    """SQL: whole seconds from the timestamp ``earlier`` to ``later`` (NULL if either is)."""

    type = Float()
    inherit_cache = True
    name = "seconds_between"


@compiles(seconds_between, "postgresql")
def _seconds_postgresql(element, compiler, **kw):
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"ROUND(EXTRACT(EPOCH FROM ({later} - {earlier})))"


@compiles(seconds_between)
def _seconds_sqlite(element, compiler, **kw):
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"ROUND((julianday({later}) - julianday({earlier})) * 86400.0)"


def percentile(values: list[float], share: float) -> float | None:
    """The ``share`` percentile of sorted ``values``, interpolating like PostgreSQL's
    percentile_cont (so the figures would match it); None for no values."""
    if not values:
        return None
    rank = share * (len(values) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return values[low] + (values[high] - values[low]) * (rank - low)


@dataclass
class LagSummary:
    """How long the partner's people took to acknowledge material versions."""

    versions: int = 0  # material versions published in the period
    asked: int = 0  # person × version pairs
    hours: list[float] = field(default_factory=list)  # acknowledged ones, sorted
    buckets: list[tuple[str, int]] = field(default_factory=list)  # LAG_BUCKETS, then NEVER

    @property
    def acknowledged(self) -> int:
        return len(self.hours)

    @property
    def never(self) -> int:
        return self.asked - self.acknowledged

    @property
    def median(self) -> float | None:
        return statistics.median(self.hours) if self.hours else None

    @property
    def p90(self) -> float | None:
        return percentile(self.hours, 0.9)


def _lag_rows(period: Period, partner_id: int):
    """Subquery: one row per material version published in the period × each of the partner's
    active people asked to acknowledge it (in the audience, with an account by then), with the
    seconds until their first acknowledgement of that version or a later one (NULL: none yet)."""
    asked = and_(
        or_(Document.partner_id.is_(None), Document.partner_id == User.partner_id),
        audience_includes(
            Document.audience_id, User.partner_id, User.team_id, User.role, User.language
        ),
        User.created_at <= DocumentVersion.published_at,
    )
    first_ack = func.min(Acknowledgement.acknowledged_at)
    return (
        select(
            DocumentVersion.id.label("version_id"),
            User.id.label("user_id"),
            seconds_between(first_ack, DocumentVersion.published_at).label("seconds"),
        )
        .select_from(DocumentVersion)
        .join(Document, Document.id == DocumentVersion.document_id)
        .join(User, asked)
        .outerjoin(
            Acknowledgement,
            and_(
                Acknowledgement.document_id == DocumentVersion.document_id,
                Acknowledgement.user_id == User.id,
                Acknowledgement.version_number >= DocumentVersion.number,
            ),
        )
        .where(
            DocumentVersion.change_level == ChangeLevel.MATERIAL.value,
            DocumentVersion.published_at.is_not(None),
            period.contains(DocumentVersion.published_at),
            Document.requires_ack,
            Document.status != DocumentStatus.DRAFT.value,
            *partner_people([partner_id]),
        )
        .group_by(DocumentVersion.id, DocumentVersion.published_at, User.id)
        .subquery("lags")
    )


def acknowledgement_lag(period: Period, partner_id: int) -> LagSummary:
    """Hours from each material version's publication to each person's acknowledgement.

    Three statements: the histogram (one GROUP BY on a CASE of the lag), the lag values the
    median and 90th percentile come from, and the number of versions. SQLite has no
    percentile_cont, so both databases take the one Python path here (fetching every lag
    value); issue 7's benchmark may need percentile_cont on PostgreSQL instead.
    """
    lags = _lag_rows(period, partner_id)
    whens = [(lags.c.seconds.is_(None), NEVER)]
    whens += [(lags.c.seconds < bound, label) for label, bound in LAG_BUCKETS if bound]
    bucket = case(*whens, else_=LAG_BUCKETS[-1][0]).label("bucket")
    counted = dict(
        db.session.execute(select(bucket, func.count()).select_from(lags).group_by(bucket)).all()
    )
    seconds = db.session.scalars(
        select(lags.c.seconds).where(lags.c.seconds.is_not(None)).order_by(lags.c.seconds)
    ).all()
    versions = db.session.scalar(select(func.count(func.distinct(lags.c.version_id))))
    labels = [label for label, _ in LAG_BUCKETS] + [NEVER]
    return LagSummary(
        versions=versions or 0,
        asked=sum(counted.values()),
        hours=[max(float(value), 0) / HOUR for value in seconds],
        buckets=[(label, counted.get(label, 0)) for label in labels],
    )

"""What each role's home page shows."""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from portal.access.roles import Role
from portal.access.visibility import visible_partners, visible_people, visible_teams
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.partners.models import Partner, Team
from portal.partners.services import team_member_counts
from portal.people.models import User
from portal.people.services import people_counts_by_partner

ONBOARDING_DAYS = 90


def onboarding_day(hire_date: date | None, today: date | None = None) -> int | None:
    """Day N of the first 90 (day 1 is the hire date), or None outside that window."""
    if hire_date is None:
        return None
    today = today or date.today()
    day = (today - hire_date).days + 1
    return day if 1 <= day <= ONBOARDING_DAYS else None


@dataclass
class PartnerRow:
    partner: Partner
    active: int
    trainers: int
    invited: int


def partner_overview(viewer) -> list[PartnerRow]:
    """Every partner the viewer sees with its people counts (two queries)."""
    partners = db.session.scalars(visible_partners(viewer).order_by(Partner.name)).all()
    counts = people_counts_by_partner(viewer)
    empty = {"active": 0, "trainers": 0, "invited": 0}
    return [PartnerRow(p, **counts.get(p.id, empty)) for p in partners]


def new_hires(viewer, limit=10, today: date | None = None) -> list[User]:
    """Active partner people hired in the last 90 days, newest first."""
    today = today or date.today()
    since = today - timedelta(days=ONBOARDING_DAYS - 1)
    stmt = (
        visible_people(viewer)
        .where(
            User.active,
            User.role.in_([Role.AGENT.value, Role.TRAINER.value]),
            User.hire_date >= since,
            User.hire_date <= today,
        )
        .options(joinedload(User.team), joinedload(User.partner))
        .order_by(User.hire_date.desc(), User.name)
        .limit(limit)
    )
    return db.session.scalars(stmt).all()


def team_overview(viewer) -> list[tuple[Team, int]]:
    """The viewer's visible teams with active member counts (two queries)."""
    teams = db.session.scalars(visible_teams(viewer).order_by(Team.name)).all()
    counts = team_member_counts([t.id for t in teams])
    return [(t, counts.get(t.id, 0)) for t in teams]


def roster_counts(viewer) -> dict[str, int]:
    """Active people, pending invitations and deactivated people the viewer sees."""
    sub = visible_people(viewer).where(User.role.in_([Role.AGENT.value, Role.TRAINER.value]))
    sub = sub.subquery()
    row = db.session.execute(
        select(
            func.count().filter(sub.c.active, sub.c.password_hash.is_not(None)),
            func.count().filter(sub.c.active, sub.c.password_hash.is_(None)),
            func.count().filter(~sub.c.active),
        ).select_from(sub)
    ).one()
    return {"active": row[0], "invited": row[1], "deactivated": row[2]}


def recent_events(limit=8) -> list[AuditEvent]:
    return db.session.scalars(
        select(AuditEvent)
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .limit(limit)
    ).all()

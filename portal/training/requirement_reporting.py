"""Requirements as their pages show them: who may see them, each one's figures and people,
the due rule in words, and the notice to the people a new requirement applies to.
"""

from datetime import date

from sqlalchemy import Select, and_, false, func, literal, or_, select

from portal.audiences.services import audience_reaches_partner
from portal.extensions import db
from portal.library.models import Document
from portal.notifications.models import Category
from portal.notifications.services import notify
from portal.partners.models import Partner, Team
from portal.people.models import User
from portal.reminders.localdays import from_day_number
from portal.training.models import Course, DueRule, Requirement, RequirementKind
from portal.training.reporting import (
    REQUIREMENT_STATUSES,
    Figures,
    Filters,
    count_where,
    figures_of,
    grouped_figures,
    narrowed,
    person_columns,
    scope_partner_id,
    urgency,
    utc_text,
)
from portal.training.requirements import assignments


def visible_requirements(viewer) -> Select:
    """Requirements ``viewer`` may see: staff all; a trainer their partner's own and the
    company-wide ones whose audience reaches their partner; nobody else any."""
    stmt = select(Requirement)
    if viewer.is_staff:
        return stmt
    if viewer.role != "trainer":
        return stmt.where(false())
    return stmt.where(
        or_(
            Requirement.partner_id == viewer.partner_id,
            and_(
                Requirement.partner_id.is_(None),
                audience_reaches_partner(Requirement.audience_id, viewer.partner_id),
            ),
        )
    )


def may_withdraw(viewer, requirement: Requirement) -> bool:
    """Staff withdraw any requirement, a trainer their partner's own (as the service checks)."""
    return requirement.withdrawn_at is None and (
        viewer.is_staff
        or (requirement.partner_id is not None and requirement.partner_id == viewer.partner_id)
    )


# --- one requirement ------------------------------------------------------------------------


def _requirement_people(viewer, requirement_ids, today: date):
    """Subquery of ``assignments`` for these requirements, in the viewer's scope."""
    return (
        assignments(
            today=today, requirement_ids=requirement_ids, partner_id=scope_partner_id(viewer)
        )
        .order_by(None)
        .subquery("assignment")
    )


def requirement_counts(viewer, requirement_ids: list[int], today: date) -> dict[int, Figures]:
    """Each requirement's figures within the viewer's scope (one query for all of them)."""
    if not requirement_ids:
        return {}
    a = _requirement_people(viewer, requirement_ids, today)
    rows = db.session.execute(
        select(a.c.requirement_id, *_requirement_count_columns(a)).group_by(a.c.requirement_id)
    ).all()
    return {row.requirement_id: figures_of(row) for row in rows}


def _requirement_count_columns(a):
    return (
        func.count().label("people"),
        func.count().label("required"),
        count_where(a.c.status.in_(("completed", "expiring")), "completed"),
        count_where(a.c.status == "expiring", "expiring"),
        count_where(a.c.status == "overdue", "overdue"),
        count_where(a.c.status == "pending", "pending"),
        literal(0).label("in_progress"),
        literal(0).label("not_started"),
    )


def _requirement_rows_base(viewer, requirement: Requirement, today: date, filters: Filters):
    a = _requirement_people(viewer, [requirement.id], today)
    stmt = (
        select(
            *person_columns(),
            a.c.due_day,
            a.c.status,
            a.c.completed_at,
            a.c.expires_day,
        )
        .join(User, User.id == a.c.user_id)
        .join(Partner, Partner.id == User.partner_id)
        .outerjoin(Team, Team.id == User.team_id)
    )
    return narrowed(stmt, filters), a


def requirement_figures(viewer, requirement: Requirement, today: date, filters: Filters):
    """(totals, per partner and team) for one requirement; ignores the status filter."""
    sub = _requirement_rows_base(viewer, requirement, today, filters)[0].subquery()
    return grouped_figures(sub, _requirement_count_columns(sub))


def requirement_rows(viewer, requirement: Requirement, today: date, filters: Filters) -> Select:
    """Select of everyone the requirement applies to in scope, most urgent first."""
    stmt, a = _requirement_rows_base(viewer, requirement, today, filters)
    if filters.status in REQUIREMENT_STATUSES:
        stmt = stmt.where(a.c.status == filters.status)
    return stmt.order_by(urgency(a.c.status, REQUIREMENT_STATUSES), a.c.due_day, User.name, User.id)


# --- words and notices ----------------------------------------------------------------------


def day_words(value: date) -> str:
    """A date as people read it: 17 Dec 2026."""
    return f"{value.day} {value:%b %Y}"


def _days(count: int) -> str:
    return "1 day" if count == 1 else f"{count} days"


def due_rule_words(requirement: Requirement) -> str:
    """The due rule as a sentence ends: 'within 14 days of hire', 'by 31 Jan 2027'."""
    if requirement.due_rule == DueRule.FIXED_DATE:
        return f"by {day_words(requirement.due_on)}"
    days = requirement.due_days
    if requirement.due_rule == DueRule.AFTER_HIRE:
        return "on the day of hire" if days == 0 else f"within {_days(days)} of hire"
    made = day_words(requirement.created_at.date())
    return f"by {made}" if days == 0 else f"within {_days(days)} of {made}"


def target_of(requirement: Requirement):
    """(title, portal path) of what the requirement asks for: its course or its document."""
    if requirement.kind == RequirementKind.COURSE:
        course = db.session.get(Course, requirement.course_id)
        return course.title, f"/training/courses/{course.id}"
    document = db.session.get(Document, requirement.document_id)
    return document.title, f"/library/{document.id}"


def notify_pending(requirement: Requirement, today: date) -> int:
    """Tell everyone the new requirement leaves pending or overdue that it applies to them.

    One in-app notification and one email each (set-based, see ``notify``); the title names
    the due date when it is the same for everyone. Returns how many were notified.
    """
    a = assignments(today=today, requirement_ids=[requirement.id]).order_by(None).subquery()
    open_ = a.c.status.in_(("pending", "overdue"))
    first, last = db.session.execute(
        select(func.min(a.c.due_day), func.max(a.c.due_day)).where(open_)
    ).one()
    if first is None:
        return 0
    title, url = target_of(requirement)
    due = day_words(from_day_number(first)) if first == last else None
    return notify(
        select(a.c.user_id).where(open_),
        category=Category.REQUIREMENT,
        title=f"Required: {title} by {due}" if due else f"Required: {title}",
        url=url,
        email_template="requirement",
        context={"kind": requirement.kind, "target": title, "due": due},
        dedupe_key=f"requirement:{requirement.id}",
    )


REQUIREMENT_LABELS = {
    "overdue": "Overdue",
    "pending": "Pending",
    "expiring": "Expiring soon",
    "completed": "Completed",
}
CSV_HEADER = (
    "Name",
    "Email",
    "Partner",
    "Team",
    "Status",
    "Due on",
    "Completed at (UTC)",
    "Completion expires on",
)


def csv_cells(row) -> list:
    """One person under a requirement as CSV values (dates ISO 8601, times UTC)."""
    expires = from_day_number(row.expires_day).isoformat() if row.expires_day is not None else ""
    return [
        row.name,
        row.email,
        row.partner_name,
        row.team_name or "",
        REQUIREMENT_LABELS[row.status],
        from_day_number(row.due_day).isoformat(),
        utc_text(row.completed_at),
        expires,
    ]

"""Everything someone must do, in one SQL select: the ground every compliance report stands on.

An *obligation* is one person × one required item, for the active agents and trainers of
active partners:

- ``document``: a published document asking for acknowledgement, addressed to the person. Due
  ACKNOWLEDGE_WITHIN_DAYS after its latest material version (or after the person joined, if
  later), unless a training requirement of the document gives an earlier-made rule; done when
  a current acknowledgement exists.
- ``course``: a course required of the person (training requirements): done while a valid
  completion exists, ``expiring`` within the requirement's warning days, due again when it
  expires (recertification).
- ``announcement``: a published announcement (often a process change) asking for
  acknowledgement: due on its effective date, or ACKNOWLEDGE_WITHIN_DAYS after publication
  (or joining); done when acknowledged.
- ``path``: an onboarding enrolment: due on day 90, done when production-ready, overdue while
  a step is overdue.

Columns: kind, item_id, title, user_id, partner_id, team_id, due_day (days since 1970-01-01,
UTC dates), done_at, status ('done', 'expiring', 'overdue' or 'pending'). One statement,
whatever the number of people and items: reports aggregate it with GROUP BY, never in Python.
"""

from datetime import date

from flask import current_app
from sqlalchemy import String, and_, case, func, literal, or_, select, union_all
from sqlalchemy.orm import aliased

from portal.announcements.models import Announcement, AnnouncementAck, AnnouncementStatus
from portal.audiences.services import AUDIENCE_ROLES, audience_includes
from portal.extensions import db
from portal.library.models import Acknowledgement, Document, DocumentStatus, DocumentVersion
from portal.onboarding.models import PATH_DAYS, Enrolment, OnboardingPath
from portal.onboarding.progress import enrolment_rows
from portal.partners.models import Partner
from portal.people.models import User
from portal.reminders.localdays import day_number
from portal.training.models import Course, Requirement, RequirementKind
from portal.training.requirements import _rule_due_day, assignments, day_of

KINDS = ("document", "course", "announcement", "path")
KIND_LABELS = {
    "document": "Document",
    "course": "Course",
    "announcement": "Announcement",
    "path": "Onboarding path",
}
STATUSES = ("overdue", "pending", "expiring", "done")


def _later(a, b):
    return case((a > b, a), else_=b)


def _people(partner_ids, user_id=None):
    """Conditions on ``User``: the active agents and trainers of active partners."""
    conditions = [User.active, User.role.in_(AUDIENCE_ROLES), Partner.active]
    if partner_ids is not None:
        conditions.append(User.partner_id.in_(list(partner_ids)))
    if user_id is not None:
        conditions.append(User.id == user_id)
    return conditions


def _items(column, item_ids):
    """Conditions keeping the items ``item_ids`` (none when it is None)."""
    return [] if item_ids is None else [column.in_(list(item_ids))]


def _addressed(model):
    """Join condition: ``model`` (with audience_id and partner_id) addresses the User row."""
    return and_(
        or_(model.partner_id.is_(None), model.partner_id == User.partner_id),
        audience_includes(
            model.audience_id, User.partner_id, User.team_id, User.role, User.language
        ),
    )


def _status(today_number, due_day, done_at):
    return case(
        (done_at.is_not(None), "done"),
        (due_day < today_number, "overdue"),
        else_="pending",
    )


def people_narrowed(user_column, partner_ids=None, user_id=None):
    """Conditions narrowing a records table's ``user_column`` to some partners or one person.

    Aggregates over records (acknowledgements, completions) are joined to people afterwards;
    without these the database would aggregate everyone's records to answer for one partner.
    """
    if user_id is not None:
        return [user_column == user_id]
    if partner_ids is not None:
        people = select(User.id).where(User.partner_id.in_(list(partner_ids)))
        return [user_column.in_(people)]
    return []


def document_obligations(*, today: date, partner_ids=None, user_id=None, item_ids=None):
    within = current_app.config["ACKNOWLEDGE_WITHIN_DAYS"]
    material = aliased(DocumentVersion)
    acked = (
        select(
            Acknowledgement.user_id,
            Acknowledgement.document_id,
            func.min(Acknowledgement.acknowledged_at).label("at"),
        )
        .join(Document, Document.id == Acknowledgement.document_id)
        .where(
            Acknowledgement.version_number >= Document.ack_from_number,
            *people_narrowed(Acknowledgement.user_id, partner_ids, user_id),
            *_items(Acknowledgement.document_id, item_ids),
        )
        .group_by(Acknowledgement.user_id, Acknowledgement.document_id)
        .subquery("acked")
    )
    # The earliest due day a document requirement gives this person, looked up per row: a
    # document has few requirements, while a grouped (document, person) subquery joined
    # back on both keys led the planner to merge on the document alone and compare every
    # pair of its people (quadratic in a partner's size).
    required_due = (
        select(func.min(_rule_due_day()))
        .where(
            Requirement.document_id == Document.id,
            Requirement.kind == RequirementKind.DOCUMENT.value,
            Requirement.withdrawn_at.is_(None),
            _addressed(Requirement),
        )
        .correlate(Document, User)
        .scalar_subquery()
    )
    asked_since = _later(day_of(material.published_at), day_of(User.created_at))
    due_day = func.coalesce(required_due, asked_since + within)
    return (
        select(
            literal("document", String).label("kind"),
            Document.id.label("item_id"),
            Document.title.label("title"),
            User.id.label("user_id"),
            User.partner_id.label("partner_id"),
            User.team_id.label("team_id"),
            due_day.label("due_day"),
            acked.c.at.label("done_at"),
            _status(literal(day_number(today)), due_day, acked.c.at).label("status"),
        )
        .select_from(Document)
        .join(User, _addressed(Document))
        .join(Partner, Partner.id == User.partner_id)
        .join(
            material,
            and_(material.document_id == Document.id, material.number == Document.ack_from_number),
        )
        .outerjoin(acked, and_(acked.c.user_id == User.id, acked.c.document_id == Document.id))
        .where(
            Document.status == DocumentStatus.PUBLISHED.value,
            Document.requires_ack,
            *_people(partner_ids, user_id),
            *_items(Document.id, item_ids),
        )
    )


def course_obligations(*, today: date, partner_ids=None, user_id=None, item_ids=None):
    """Required courses, one row per person and course (the most urgent requirement)."""
    required = None
    if item_ids is not None:
        required = select(Requirement.id).where(Requirement.course_id.in_(list(item_ids)))
    rows = assignments(
        today=today, user_id=user_id, requirement_ids=required, partner_ids=partner_ids
    ).subquery("assigned")
    urgency = case(
        (rows.c.status == "overdue", 0),
        (rows.c.status == "pending", 1),
        (rows.c.status == "expiring", 2),
        else_=3,
    )
    grouped = (
        select(
            Requirement.course_id,
            rows.c.user_id,
            func.min(rows.c.due_day).label("due_day"),
            func.max(rows.c.completed_at).label("done_at"),
            func.min(urgency).label("urgency"),
        )
        .join(Requirement, Requirement.id == rows.c.requirement_id)
        .where(Requirement.kind == RequirementKind.COURSE.value)
        .group_by(Requirement.course_id, rows.c.user_id)
        .subquery("course_rows")
    )
    status = case(
        (grouped.c.urgency == 0, "overdue"),
        (grouped.c.urgency == 1, "pending"),
        (grouped.c.urgency == 2, "expiring"),
        else_="done",
    )
    stmt = (
        select(
            literal("course", String).label("kind"),
            Course.id.label("item_id"),
            Course.title.label("title"),
            User.id.label("user_id"),
            User.partner_id.label("partner_id"),
            User.team_id.label("team_id"),
            grouped.c.due_day,
            # A completion that no longer counts (expired) is not "done at" anything.
            case((grouped.c.urgency >= 2, grouped.c.done_at), else_=None).label("done_at"),
            status.label("status"),
        )
        .select_from(grouped)
        .join(Course, Course.id == grouped.c.course_id)
        .join(User, User.id == grouped.c.user_id)
    )
    if partner_ids is not None:
        stmt = stmt.where(User.partner_id.in_(list(partner_ids)))
    return stmt


def announcement_obligations(*, today: date, partner_ids=None, user_id=None, item_ids=None):
    within = current_app.config["ACKNOWLEDGE_WITHIN_DAYS"]
    asked_since = _later(day_of(Announcement.publish_at), day_of(User.created_at))
    due_day = func.coalesce(day_of(Announcement.effective_on), asked_since + within)
    return (
        select(
            literal("announcement", String).label("kind"),
            Announcement.id.label("item_id"),
            Announcement.title.label("title"),
            User.id.label("user_id"),
            User.partner_id.label("partner_id"),
            User.team_id.label("team_id"),
            due_day.label("due_day"),
            AnnouncementAck.acknowledged_at.label("done_at"),
            _status(literal(day_number(today)), due_day, AnnouncementAck.acknowledged_at).label(
                "status"
            ),
        )
        .select_from(Announcement)
        .join(User, _addressed(Announcement))
        .join(Partner, Partner.id == User.partner_id)
        .outerjoin(
            AnnouncementAck,
            and_(
                AnnouncementAck.announcement_id == Announcement.id,
                AnnouncementAck.user_id == User.id,
            ),
        )
        .where(
            Announcement.status == AnnouncementStatus.PUBLISHED.value,
            Announcement.requires_ack,
            day_of(Announcement.publish_at) <= day_number(today),
            *_people(partner_ids, user_id),
            *_items(Announcement.id, item_ids),
        )
    )


def path_obligations(*, today: date, partner_ids=None, user_id=None, item_ids=None):
    narrow = [Enrolment.user_id == user_id] if user_id is not None else []
    narrow += _items(Enrolment.path_id, item_ids)
    progress = enrolment_rows(today=today, where=narrow).subquery("path_progress")
    due_day = day_of(Enrolment.start_date) + PATH_DAYS - 1
    status = case(
        (progress.c.ready_at.is_not(None), "done"),
        (progress.c.overdue > 0, "overdue"),
        else_="pending",
    )
    return (
        select(
            literal("path", String).label("kind"),
            OnboardingPath.id.label("item_id"),
            OnboardingPath.title.label("title"),
            User.id.label("user_id"),
            User.partner_id.label("partner_id"),
            User.team_id.label("team_id"),
            due_day.label("due_day"),
            progress.c.ready_at.label("done_at"),
            status.label("status"),
        )
        .select_from(progress)
        .join(Enrolment, Enrolment.id == progress.c.enrolment_id)
        .join(OnboardingPath, OnboardingPath.id == Enrolment.path_id)
        .join(User, User.id == Enrolment.user_id)
        .join(Partner, Partner.id == User.partner_id)
        .where(*_people(partner_ids, user_id))
    )


SOURCES = {
    "document": document_obligations,
    "course": course_obligations,
    "announcement": announcement_obligations,
    "path": path_obligations,
}


def obligations(*, today: date, partner_ids=None, kinds=None, user_id=None, item_ids=None):
    """SQL select: every obligation of active partner people (see the module docstring).

    ``partner_ids`` limits it to those partners' people, ``user_id`` to one person (each
    source filters at its root, so the database never builds everyone's rows for one person);
    ``kinds`` to some of :data:`KINDS`, and ``item_ids`` to those items (with one kind). Use it
    as a subquery: ``obligations(...).subquery()``.
    """
    parts = [
        SOURCES[k](today=today, partner_ids=partner_ids, user_id=user_id, item_ids=item_ids)
        for k in (kinds or KINDS)
    ]
    return parts[0] if len(parts) == 1 else union_all(*parts)


def obligation_rows(**kwargs) -> list:
    """The rows of :func:`obligations` (for tests and small lists)."""
    return db.session.execute(obligations(**kwargs)).all()

"""Training requirements: who must complete a course or acknowledge a document, and by when.

A requirement names a target (a published course, or a document that asks for
acknowledgement), an audience and a due rule. :func:`assignments` answers, in one SQL select
for everyone at once, each person's due day and status under every active requirement.

Dates are UTC dates for now (a person's local calendar day is a later refinement, see
``portal.reminders.localdays``); they are day numbers (days since 1970-01-01) so the due
arithmetic is plain integers on SQLite and PostgreSQL alike.
"""

import functools
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import (
    BindParameter,
    Integer,
    Select,
    and_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from portal.access.bound import PERSON_ID, TODAY_DAY
from portal.access.permissions import AUTHOR_DOCUMENTS
from portal.access.visibility import visible_courses, visible_documents
from portal.audiences.models import Audience
from portal.audiences.services import (
    AUDIENCE_ROLES,
    AudienceSpec,
    apply_audience,
    audience_includes,
    check_audience,
)
from portal.audit.services import record
from portal.core.clock import utcnow
from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.library.models import Acknowledgement, Document, DocumentStatus
from portal.partners.models import Partner
from portal.people.models import User
from portal.reminders.localdays import day_number
from portal.training.models import (
    Completion,
    Course,
    CourseStatus,
    DueRule,
    Requirement,
    RequirementKind,
)

# Someone who becomes subject to a requirement after its rule date has passed (a late joiner,
# or a long-serving person under an after-hire rule) is due this many days after that moment
# instead: never a deadline that had passed before it applied to them.
GRACE_DAYS = 14
MAX_DUE_DAYS = 3650  # ten years; more is a typo

REQUIREMENT_CREATED = "training.requirement_created"
REQUIREMENT_WITHDRAWN = "training.requirement_withdrawn"


class day_of(FunctionElement):  # noqa: N801 - reads like the SQL function it is
    """SQL: the day number of a date or a naive-UTC timestamp (its UTC date)."""

    type = Integer()
    inherit_cache = True
    name = "day_of"


@compiles(day_of, "postgresql")
def _day_of_postgresql(element, compiler, **kw):
    return f"(CAST({compiler.process(element.clauses, **kw)} AS DATE) - DATE '1970-01-01')"


@compiles(day_of)
def _day_of_sqlite(element, compiler, **kw):
    # 2440587.5 is julianday('1970-01-01'); date() drops the time of a timestamp.
    value = compiler.process(element.clauses, **kw)
    return f"CAST(julianday(date({value})) - 2440587.5 AS INTEGER)"


@dataclass
class RequirementDetails:
    """A requirement as chosen in a form: the target, the due rule and the audience."""

    kind: str | None = None  # RequirementKind
    target_id: int | None = None  # the course's or the document's id
    due_rule: str | None = None  # DueRule
    due_on: date | None = None  # for a fixed date
    due_days: int | None = None  # for the relative rules
    warning_days: int = 30
    audience: AudienceSpec = field(default_factory=AudienceSpec)


def _check_due_rule(details: RequirementDetails, errors: dict[str, str]) -> None:
    if details.due_rule not in set(DueRule):
        errors["due_rule"] = (
            "Choose when it is due: on a fixed date, some days after hire, or some days "
            "after the requirement is made."
        )
    elif details.due_rule == DueRule.FIXED_DATE:
        if details.due_on is None:
            errors["due_on"] = "Give the date it is due on."
    elif details.due_days is None or details.due_days < 0:
        errors["due_days"] = "Give the number of days until it is due, 0 or more."
    elif details.due_days > MAX_DUE_DAYS:
        errors["due_days"] = f"Give at most {MAX_DUE_DAYS} days (ten years)."
    if details.warning_days is None or details.warning_days < 0:
        errors["warning_days"] = "Give the days of warning before expiry, 0 or more."


def _find_target(actor, details: RequirementDetails, errors: dict[str, str]):
    if details.kind == RequirementKind.COURSE:
        course = None
        if details.target_id is not None:
            stmt = visible_courses(actor).where(Course.id == details.target_id)
            course = db.session.scalars(stmt).first()
        if course is None:
            errors["target_id"] = "Choose a course you can see."
        elif course.status != CourseStatus.PUBLISHED:
            errors["target_id"] = f"“{course.title}” is not published, so it cannot be required."
        return course
    if details.kind == RequirementKind.DOCUMENT:
        document = None
        if details.target_id is not None:
            stmt = visible_documents(actor).where(Document.id == details.target_id)
            document = db.session.scalars(stmt).first()
        if document is None:
            errors["target_id"] = "Choose a document you can see."
        elif document.status != DocumentStatus.PUBLISHED:
            errors["target_id"] = f"“{document.title}” is not published, so it cannot be required."
        elif not document.requires_ack:
            errors["target_id"] = (
                f"“{document.title}” does not ask for acknowledgement, so it cannot be "
                "required; turn on acknowledgement in its settings first."
            )
        return document
    errors["kind"] = "Choose whether a course or a document is required."
    return None


def create_requirement(actor, details: RequirementDetails, *, now=None) -> Requirement:
    """Require ``details``' course or document of its audience; InvalidInput if anything is off.

    Admins and PRMs may address any audience; a trainer's requirement (or one of a partner's
    own course or document) is local to that partner and may only name it and its teams.
    Nothing is written when refused.
    """
    if not AUTHOR_DOCUMENTS(actor):
        raise InvalidInput("Only admins, PRMs and trainers can require training.")
    partner_id = None if actor.is_staff else actor.partner_id
    errors: dict[str, str] = {}
    _check_due_rule(details, errors)
    target = _find_target(actor, details, errors)
    if partner_id is None and target is not None:
        # A partner's own course or document can only be required of that partner's people.
        partner_id = target.partner_id
    errors.update(check_audience(details.audience, partner_id=partner_id))
    if errors:
        raise InvalidInput(errors)
    fixed = details.due_rule == DueRule.FIXED_DATE
    requirement = Requirement(
        kind=details.kind,
        course_id=target.id if details.kind == RequirementKind.COURSE else None,
        document_id=target.id if details.kind == RequirementKind.DOCUMENT else None,
        audience=apply_audience(Audience(), details.audience),
        partner_id=partner_id,
        due_rule=details.due_rule,
        due_on=details.due_on if fixed else None,
        due_days=None if fixed else details.due_days,
        warning_days=details.warning_days,
        created_by_id=actor.id,
        created_at=now or utcnow(),
    )
    db.session.add(requirement)
    db.session.flush()
    record(
        REQUIREMENT_CREATED,
        actor=actor,
        partner_id=partner_id,
        target=requirement,
        summary=f"Required “{target.title}”",
        kind=details.kind,
        target_id=target.id,
        due_rule=details.due_rule,
    )
    return requirement


def withdraw_requirement(actor, requirement: Requirement, *, now=None) -> None:
    """Stop requiring it: staff any requirement, a trainer their partner's own."""
    allowed = AUTHOR_DOCUMENTS(actor) and (
        actor.is_staff
        or (requirement.partner_id is not None and requirement.partner_id == actor.partner_id)
    )
    if not allowed:
        raise InvalidInput("You can only withdraw requirements you are responsible for.")
    if requirement.withdrawn_at is not None:
        raise InvalidInput("This requirement has already been withdrawn.")
    requirement.withdrawn_at = now or utcnow()
    record(
        REQUIREMENT_WITHDRAWN,
        actor=actor,
        partner_id=requirement.partner_id,
        target=requirement,
        summary="Withdrew a training requirement",
    )
    db.session.flush()


def _later(a, b):
    return case((a > b, a), else_=b)


def _rule_due_day():
    """SQL: the due day the rule gives a person, before the no-passed-deadline guarantee."""
    hired = func.coalesce(day_of(User.hire_date), day_of(User.created_at))
    rule_day = case(
        (Requirement.due_rule == DueRule.FIXED_DATE.value, day_of(Requirement.due_on)),
        (Requirement.due_rule == DueRule.AFTER_HIRE.value, hired + Requirement.due_days),
        else_=day_of(Requirement.created_at) + Requirement.due_days,
    )
    start = _later(day_of(Requirement.created_at), day_of(User.created_at))
    return case((rule_day < start, start + GRACE_DAYS), else_=rule_day)


def _completions_of(partner_id, partner_ids, user_id) -> list:
    """Conditions on Completion keeping the people ``assignments`` is narrowed to: the
    latest completion per person and course is then found among theirs only, not everyone's."""
    if user_id is not None:
        return [Completion.user_id == user_id]
    wanted = [] if partner_id is None else [partner_id]
    wanted += [] if partner_ids is None else list(partner_ids)
    if partner_id is None and partner_ids is None:
        return []
    return [Completion.user_id.in_(select(User.id).where(User.partner_id.in_(wanted)))]


def assignments(
    *,
    today: date | BindParameter,
    requirement_ids=None,
    partner_id: int | None = None,
    user_id: int | None = None,
    partner_ids=None,
):
    """SQL select of every active person's standing under every active requirement.

    Columns: requirement_id, user_id, due_day, status, completed_at, expires_day (day numbers,
    UTC dates). ``status`` is 'completed', 'expiring' (a valid completion expires within the
    requirement's warning days), 'overdue' or 'pending'. A course is due again on the day its
    latest completion expires (recertification). People are the active agents and trainers of
    active partners in the requirement's audience (a partner-local requirement: only that
    partner's; a document's: only those the document asks to acknowledge it). ``partner_id``
    (or several, ``partner_ids``) and ``user_id`` narrow it. One query, whatever the number of
    people. ``today`` may be a bound parameter holding a day number (see
    :func:`person_assignments`).
    """
    today_day = today if isinstance(today, BindParameter) else literal(day_number(today))
    latest_sequence = (
        select(
            Completion.user_id,
            Completion.course_id,
            func.max(Completion.sequence).label("sequence"),
        )
        .where(*_completions_of(partner_id, partner_ids, user_id))
        .group_by(Completion.user_id, Completion.course_id)
        .subquery("latest_sequence")
    )
    current_ack = and_(
        Acknowledgement.user_id == User.id,
        Acknowledgement.document_id == Document.id,
        Acknowledgement.version_number >= Document.ack_from_number,
    )
    ack_at = select(func.max(Acknowledgement.acknowledged_at)).where(current_ack)
    base = (
        select(
            Requirement.id.label("requirement_id"),
            User.id.label("user_id"),
            Requirement.kind.label("kind"),
            Requirement.warning_days.label("warning_days"),
            _rule_due_day().label("rule_due_day"),
            case(
                (Requirement.kind == RequirementKind.DOCUMENT.value, ack_at.scalar_subquery()),
                else_=Completion.completed_at,
            ).label("completed_at"),
            Completion.id.label("completion_id"),
            day_of(Completion.expires_at).label("expires_day"),
            exists().where(current_ack).label("acknowledged"),
        )
        .select_from(Requirement)
        .join(
            User,
            and_(
                or_(Requirement.partner_id.is_(None), Requirement.partner_id == User.partner_id),
                audience_includes(
                    Requirement.audience_id, User.partner_id, User.team_id, User.role, User.language
                ),
            ),
        )
        .join(Partner, Partner.id == User.partner_id)
        .outerjoin(Course, Course.id == Requirement.course_id)
        .outerjoin(Document, Document.id == Requirement.document_id)
        .outerjoin(
            latest_sequence,
            and_(
                latest_sequence.c.user_id == User.id,
                latest_sequence.c.course_id == Requirement.course_id,
            ),
        )
        .outerjoin(
            Completion,
            and_(
                Completion.user_id == User.id,
                Completion.course_id == Requirement.course_id,
                Completion.sequence == latest_sequence.c.sequence,
            ),
        )
        .where(
            Requirement.withdrawn_at.is_(None),
            or_(
                Course.status == CourseStatus.PUBLISHED.value,
                and_(
                    # Only those the document itself asks can acknowledge it.
                    Document.status == DocumentStatus.PUBLISHED.value,
                    or_(Document.partner_id.is_(None), Document.partner_id == User.partner_id),
                    audience_includes(
                        Document.audience_id,
                        User.partner_id,
                        User.team_id,
                        User.role,
                        User.language,
                    ),
                ),
            ),
            User.active,
            User.role.in_(AUDIENCE_ROLES),
            Partner.active,
        )
    )
    if requirement_ids is not None:
        ids = requirement_ids if isinstance(requirement_ids, Select) else list(requirement_ids)
        base = base.where(Requirement.id.in_(ids))
    if partner_id is not None:
        base = base.where(User.partner_id == partner_id)
    if partner_ids is not None:
        base = base.where(User.partner_id.in_(list(partner_ids)))
    if user_id is not None:
        base = base.where(User.id == user_id)
    row = base.subquery("base")
    completed = row.c.completion_id.is_not(None)
    valid = and_(completed, or_(row.c.expires_day.is_(None), row.c.expires_day > today_day))
    expired = and_(completed, row.c.expires_day <= today_day)
    is_document = row.c.kind == RequirementKind.DOCUMENT.value
    due_day = case(
        (is_document, row.c.rule_due_day),
        (and_(completed, row.c.expires_day.is_not(None)), row.c.expires_day),
        else_=row.c.rule_due_day,
    )
    status = case(
        (and_(is_document, row.c.acknowledged), "completed"),
        (
            and_(
                ~is_document,
                valid,
                row.c.expires_day.is_not(None),
                row.c.expires_day - today_day <= row.c.warning_days,
            ),
            "expiring",
        ),
        (and_(~is_document, valid), "completed"),
        (and_(~is_document, expired, today_day > row.c.expires_day), "overdue"),
        (and_(~is_document, expired), "pending"),
        (today_day > row.c.rule_due_day, "overdue"),
        else_="pending",
    )
    return select(
        row.c.requirement_id,
        row.c.user_id,
        due_day.label("due_day"),
        status.label("status"),
        row.c.completed_at,
        row.c.expires_day,
    ).order_by(row.c.requirement_id, row.c.user_id)


@functools.cache
def person_assignments() -> Select:
    """:func:`assignments` of one person, built once: run it, or a select over it, with
    ``day_values`` (portal/access/bound.py). Building it costs more Python (the audience rules,
    about 4 ms) than running it for one person does, and the navigation's count needs it on
    every page."""
    return assignments(today=TODAY_DAY, user_id=PERSON_ID)


def assignment_rows(*, today: date, requirement_ids=None, partner_id=None, user_id=None) -> list:
    """The rows of :func:`assignments` (one query)."""
    stmt = assignments(
        today=today, requirement_ids=requirement_ids, partner_id=partner_id, user_id=user_id
    )
    return db.session.execute(stmt).all()

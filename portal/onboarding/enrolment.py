"""Who is on a path, and from when.

New hires are enrolled automatically: an active agent or trainer of an active partner whose
hire date falls within the last 90 days (or ahead), in the audience of a published path, is
enrolled on the path's current version with their hire date as day 1. It happens when a
person is created (by hand or by roster import), when their team, role, language or hire date
changes, and when a path is published; one set-based INSERT ... SELECT, whatever the number of
people, and a unique key makes it safe to run twice at once.

Trainers of the person's partner (and company staff) may also enrol someone by hand, or move
their start date, always with a reason, which is kept (a moved start date leaves a
written-once :class:`StartDateChange`).
"""

from datetime import date, timedelta

from sqlalchemy import and_, exists, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from portal.access.roles import PARTNER_ROLES, Role
from portal.audiences.services import AUDIENCE_ROLES, audience_includes
from portal.audit.services import record
from portal.core.clock import utcnow
from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.onboarding.models import (
    PATH_DAYS,
    Enrolment,
    EnrolmentHow,
    OnboardingPath,
    PathStatus,
    StartDateChange,
)
from portal.partners.models import Partner
from portal.people.models import User

# A start date may be set at most this many days ahead of today.
START_AHEAD_DAYS = 30
MAX_REASON = 500

ENROLLED = "onboarding.enrolled"
START_MOVED = "onboarding.start_moved"


def _insert(table):
    return pg_insert(table) if db.engine.dialect.name == "postgresql" else sqlite_insert(table)


def enrol_new_hires(*, path_ids=None, user_ids=None, today: date | None = None) -> int:
    """Enrol every eligible new hire not yet on a path; returns how many were enrolled.

    ``path_ids`` and ``user_ids`` narrow the work (a published path, the people just saved).
    """
    today = today or utcnow().date()
    earliest_hire = today - timedelta(days=PATH_DAYS - 1)
    already = exists().where(Enrolment.user_id == User.id, Enrolment.path_id == OnboardingPath.id)
    eligible = (
        select(
            User.id,
            OnboardingPath.id,
            OnboardingPath.current_version_id,
            User.hire_date,
            literal(EnrolmentHow.AUTOMATIC.value),
            literal(""),
            literal(utcnow()),
        )
        .select_from(OnboardingPath)
        .join(
            User,
            and_(
                or_(
                    OnboardingPath.partner_id.is_(None),
                    OnboardingPath.partner_id == User.partner_id,
                ),
                audience_includes(
                    OnboardingPath.audience_id,
                    User.partner_id,
                    User.team_id,
                    User.role,
                    User.language,
                ),
            ),
        )
        .join(Partner, Partner.id == User.partner_id)
        .where(
            OnboardingPath.status == PathStatus.PUBLISHED.value,
            OnboardingPath.current_version_id.is_not(None),
            User.active,
            Partner.active,
            User.role.in_(AUDIENCE_ROLES),
            User.hire_date.is_not(None),
            User.hire_date >= earliest_hire,
            ~already,
        )
    )
    if path_ids is not None:
        eligible = eligible.where(OnboardingPath.id.in_(list(path_ids)))
    if user_ids is not None:
        eligible = eligible.where(User.id.in_(list(user_ids)))
    columns = ["user_id", "path_id", "version_id", "start_date", "how", "reason", "enrolled_at"]
    stmt = (
        _insert(Enrolment)
        .from_select(columns, eligible)
        .on_conflict_do_nothing()
        .returning(Enrolment.id)
    )
    return len(db.session.execute(stmt).all())


def follow_hire_date(person: User) -> int:
    """Automatic enrolments whose start was never moved start on ``person``'s hire date again.

    Called when a hire date is corrected; returns how many enrolments moved.
    """
    if person.hire_date is None:
        return 0
    moved = exists().where(StartDateChange.enrolment_id == Enrolment.id)
    result = db.session.execute(
        update(Enrolment)
        .where(
            Enrolment.user_id == person.id,
            Enrolment.how == EnrolmentHow.AUTOMATIC.value,
            Enrolment.start_date != person.hire_date,
            ~moved,
        )
        .values(start_date=person.hire_date)
        .execution_options(synchronize_session=False)
    )
    return max(result.rowcount or 0, 0)


def person_saved(person: User, changed=None, *, today: date | None = None) -> None:
    """Keep ``person``'s enrolments current after they were created or edited.

    ``changed`` names the fields that changed (None: a new person).
    """
    if changed is not None and "hire_date" in changed:
        follow_hire_date(person)
    relevant = {"team_id", "role", "hire_date", "language", "partner_id"}
    if changed is None or relevant & set(changed):
        enrol_new_hires(user_ids=[person.id], today=today)


def can_manage_enrolment(actor, person: User) -> bool:
    """Trainers of ``person``'s partner, and company staff, enrol and move start dates."""
    if actor is None or not getattr(actor, "is_active", False):
        return False
    if actor.is_staff:
        return actor.role in (Role.PRM.value, Role.ADMIN.value)
    return actor.role == Role.TRAINER.value and actor.partner_id == person.partner_id


def check_start(person: User, start: date | None, today: date) -> str | None:
    """The message for a start date that breaks the rules, or None when it is fine.

    Rules: a date is given; it is not before the person's hire date; it is at most
    :data:`START_AHEAD_DAYS` ahead of today; and it is not so far back that the 90 days
    are over already.
    """
    if start is None:
        return "Give a start date, such as their first day on the floor."
    if start > today + timedelta(days=START_AHEAD_DAYS):
        return (
            f"A start date can be at most {START_AHEAD_DAYS} days ahead "
            f"(until {(today + timedelta(days=START_AHEAD_DAYS)).isoformat()})."
        )
    if person.hire_date is not None and start < person.hire_date:
        return f"The start date cannot be before their hire date ({person.hire_date.isoformat()})."
    if start <= today - timedelta(days=PATH_DAYS):
        return (
            f"With that start date their {PATH_DAYS} days would be over already; choose a date "
            f"after {(today - timedelta(days=PATH_DAYS)).isoformat()}."
        )
    return None


def _check_reason(reason: str, errors: dict) -> str:
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = "Say why, for the record (e.g. “started late after sick leave”)."
    elif len(reason) > MAX_REASON:
        errors["reason"] = f"Keep the reason under {MAX_REASON} characters."
    return reason


def enrol_by_hand(
    actor, person: User, path: OnboardingPath, *, start: date | None, reason: str, today=None
) -> Enrolment:
    """Put ``person`` on ``path`` from ``start``; InvalidInput (nothing written) if not allowed."""
    today = today or utcnow().date()
    if not can_manage_enrolment(actor, person):
        raise InvalidInput("Only a trainer of this person's partner can enrol them.")
    errors = {}
    if person.role not in PARTNER_ROLES or not person.active:
        errors["person"] = "Only active agents and trainers can be put on a path."
    if path.status != PathStatus.PUBLISHED or path.current_version_id is None:
        errors["path"] = "This path is not published; publish it before enrolling people."
    elif path.partner_id is not None and path.partner_id != person.partner_id:
        errors["path"] = "This path belongs to another partner."
    if message := check_start(person, start, today):
        errors["start_date"] = message
    reason = _check_reason(reason, errors)
    existing = db.session.scalars(
        select(Enrolment).where(Enrolment.user_id == person.id, Enrolment.path_id == path.id)
    ).first()
    if existing is not None:
        errors["path"] = (
            f"{person.name} is already on this path (day 1 was "
            f"{existing.start_date.isoformat()}); move their start date instead."
        )
    if errors:
        raise InvalidInput(errors)
    enrolment = Enrolment(
        user_id=person.id,
        path_id=path.id,
        version_id=path.current_version_id,
        start_date=start,
        how=EnrolmentHow.MANUAL.value,
        reason=reason,
        enrolled_by_id=actor.id,
    )
    db.session.add(enrolment)
    db.session.flush()
    record(
        ENROLLED,
        actor=actor,
        partner_id=person.partner_id,
        target=enrolment,
        summary=f"Put {person.email} on “{path.title}” from {start.isoformat()}: {reason}",
    )
    return enrolment


def move_start(
    actor, enrolment: Enrolment, person: User, *, start: date | None, reason: str, today=None
) -> StartDateChange:
    """Move ``enrolment``'s day 1 to ``start``, recording why; InvalidInput if not allowed."""
    today = today or utcnow().date()
    if not can_manage_enrolment(actor, person):
        raise InvalidInput("Only a trainer of this person's partner can move their start date.")
    errors = {}
    if message := check_start(person, start, today):
        errors["start_date"] = message
    elif start == enrolment.start_date:
        errors["start_date"] = f"Their start date is already {start.isoformat()}."
    reason = _check_reason(reason, errors)
    if errors:
        raise InvalidInput(errors)
    change = StartDateChange(
        enrolment_id=enrolment.id,
        old_start=enrolment.start_date,
        new_start=start,
        reason=reason,
        changed_by_id=actor.id,
    )
    db.session.add(change)
    enrolment.start_date = start
    db.session.flush()
    record(
        START_MOVED,
        actor=actor,
        partner_id=person.partner_id,
        target=enrolment,
        summary=(
            f"Moved {person.email}'s start from {change.old_start.isoformat()} to "
            f"{start.isoformat()}: {reason}"
        ),
    )
    return change

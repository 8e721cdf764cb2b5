"""Writing, reading and verifying the audit log."""

from collections.abc import Callable
from dataclasses import dataclass

from flask import has_request_context, request
from sqlalchemy import select

from portal.audit.chain import event_hash, utc_text
from portal.audit.models import AuditChainHead, AuditEvent
from portal.extensions import db


class Actions:
    """Every action the log records, by name."""

    SIGN_IN = "auth.sign_in"
    SIGN_IN_FAILED = "auth.sign_in_failed"
    SIGN_OUT = "auth.sign_out"
    PASSWORD_CHANGED = "auth.password_changed"
    PASSWORD_CHANGE_FAILED = "auth.password_change_failed"
    PASSWORD_RESET_REQUESTED = "auth.password_reset_requested"
    PERSON_CREATED = "people.created"
    INVITATION_SENT = "people.invited"
    INVITATION_ACCEPTED = "people.invitation_accepted"
    PERSON_UPDATED = "people.updated"
    ROLE_CHANGED = "people.role_changed"
    DEACTIVATED = "people.deactivated"
    REACTIVATED = "people.reactivated"
    ROSTER_IMPORTED = "people.roster_imported"
    PARTNER_CREATED = "partners.created"
    PARTNER_UPDATED = "partners.updated"
    PARTNER_DEACTIVATED = "partners.deactivated"
    PARTNER_REACTIVATED = "partners.reactivated"
    TEAM_CREATED = "teams.created"
    TEAM_UPDATED = "teams.updated"
    TEAM_DELETED = "teams.deleted"
    DOCUMENT_CREATED = "documents.created"
    DOCUMENT_UPDATED = "documents.updated"
    DOCUMENT_PUBLISHED = "documents.published"
    DOCUMENT_ARCHIVED = "documents.archived"
    DOCUMENT_RESTORED = "documents.restored"
    DOCUMENT_REVIEWED = "documents.reviewed"
    DOCUMENT_ACKNOWLEDGED = "documents.acknowledged"
    ATTACHMENT_ADDED = "documents.attachment_added"
    ATTACHMENT_REMOVED = "documents.attachment_removed"
    CONTENT_SYNCED = "documents.content_synced"
    ANNOUNCEMENT_CREATED = "announcements.created"
    ANNOUNCEMENT_UPDATED = "announcements.updated"
    ANNOUNCEMENT_PUBLISHED = "announcements.published"
    ANNOUNCEMENT_WITHDRAWN = "announcements.withdrawn"
    ANNOUNCEMENT_ACKNOWLEDGED = "announcements.acknowledged"
    COURSE_CREATED = "training.course_created"
    COURSE_UPDATED = "training.course_updated"
    COURSE_PUBLISHED = "training.course_published"
    COURSE_ARCHIVED = "training.course_archived"
    COURSE_RESTORED = "training.course_restored"
    LESSON_ADDED = "training.lesson_added"
    LESSON_UPDATED = "training.lesson_updated"
    LESSON_REMOVED = "training.lesson_removed"
    LESSONS_REORDERED = "training.lessons_reordered"
    QUESTION_ADDED = "training.question_added"
    QUESTION_UPDATED = "training.question_updated"
    QUESTION_REMOVED = "training.question_removed"
    QUESTIONS_REORDERED = "training.questions_reordered"
    REQUIREMENT_CREATED = "training.requirement_created"
    REQUIREMENT_WITHDRAWN = "training.requirement_withdrawn"
    PATH_CREATED = "onboarding.path_created"
    PATH_UPDATED = "onboarding.path_updated"
    PATH_DRAFT_STARTED = "onboarding.draft_started"
    PATH_PHASES_RENAMED = "onboarding.phases_renamed"
    PATH_STEP_ADDED = "onboarding.step_added"
    PATH_STEP_UPDATED = "onboarding.step_updated"
    PATH_STEP_REMOVED = "onboarding.step_removed"
    PATH_PUBLISHED = "onboarding.path_published"
    PATH_ARCHIVED = "onboarding.path_archived"
    PATH_RESTORED = "onboarding.path_restored"
    ENROLLED = "onboarding.enrolled"
    START_MOVED = "onboarding.start_moved"
    SIGNED_OFF = "onboarding.signed_off"
    SIGN_OFF_REVERSED = "onboarding.sign_off_reversed"

    @classmethod
    def all(cls) -> list[str]:
        return sorted(v for k, v in vars(cls).items() if k.isupper())


def record(action, *, actor=None, partner_id=None, target=None, summary="", **details):
    """Add an audit event to the session (the caller's commit writes it).

    The request's address and user agent are taken from the current request, if any.
    ``target`` is any model object with an ``id``; its table name is stored beside the id.
    """
    event = AuditEvent(
        action=action,
        actor_id=getattr(actor, "id", None),
        actor_email=getattr(actor, "email", None),
        partner_id=partner_id,
        target_type=getattr(target, "__tablename__", None),
        target_id=getattr(target, "id", None),
        summary=summary[:500],
        details=details,
    )
    if has_request_context():
        event.ip_address = request.remote_addr
        event.user_agent = (request.user_agent.string or "")[:300]
    db.session.add(event)
    return event


def events_query(*, action=None, actor=None, partner_id=None, since=None, until=None):
    """Audit events, newest first, narrowed by the given filters."""
    stmt = select(AuditEvent).order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if actor:
        stmt = stmt.where(AuditEvent.actor_email.contains(actor.strip().lower()))
    if partner_id:
        stmt = stmt.where(AuditEvent.partner_id == partner_id)
    if since:
        stmt = stmt.where(AuditEvent.occurred_at >= since)
    if until:
        stmt = stmt.where(AuditEvent.occurred_at < until)
    return stmt


@dataclass
class ChainCheck:
    """What ``verify_chain`` found: how many events it checked, the last one, the first break."""

    checked: int = 0
    last_id: int | None = None
    last_hash: str | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _broken_link(event, previous) -> str:
    if previous is None:
        return (
            f"Event {event.id} is the first in the log but links to an earlier event: "
            "the events before it were deleted."
        )
    missing = event.id - previous.id - 1
    gap = f" (ids {previous.id + 1} to {event.id - 1} are missing)" if missing else ""
    return (
        f"Event {event.id} does not link to event {previous.id}, the one before it{gap}: "
        f"an event between them was deleted or inserted, or event {previous.id} was rewritten."
    )


def _check_event(event, previous) -> str | None:
    """Why ``event`` breaks the chain after ``previous`` (None when it does not)."""
    if event.hash != event_hash(event._mapping, event.prev_hash):
        return (
            f"Event {event.id} ({event.action} at {utc_text(event.occurred_at)}) was changed "
            "after it was written: its content no longer matches its hash."
        )
    if event.prev_hash != (previous.hash if previous else None):
        return _broken_link(event, previous)
    return None


def _check_end(check: ChainCheck, head) -> str | None:
    """Why the log's last event is not the one the chain head names (None when it is)."""
    head_id = head.last_event_id if head else None
    if check.last_id is None:
        if head_id is not None:
            return f"The log is empty but its chain head names event {head_id}: it was emptied."
        return None
    if head_id is None:
        return "The log has events but no chain head: the head row was deleted or emptied."
    if check.last_id != head_id:
        return (
            f"The log ends at event {check.last_id} but its chain head names event {head_id}: "
            f"the events after {check.last_id} were deleted."
        )
    if check.last_hash != head.last_hash:
        return f"Event {head_id}'s hash differs from the chain head's: it was replaced."
    return None


def verify_chain(
    *, batch_size: int = 1000, every: int = 10_000, on_progress: Callable[[int], None] | None = None
) -> ChainCheck:
    """Walk the audit log in id order and report the first event that breaks the chain.

    Events are read ``batch_size`` at a time (memory stays constant); ``on_progress`` is called
    with the number checked every ``every`` events. Only events up to the chain head read at
    the start are checked, so events written meanwhile cannot make a sound log look broken.
    """
    head = db.session.execute(select(AuditChainHead)).scalar_one_or_none()
    table = AuditEvent.__table__
    stmt = select(table).order_by(table.c.id)
    if head is not None and head.last_event_id is not None:
        stmt = stmt.where(table.c.id <= head.last_event_id)
    check, previous = ChainCheck(), None
    with db.session.execute(stmt, execution_options={"yield_per": batch_size}) as events:
        for event in events:
            check.problem = _check_event(event, previous)
            if check.problem:
                return check
            check.checked += 1
            check.last_id, check.last_hash, previous = event.id, event.hash, event
            if on_progress and check.checked % every == 0:
                on_progress(check.checked)
    check.problem = _check_end(check, head)
    return check

"""Writing and reading the audit log."""

from flask import has_request_context, request
from sqlalchemy import select

from portal.audit.models import AuditEvent
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

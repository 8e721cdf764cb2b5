"""Writing, publishing and withdrawing announcements, and telling their audience.

Authors: staff address any audience; a trainer's announcements are local to their partner.
An announcement is a draft until published, now or at a scheduled time; it goes *live* at its
publish time and its audience is notified once (``released_at``), by the request that
published it or, for scheduled ones, by :func:`release_due` in the mail worker. Withdrawing
hides it and keeps every receipt.
"""

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select, update

from portal.access.permissions import PUBLISH_ANNOUNCEMENTS, can_edit_announcement
from portal.access.visibility import visible_documents
from portal.announcements.models import Announcement, AnnouncementStatus, Priority
from portal.audiences.models import Audience
from portal.audiences.services import AudienceSpec, apply_audience, check_audience
from portal.audit.services import Actions, record
from portal.core.clock import utcnow
from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.library.models import Document, DocumentStatus, DocumentVersion
from portal.library.rendering import render
from portal.people.models import User

MAX_TITLE = 200
MAX_BODY = 20_000


@dataclass
class AnnouncementDetails:
    """What an author types; times are aware datetimes (the form converts from local time)."""

    title: str
    body: str = ""
    priority: str = Priority.INFO.value
    audience: AudienceSpec = field(default_factory=AudienceSpec)
    expires_at: datetime | None = None
    pinned: bool = False
    requires_ack: bool = False
    # A process change: the published document version it announces, and when it applies.
    document_version_id: int | None = None
    effective_on: date | None = None


def _check_author(actor) -> None:
    if actor is not None and not PUBLISH_ANNOUNCEMENTS(actor):
        raise InvalidInput("Your role cannot write announcements.")


def _check_editable(actor, announcement: Announcement) -> None:
    if actor is not None and not can_edit_announcement(actor, announcement):
        raise InvalidInput("You cannot change this announcement.")


def _check_version(actor, version_id: int) -> tuple[dict, DocumentVersion | None]:
    """The process change's version, or a message saying why it cannot be used."""
    version = db.session.get(DocumentVersion, version_id)
    documents = select(Document) if actor is None else visible_documents(actor)
    document = (
        db.session.scalars(documents.where(Document.id == version.document_id)).first()
        if version is not None
        else None
    )
    editable = document is not None and (
        actor is None or actor.is_staff or document.partner_id == actor.partner_id
    )
    if not editable:
        return {"document_version_id": "Choose a document you can see and edit."}, None
    if not version.is_published:
        return {
            "document_version_id": f"Version {version.number} of “{document.title}” is not "
            "published yet: publish it first, then announce it."
        }, None
    if document.status != DocumentStatus.PUBLISHED:
        return {"document_version_id": f"“{document.title}” is archived."}, None
    return {}, version


def _check(actor, details: AnnouncementDetails, *, partner_id, publish_at, now) -> dict:
    """Every message for ``details`` ({} when fine); normalizes the text and the audience."""
    errors = {}
    details.title = " ".join((details.title or "").split())
    details.body = (details.body or "").strip()
    if not details.title:
        errors["title"] = "Give the announcement a title."
    elif len(details.title) > MAX_TITLE:
        errors["title"] = f"Titles are at most {MAX_TITLE} characters."
    if not details.body:
        errors["body"] = "Write what you want to tell people."
    elif len(details.body) > MAX_BODY:
        errors["body"] = f"The text is longer than {MAX_BODY:,} characters; link a document."
    if details.priority not in set(Priority):
        errors["priority"] = "Choose info, important or urgent."
    errors.update(check_audience(details.audience, partner_id=partner_id))
    if details.expires_at is not None:
        if details.expires_at <= now:
            errors["expires_at"] = "The expiry time has already passed; choose a later one."
        elif publish_at is not None and details.expires_at <= publish_at:
            errors["expires_at"] = "The expiry time must be after the publish time."
    if details.document_version_id is not None:
        version_errors, _version = _check_version(actor, details.document_version_id)
        errors.update(version_errors)
        if details.effective_on is None:
            errors["effective_on"] = "Give the date the process change takes effect."
    return errors


def _apply(announcement: Announcement, details: AnnouncementDetails, now) -> None:
    announcement.title = details.title
    announcement.body = details.body
    announcement.html = render(details.body).html
    announcement.priority = details.priority
    announcement.expires_at = details.expires_at
    announcement.pinned = bool(details.pinned)
    announcement.requires_ack = bool(details.requires_ack)
    announcement.document_version_id = details.document_version_id
    announcement.document_id = (
        db.session.scalar(
            select(DocumentVersion.document_id).where(
                DocumentVersion.id == details.document_version_id
            )
        )
        if details.document_version_id is not None
        else None
    )
    announcement.effective_on = details.effective_on if details.document_version_id else None
    announcement.updated_at = now


def create_announcement(actor, details: AnnouncementDetails, *, now=None) -> Announcement:
    """Save a new draft announcement. A trainer's is local to their partner."""
    _check_author(actor)
    now = now or utcnow()
    partner_id = actor.partner_id if actor is not None and not actor.is_staff else None
    if errors := _check(actor, details, partner_id=partner_id, publish_at=None, now=now):
        raise InvalidInput(errors)
    announcement = Announcement(
        status=AnnouncementStatus.DRAFT,
        partner_id=partner_id,
        author_id=getattr(actor, "id", None),
        audience=apply_audience(Audience(), details.audience),
        created_at=now,
    )
    _apply(announcement, details, now)
    db.session.add(announcement)
    db.session.flush()
    record(
        Actions.ANNOUNCEMENT_CREATED,
        actor=actor,
        partner_id=partner_id,
        target=announcement,
        summary=f"Drafted the announcement “{announcement.title}”",
    )
    return announcement


def update_announcement(actor, announcement: Announcement, details, *, now=None) -> Announcement:
    """Change a draft or a scheduled announcement (a live one is withdrawn, not edited)."""
    _check_editable(actor, announcement)
    now = now or utcnow()
    if announcement.state(now) not in ("draft", "scheduled"):
        raise InvalidInput(
            "Only drafts and scheduled announcements can be edited. Withdraw this one and "
            "write a new one instead."
        )
    errors = _check(
        actor,
        details,
        partner_id=announcement.partner_id,
        publish_at=announcement.publish_at,
        now=now,
    )
    if errors:
        raise InvalidInput(errors)
    apply_audience(announcement.audience, details.audience)
    _apply(announcement, details, now)
    record(
        Actions.ANNOUNCEMENT_UPDATED,
        actor=actor,
        partner_id=announcement.partner_id,
        target=announcement,
        summary=f"Edited the announcement “{announcement.title}”",
    )
    db.session.flush()
    return announcement


def publish(actor, announcement: Announcement, *, publish_at=None, now=None) -> bool:
    """Publish now (``publish_at`` None) or schedule it; True when it went live now.

    Going live notifies its audience. Refused, writing nothing, for a scheduled time in the
    past or an expiry not after the publish time.
    """
    _check_editable(actor, announcement)
    now = now or utcnow()
    if announcement.state(now) not in ("draft", "scheduled"):
        raise InvalidInput("This announcement is already live, expired or withdrawn.")
    if publish_at is not None and publish_at <= now:
        raise InvalidInput(
            {"publish_at": "The scheduled time is in the past; choose a later time or publish now."}
        )
    when = publish_at or now
    if announcement.expires_at is not None and announcement.expires_at <= when:
        raise InvalidInput(
            {"expires_at": "The expiry time is not after the publish time; change it first."}
        )
    if announcement.document_version_id is not None:
        errors, _version = _check_version(actor, announcement.document_version_id)
        if errors:
            raise InvalidInput(errors)
    announcement.status = AnnouncementStatus.PUBLISHED
    announcement.publish_at = when
    announcement.published_at = now
    announcement.updated_at = now
    scheduled = f" for {when:%Y-%m-%d %H:%M} UTC" if publish_at is not None else ""
    record(
        Actions.ANNOUNCEMENT_PUBLISHED,
        actor=actor,
        partner_id=announcement.partner_id,
        target=announcement,
        summary=f"Published the announcement “{announcement.title}”{scheduled}",
    )
    db.session.flush()
    if publish_at is None:
        _release(announcement, now)
        return True
    return False


def withdraw(actor, announcement: Announcement, *, now=None) -> Announcement:
    """Take a published (or scheduled) announcement down; its receipts are kept."""
    _check_editable(actor, announcement)
    now = now or utcnow()
    if announcement.status != AnnouncementStatus.PUBLISHED:
        raise InvalidInput("Only a published announcement can be withdrawn.")
    announcement.status = AnnouncementStatus.WITHDRAWN
    announcement.withdrawn_at = now
    announcement.updated_at = now
    record(
        Actions.ANNOUNCEMENT_WITHDRAWN,
        actor=actor,
        partner_id=announcement.partner_id,
        target=announcement,
        summary=f"Withdrew the announcement “{announcement.title}”",
    )
    db.session.flush()
    return announcement


def _claim(announcement_id: int, now) -> bool:
    """Mark the announcement released; False when someone else already did (two workers)."""
    claimed = db.session.execute(
        update(Announcement)
        .where(Announcement.id == announcement_id, Announcement.released_at.is_(None))
        .values(released_at=now)
        .returning(Announcement.id)
        .execution_options(synchronize_session=False)
    ).first()
    return claimed is not None


def _release(announcement: Announcement, now) -> bool:
    """Notify the audience of a live announcement, once; False when it was released before."""
    from portal.audiences.services import people_in_audience
    from portal.notifications.services import notify

    if not _claim(announcement.id, now):
        return False
    db.session.expire(announcement, ["released_at"])
    if announcement.expires_at is not None and announcement.expires_at <= now:
        return True  # released too late to matter: it expired while waiting
    people = people_in_audience(
        announcement.audience_id, partner_id=announcement.partner_id
    ).with_only_columns(User.id)
    notify(
        people,
        category="announcement",
        title=announcement.title,
        url=f"/announcements/{announcement.id}",
        required=announcement.priority == Priority.URGENT or announcement.requires_ack,
        context={
            "announcement_id": announcement.id,
            "title": announcement.title,
            "priority": announcement.priority,
            "requires_ack": announcement.requires_ack,
            "url": f"/announcements/{announcement.id}",
        },
        dedupe_key=f"announcement:{announcement.id}",
    )
    return True


def release_due(now=None) -> int:
    """Notify the audiences of scheduled announcements whose time has come; how many released.

    Safe to run from several workers at once: each announcement is claimed with one
    conditional UPDATE, so only one of them notifies. The caller commits.
    """
    now = now or utcnow()
    due = db.session.scalars(
        select(Announcement)
        .where(
            Announcement.status == AnnouncementStatus.PUBLISHED,
            Announcement.publish_at <= now,
            Announcement.released_at.is_(None),
        )
        .order_by(Announcement.publish_at, Announcement.id)
    ).all()
    return sum(1 for announcement in due if _release(announcement, now))

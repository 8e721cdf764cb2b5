"""Tell people about something: an in-app notification for each, and an email through the outbox.

``notify`` works on a SQL select of people, so a publish to ten thousand agents is two
INSERT ... SELECT statements, not a loop; the outbox worker (``flask --app wsgi mail
send-pending``) delivers the emails later, in batches, in each person's language.
"""

from sqlalchemy import JSON, String, cast, exists, false, func, literal, null, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from portal.core.clock import UTCDateTime, utcnow
from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.mail.models import OutboxMessage, OutboxStatus
from portal.notifications.models import (
    OPTIONAL_CATEGORIES,
    Category,
    Notification,
    NotificationPreference,
)
from portal.partners.models import Partner
from portal.people.models import User

GENERIC_TEMPLATE = "notification"


def _insert(table):
    return (pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert)(table)


def _reachable(people):
    """Active people (of an active partner, or staff) among the ids ``people`` selects."""
    ids = people.subquery()
    return (
        select(User.id)
        .outerjoin(Partner, Partner.id == User.partner_id)
        .where(
            User.id.in_(select(ids.c[0])),
            User.active,
            or_(User.partner_id.is_(None), Partner.active),
        )
    )


def _wants_email(user_id, category: Category, required: bool):
    """SQL condition: this person gets the email (required, or not turned off)."""
    if required or category not in OPTIONAL_CATEGORIES:
        return literal(True)
    return ~exists().where(
        NotificationPreference.user_id == user_id,
        NotificationPreference.category == category.value,
        NotificationPreference.email == false(),
    )


def notify(
    people,
    *,
    category,
    title: str,
    url: str,
    required: bool = False,
    email_template: str | None = None,
    context: dict | None = None,
    dedupe_key: str | None = None,
) -> int:
    """Notify everyone ``people`` selects (a select whose first column is User.id).

    Writes one in-app notification per active person and queues one email per person who
    has not turned this optional category off (``required`` ignores that choice). The email
    uses ``email_template`` (default: a generic one with the title and link) and gets
    ``context`` plus ``title``, ``url`` and ``person`` when it is rendered. With
    ``dedupe_key``, repeating the same call writes nothing. Returns how many were notified.
    """
    category = Category(category)
    now = utcnow()
    reachable = _reachable(people).subquery()
    key = literal(dedupe_key, String) if dedupe_key else null()
    rows = select(
        reachable.c.id,
        literal(category.value, String),
        literal(title[:200], String),
        literal(url or "", String),
        key,
        literal(now, UTCDateTime),
    ).where(reachable.c.id.is_not(None))
    stmt = _insert(Notification.__table__).from_select(
        ["user_id", "category", "title", "url", "dedupe_key", "created_at"], rows
    )
    if dedupe_key:
        stmt = stmt.on_conflict_do_nothing(index_elements=["user_id", "dedupe_key"])
    # RETURNING counts the rows written on every driver (psycopg reports rowcount -1 here).
    notified = len(db.session.execute(stmt.returning(Notification.__table__.c.id)).all())

    mail_context = {**(context or {}), "title": title, "url": url or ""}
    per_person_key = (
        literal(f"{category.value}:{dedupe_key}:", String) + cast(User.id, String)
        if dedupe_key
        else null()
    )
    mails = (
        select(
            User.id,
            User.email,
            literal(category.value, String),
            literal(email_template or GENERIC_TEMPLATE, String),
            literal(mail_context, JSON),
            literal(bool(required)),
            per_person_key,
            literal(OutboxStatus.PENDING.value, String),
            literal(0),
            literal(now, UTCDateTime),
            literal(now, UTCDateTime),
        )
        .join(reachable, reachable.c.id == User.id)
        .where(_wants_email(User.id, category, required))
    )
    stmt = _insert(OutboxMessage.__table__).from_select(
        [
            "user_id",
            "to_address",
            "category",
            "template",
            "context",
            "required",
            "dedupe_key",
            "status",
            "attempts",
            "next_attempt_at",
            "created_at",
        ],
        mails,
    )
    if dedupe_key:
        stmt = stmt.on_conflict_do_nothing(index_elements=["dedupe_key"])
    db.session.execute(stmt)
    return notified


def enqueue_mail(
    user_id: int,
    *,
    category,
    template: str,
    context: dict,
    required: bool = False,
    dedupe_key: str | None = None,
) -> bool:
    """Queue one email to one person; the outbox worker renders and sends it.

    Returns False, queuing nothing, when ``dedupe_key`` was already used, when the person
    is inactive, or when they turned this optional category off (and it is not required).
    """
    category = Category(category)
    person = db.session.execute(
        _reachable(select(literal(user_id)))
        .add_columns(User.email)
        .where(_wants_email(User.id, category, required))
    ).first()
    if person is None:
        return False
    stmt = _insert(OutboxMessage.__table__).values(
        user_id=user_id,
        to_address=person.email,
        category=category.value,
        template=template,
        context=context or {},
        required=bool(required),
        dedupe_key=dedupe_key,
        status=OutboxStatus.PENDING.value,
        attempts=0,
        next_attempt_at=utcnow(),
        created_at=utcnow(),
    )
    if dedupe_key:
        stmt = stmt.on_conflict_do_nothing(index_elements=["dedupe_key"])
    return db.session.execute(stmt.returning(OutboxMessage.__table__.c.id)).first() is not None


def unread_count(user) -> int:
    """How many of the person's notifications are unread (one query)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return 0
    return db.session.scalar(
        select(func.count(Notification.id)).where(
            Notification.user_id == user.id, Notification.read_at.is_(None)
        )
    )


def notifications_for(user):
    """Select of the person's notifications, newest first."""
    return (
        select(Notification)
        .where(Notification.user_id == user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )


def mark_read(user, notification_id: int) -> Notification | None:
    """Mark one of the person's notifications read; None when it is not theirs."""
    notification = db.session.scalar(
        select(Notification).where(
            Notification.id == notification_id, Notification.user_id == user.id
        )
    )
    if notification is not None and notification.read_at is None:
        notification.read_at = utcnow()
    return notification


def mark_all_read(user) -> int:
    """Mark every unread notification of the person read; returns how many."""
    return db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount


def email_preferences(user) -> dict[Category, bool]:
    """Optional category -> whether the person gets it by email (default on)."""
    rows = db.session.execute(
        select(NotificationPreference.category, NotificationPreference.email).where(
            NotificationPreference.user_id == user.id
        )
    ).all()
    chosen = dict(rows)
    return {c: chosen.get(c.value, True) for c in OPTIONAL_CATEGORIES}


def set_email_preferences(user, choices: dict) -> None:
    """Save the person's email choice per optional category (required ones cannot change)."""
    unknown = [c for c in choices if c not in {o.value for o in OPTIONAL_CATEGORIES}]
    if unknown:
        raise InvalidInput(f"“{unknown[0]}” is not a category you can turn off.")
    for category, email in choices.items():
        stmt = _insert(NotificationPreference.__table__).values(
            user_id=user.id, category=str(category), email=bool(email)
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["user_id", "category"], set_={"email": bool(email)}
        )
        db.session.execute(stmt)


def notify_document_published(document, version) -> int:
    """Tell the document's audience about a new document or a new material version.

    Minor versions tell nobody. Email is required when the document asks for an
    acknowledgement (it is something to do), optional otherwise.
    """
    from portal.audiences.services import people_in_audience
    from portal.library.models import ChangeLevel

    if version.change_level != ChangeLevel.MATERIAL:
        return 0
    first = version.number == 1
    people = people_in_audience(document.audience_id, partner_id=document.partner_id)
    return notify(
        people.with_only_columns(User.id),
        category=Category.DOCUMENT_VERSION,
        title=(
            f"New in the library: {document.title}"
            if first
            else f"Updated: {document.title} (version {version.number})"
        ),
        url=f"/library/{document.id}",
        required=bool(document.requires_ack),
        email_template="document_version",
        context={
            "document_id": document.id,
            "document_title": document.title,
            "number": version.number,
            "summary": "" if first else version.summary,
            "requires_ack": bool(document.requires_ack),
        },
        dedupe_key=f"document-version:{version.id}",
    )

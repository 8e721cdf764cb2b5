"""Sending reminders: one digest per person per day, and trainers' daily overdue digests.

Exactly once, even with two runs at the same time: for a batch of people, the first statement
inserts a ``ReminderSent`` row per (person, item, due date, stage) with ON CONFLICT DO NOTHING
and RETURNING, and only the rows this run inserted go into the digests, queued in the same
transaction. A concurrent run's insert waits on the unique index and then inserts nothing; if
this run fails, its rows roll back with its mail and the next run sends them.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import current_app, has_request_context, url_for
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from portal.core.clock import utcnow
from portal.extensions import db
from portal.mail.models import OutboxMessage
from portal.notifications.models import Category, Notification
from portal.notifications.services import enqueue_mail
from portal.partners.models import Partner
from portal.people.models import User
from portal.reminders.models import ItemSource, ReminderSent
from portal.reminders.services import DueItem, cadence, local_date, overdue_by_partner

PERSON_TEMPLATE = "reminder_digest"
TRAINER_TEMPLATE = "trainer_digest"
INSERT_CHUNK = 1000  # rows per INSERT (or keys per IN): well under SQLite's bound-parameter limit
TRAINER_DIGEST_PEOPLE = 100  # people listed in one trainer digest; the rest are counted

# How to link to an item of each source: (endpoint, id argument).
ITEM_LINKS = {
    ItemSource.DOCUMENT.value: ("library.show", "document_id"),
    ItemSource.COURSE.value: ("training.course", "course_id"),
}


@dataclass
class Summary:
    """What a run did (or, in a dry run, would do)."""

    people: int = 0  # people sent a digest
    items: int = 0  # item reminders in those digests
    skipped: int = 0  # item reminders already sent by an earlier (or concurrent) run
    trainer_digests: int = 0
    trainer_digests_skipped: int = 0  # already sent today

    def add(self, other: "Summary") -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def describe(self) -> str:
        return (
            f"Reminded {self.people} {'person' if self.people == 1 else 'people'} of "
            f"{self.items} item{'' if self.items == 1 else 's'}; "
            f"{self.skipped} already sent; "
            f"{self.trainer_digests} trainer digest{'' if self.trainer_digests == 1 else 's'} "
            f"({self.trainer_digests_skipped} already sent today)."
        )


@dataclass
class Plan:
    """The reminders due now, grouped by person, in batches for progress and commits."""

    by_person: dict[int, list[DueItem]] = field(default_factory=dict)

    @property
    def people(self) -> int:
        return len(self.by_person)

    def batches(self, size: int):
        people = list(self.by_person.items())
        for start in range(0, len(people), size):
            yield dict(people[start : start + size])


def plan(items: list[DueItem]) -> Plan:
    """Group due items by person (they arrive ordered by person)."""
    by_person: dict[int, list[DueItem]] = defaultdict(list)
    for item in items:
        by_person[item.user_id].append(item)
    return Plan(dict(by_person))


def _insert(table):
    return (pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert)(table)


def _record_sent(batch: dict[int, list[DueItem]]) -> dict[tuple, int]:
    """Insert the batch's ReminderSent rows; (person, source, item) -> id of the rows inserted."""
    steps = cadence()
    now = utcnow()
    rows = [
        dict(
            user_id=item.user_id,
            source=item.source,
            item_id=item.item_id,
            due_on=item.due_on,
            stage=steps.stage(item.days_left),
            sent_on=item.local_today,
            created_at=now,
        )
        for items in batch.values()
        for item in items
    ]
    table = ReminderSent.__table__
    inserted = {}
    for start in range(0, len(rows), INSERT_CHUNK):
        stmt = (
            _insert(table)
            .values(rows[start : start + INSERT_CHUNK])
            .on_conflict_do_nothing(
                index_elements=["user_id", "source", "item_id", "due_on", "stage"]
            )
            .returning(table.c.id, table.c.user_id, table.c.source, table.c.item_id)
        )
        for row in db.session.execute(stmt):
            inserted[(row.user_id, row.source, row.item_id)] = row.id
    return inserted


class _Links:
    """Paths to items and pages, built outside a request too (mail adds the base URL)."""

    def __init__(self):
        self.base = current_app.config["PORTAL_BASE_URL"].rstrip("/")
        self.paths: dict[tuple, str] = {}

    def path(self, endpoint: str, **values) -> str:
        key = (endpoint, *sorted(values.items()))
        if key not in self.paths:
            if has_request_context():
                self.paths[key] = url_for(endpoint, **values)
            else:
                with current_app.test_request_context(base_url=self.base):
                    self.paths[key] = url_for(endpoint, **values)
        return self.paths[key]

    def item_path(self, item: DueItem) -> str:
        endpoint, argument = ITEM_LINKS[item.source]
        return self.path(endpoint, **{argument: item.item_id})


def _item_context(item: DueItem, links: _Links) -> dict:
    return {
        "title": item.title,
        "due_on": item.due_on.isoformat(),
        "days_left": item.days_left,
        "days_overdue": max(-item.days_left, 0),
        "overdue": item.overdue,
        "url": links.item_path(item),  # the template adds base_url when the mail is sent
    }


def reminder_title(items: list[DueItem]) -> str:
    """A notification title such as 'Reminder: 1 overdue, 2 due today, 1 due soon'."""
    overdue = sum(1 for i in items if i.days_left < 0)
    today = sum(1 for i in items if i.days_left == 0)
    soon = sum(1 for i in items if i.days_left > 0)
    parts = [f"{overdue} overdue"] if overdue else []
    parts += [f"{today} due today"] if today else []
    parts += [f"{soon} due soon"] if soon else []
    return "Reminder: " + ", ".join(parts)


def _queue_digest(user_id: int, items: list[DueItem], first_id: int, links: _Links):
    """Queue one person's digest mail; returns the dedupe key used, or None if not queued."""
    local_today = items[0].local_today
    context = {
        "items": [_item_context(i, links) for i in items],
        "overdue_count": sum(1 for i in items if i.overdue),
        "local_date": local_today.isoformat(),
        "url": links.path("home.home"),  # the outbox renders it as ``link``
    }
    category = Category.OVERDUE if any(i.overdue for i in items) else Category.REMINDER
    key = f"reminder:{user_id}:{local_today.isoformat()}"
    # A second digest the same day carries only items that became due since the first (the
    # ReminderSent rows guarantee that), so it gets a key of its own instead of being dropped.
    for dedupe_key in (key, f"{key}:{first_id}"):
        if enqueue_mail(
            user_id,
            category=category,
            template=PERSON_TEMPLATE,
            context=context,
            required=True,
            dedupe_key=dedupe_key,
        ):
            return category, dedupe_key
    return None


def _notify_in_app(rows: list[dict]) -> None:
    """In-app notifications, one per person; the mail went through the outbox already."""
    if not rows:
        return
    now = utcnow()
    stmt = _insert(Notification.__table__).values([{**row, "created_at": now} for row in rows])
    db.session.execute(stmt.on_conflict_do_nothing(index_elements=["user_id", "dedupe_key"]))


def send_batch(batch: dict[int, list[DueItem]]) -> Summary:
    """Record and queue the reminders of one batch of people (the caller commits).

    The ReminderSent insert is the batch's first statement, so on SQLite the transaction takes
    the write lock at once (waiting for a concurrent run) instead of failing on upgrade.
    """
    inserted = _record_sent(batch)
    links = _Links()
    summary = Summary()
    notifications = []
    for user_id, items in batch.items():
        new = [i for i in items if i.key in inserted]
        summary.skipped += len(items) - len(new)
        if not new:
            continue
        queued = _queue_digest(user_id, new, min(inserted[i.key] for i in new), links)
        if queued is None:
            continue
        category, dedupe_key = queued
        summary.people += 1
        summary.items += len(new)
        url = links.item_path(new[0]) if len(new) == 1 else links.path("home.home")
        notifications.append(
            dict(
                user_id=user_id,
                category=category.value,
                title=reminder_title(new),
                url=url,
                dedupe_key=dedupe_key,
            )
        )
    _notify_in_app(notifications)
    return summary


def _used_dedupe_keys(keys: list[str]) -> set[str]:
    """Which of ``keys`` already queued a mail (a few queries for any number of trainers)."""
    used = set()
    for start in range(0, len(keys), INSERT_CHUNK):
        chunk = keys[start : start + INSERT_CHUNK]
        used.update(
            db.session.scalars(
                select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(chunk))
            )
        )
    return used


def send_trainer_digests(today: date | None = None, *, now: datetime | None = None) -> Summary:
    """Queue each active trainer's daily digest of their own partner's overdue people.

    Sent at most once per trainer and local date (the outbox dedupe key); a trainer whose
    partner has nobody overdue gets nothing. The caller commits.
    """
    now = now or utcnow()
    summary = Summary()
    trainers = db.session.execute(
        select(User.id, User.partner_id, User.timezone)
        .join(Partner, Partner.id == User.partner_id)
        .where(User.role == "trainer", User.active, Partner.active)
        .order_by(User.id)
    ).all()
    days = {t.id: local_date(t.timezone, today, now) for t in trainers}
    keys = {t.id: f"trainer-digest:{t.id}:{days[t.id].isoformat()}" for t in trainers}
    # An hourly run finds most digests already sent: skip working out who is overdue for them.
    sent = _used_dedupe_keys(list(keys.values()))
    summary.trainer_digests_skipped = len(sent)
    waiting = [t for t in trainers if keys[t.id] not in sent]
    if not waiting:
        return summary
    overdue = overdue_by_partner(
        today, now=now, partner_ids=sorted({t.partner_id for t in waiting})
    )
    links = _Links()
    notifications = []
    for trainer in waiting:
        people = [p for p in overdue.get(trainer.partner_id, []) if p[0] != trainer.id]
        if not people:
            continue
        day = days[trainer.id]
        context = {
            "local_date": day.isoformat(),
            "overdue_people": len(people),
            "people": [
                {
                    "name": name,
                    "url": links.path("people.show", person_id=person_id),
                    "items": [_item_context(item, links) for item in items],
                }
                for person_id, name, items in people[:TRAINER_DIGEST_PEOPLE]
            ],
            "more_people": max(len(people) - TRAINER_DIGEST_PEOPLE, 0),
            "url": links.path("people.index"),
        }
        dedupe_key = keys[trainer.id]
        queued = enqueue_mail(
            trainer.id,
            category=Category.DIGEST,
            template=TRAINER_TEMPLATE,
            context=context,
            required=True,
            dedupe_key=dedupe_key,
        )
        if not queued:
            summary.trainer_digests_skipped += 1
            continue
        summary.trainer_digests += 1
        title = f"{len(people)} of your people {'is' if len(people) == 1 else 'are'} overdue"
        notifications.append(
            dict(
                user_id=trainer.id,
                category=Category.DIGEST.value,
                title=title,
                url=links.path("people.index"),
                dedupe_key=dedupe_key,
            )
        )
    _notify_in_app(notifications)
    return summary

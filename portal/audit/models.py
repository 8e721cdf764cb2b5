"""The append-only audit log, each event chained to the one before it."""

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, func, inspect, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from portal.audit.chain import CHAINED_FIELDS, event_hash
from portal.core.clock import UTCDateTime, utcnow
from portal.extensions import db


class AuditEvent(db.Model):
    """Something that happened: written once, never updated or deleted.

    ``actor_id`` and ``partner_id`` are plain references: the event outlives the person's
    deactivation, and ``actor_email`` keeps who it was even if the account changes.
    ``prev_hash`` and ``hash`` are set when the event is flushed (see ``_seal_new_events``).
    """

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    actor_email: Mapped[str | None] = mapped_column(String(254))
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id"), index=True)
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[int | None]
    summary: Mapped[str] = mapped_column(String(500), default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    ip_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    actor = relationship("User", lazy="raise")
    partner = relationship("Partner", lazy="raise")


class AuditChainHead(db.Model):
    """The last event of the chain: one row, locked by every writer until its commit.

    Writers chain one after another, so ids grow in chain order; ``audit verify`` compares
    the log's last event with this row to notice events deleted from the end.
    """

    __tablename__ = "audit_chain_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_event_id: Mapped[int | None]
    last_hash: Mapped[str | None] = mapped_column(String(64))


class AppendOnlyError(RuntimeError):
    """Raised when ordinary code tries to rewrite a compliance record."""


@db.event.listens_for(AuditEvent, "before_update")
@db.event.listens_for(AuditEvent, "before_delete")
def _refuse_rewrite(_mapper, _connection, target):
    raise AppendOnlyError(f"{type(target).__name__} records are written once")


_INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def _lock_chain_head(connection) -> str | None:
    """Take the chain head for this transaction and return the last event's hash.

    The INSERT (a no-op once the row exists) takes SQLite's write lock before anything is
    read; FOR UPDATE takes the row lock on PostgreSQL. Both last until commit or rollback.
    """
    head = AuditChainHead.__table__
    insert = _INSERT[connection.dialect.name]
    connection.execute(insert(head).values(id=1).on_conflict_do_nothing())
    return connection.execute(
        select(head.c.last_hash).where(head.c.id == 1).with_for_update()
    ).scalar_one()


def _next_ids(connection, count: int) -> list[int]:
    """``count`` new event ids, taken while the chain head is locked so they follow the chain."""
    if connection.dialect.name == "postgresql":
        sequence = func.pg_get_serial_sequence(AuditEvent.__tablename__, "id")
        series = func.generate_series(1, count).table_valued("n")
        ids = connection.execute(select(func.nextval(sequence)).select_from(series)).scalars()
        return sorted(ids)
    last = connection.execute(select(func.coalesce(func.max(AuditEvent.id), 0))).scalar_one()
    return list(range(last + 1, last + count + 1))


@db.event.listens_for(Session, "before_flush")
def _seal_new_events(session, _flush_context, _instances):
    """Chain the session's new events, in the order they were added, after the last one."""
    events = sorted(
        (obj for obj in session.new if isinstance(obj, AuditEvent)),
        key=lambda event: inspect(event).insert_order,
    )
    if not events:
        return
    connection = session.connection()
    last_hash = _lock_chain_head(connection)
    ids = _next_ids(connection, len(events))
    for event, event_id in zip(events, ids, strict=True):
        event.id = event_id
        if event.occurred_at is None:
            event.occurred_at = utcnow()
        if event.summary is None:
            event.summary = ""
        if event.details is None:
            event.details = {}
        event.prev_hash = last_hash
        event.hash = last_hash = event_hash(
            {name: getattr(event, name) for name in CHAINED_FIELDS}, event.prev_hash
        )
    head = AuditChainHead.__table__
    connection.execute(
        update(head).where(head.c.id == 1).values(last_event_id=ids[-1], last_hash=last_hash)
    )

"""tamper-evident audit chain: prev_hash and hash on every event, and the chain head

Events written before this migration are hashed here, in id order, 1,000 at a time.

Revision ID: 0009_audit_chain
Revises: 0008_search_entries
Create Date: 2026-12-05 10:00:00.000000

"""
import hashlib
import json
from datetime import UTC

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_audit_chain'
down_revision = '0008_search_entries'
branch_labels = None
depends_on = None

BATCH = 1000

# The audit_event table as this migration knows it.
events = sa.table(
    'audit_event',
    sa.column('id', sa.Integer),
    sa.column('occurred_at', sa.DateTime),
    sa.column('action', sa.String),
    sa.column('actor_id', sa.Integer),
    sa.column('actor_email', sa.String),
    sa.column('partner_id', sa.Integer),
    sa.column('target_type', sa.String),
    sa.column('target_id', sa.Integer),
    sa.column('summary', sa.String),
    sa.column('details', sa.JSON),
    sa.column('ip_address', sa.String),
    sa.column('user_agent', sa.String),
    sa.column('prev_hash', sa.String),
    sa.column('hash', sa.String),
)
head = sa.table(
    'audit_chain_head',
    sa.column('id', sa.Integer),
    sa.column('last_event_id', sa.Integer),
    sa.column('last_hash', sa.String),
)
CHAINED_FIELDS = (
    'id', 'occurred_at', 'action', 'actor_id', 'actor_email', 'partner_id', 'target_type',
    'target_id', 'summary', 'details', 'ip_address', 'user_agent',
)


def event_hash(row, prev_hash):
    """A frozen copy of portal.audit.chain.event_hash (stored times are naive UTC)."""
    document = {name: row[name] for name in CHAINED_FIELDS}
    document['occurred_at'] = (
        document['occurred_at'].replace(tzinfo=UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')
    )
    document['details'] = json.loads(json.dumps(document['details']))
    document['prev_hash'] = prev_hash
    text = json.dumps(document, sort_keys=True, separators=(',', ':'))
    return hashlib.sha256(text.encode('ascii')).hexdigest()


def seal_existing_events(bind):
    """Chain the events already written, oldest id first; return the last id and hash."""
    last_id, last_hash = None, None
    columns = [events.c[name] for name in CHAINED_FIELDS]
    while True:
        stmt = sa.select(*columns).order_by(events.c.id).limit(BATCH)
        if last_id is not None:
            stmt = stmt.where(events.c.id > last_id)
        rows = bind.execute(stmt).mappings().all()
        if not rows:
            return last_id, last_hash
        sealed = []
        for row in rows:
            digest = event_hash(row, last_hash)
            sealed.append({'event_id': row['id'], 'prev': last_hash, 'digest': digest})
            last_id, last_hash = row['id'], digest
        bind.execute(
            events.update()
            .where(events.c.id == sa.bindparam('event_id'))
            .values(prev_hash=sa.bindparam('prev'), hash=sa.bindparam('digest')),
            sealed,
        )


def upgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))

    op.create_table('audit_chain_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_event_id', sa.Integer(), nullable=True),
    sa.Column('last_hash', sa.String(length=64), nullable=True),
    sa.CheckConstraint('id = 1', name=op.f('ck_audit_chain_head_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain_head'))
    )
    last_id, last_hash = seal_existing_events(op.get_bind())
    op.get_bind().execute(head.insert().values(id=1, last_event_id=last_id, last_hash=last_hash))

    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)


def downgrade():
    op.drop_table('audit_chain_head')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')

"""search entries for the PostgreSQL full-text search backend

Revision ID: 0008_search_entries
Revises: 0007_report_indexes
Create Date: 2026-12-05 10:12:41.118204

On PostgreSQL: a tsvector column with a GIN index, and arrays for tags and audience facts.
On SQLite the same table is created with plain text and JSON columns and stays empty (only
SEARCH_BACKEND=postgres writes it), so that the models describe both databases.
After upgrading a PostgreSQL database that uses the postgres backend, run
`flask --app wsgi search reindex` to fill the table.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '0008_search_entries'
down_revision = '0007_report_indexes'
branch_labels = None
depends_on = None

ids = postgresql.ARRAY(sa.Integer()).with_variant(sa.JSON(), 'sqlite')
words = postgresql.ARRAY(sa.Text()).with_variant(sa.JSON(), 'sqlite')


def upgrade():
    op.create_table('search_entry',
    sa.Column('document_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('tags', words, nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=True),
    sa.Column('audience_partner_ids', ids, nullable=False),
    sa.Column('audience_team_ids', ids, nullable=False),
    sa.Column('audience_roles', words, nullable=False),
    sa.Column('audience_languages', words, nullable=False),
    sa.Column('reach_partner_ids', ids, nullable=False),
    sa.Column('changed_at', sa.DateTime(), nullable=True),
    sa.Column('vector', postgresql.TSVECTOR().with_variant(sa.Text(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], name=op.f('fk_search_entry_document_id_document'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('document_id', name=op.f('pk_search_entry'))
    )
    with op.batch_alter_table('search_entry', schema=None) as batch_op:
        batch_op.create_index('ix_search_entry_vector', ['vector'], unique=False, postgresql_using='gin')


def downgrade():
    with op.batch_alter_table('search_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_search_entry_vector', postgresql_using='gin')

    op.drop_table('search_entry')

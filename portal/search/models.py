"""What the PostgreSQL search backend stores: one row per searchable document.

The table is part of the schema on every database, so that one set of models and migrations
describes SQLite and PostgreSQL alike; only ``SEARCH_BACKEND=postgres`` writes to it, and on
SQLite it stays empty (its arrays are JSON and its full-text column plain text there).

A row holds the words of the document's current version as a weighted ``tsvector`` (built
by ``portal.search.postgres_backend`` as it writes the row) and the audience facts of
``IndexedDocument``, so that the audience filter, the facets and the ranking are answered from
this table alone, like the Whoosh index answers them from its own fields.
"""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.clock import UTCDateTime
from portal.extensions import db

IdArray = ARRAY(Integer).with_variant(JSON(), "sqlite")
WordArray = ARRAY(Text).with_variant(JSON(), "sqlite")
SearchVector = TSVECTOR().with_variant(Text(), "sqlite")


class SearchEntry(db.Model):
    """A published or archived document as search sees it (drafts are never here)."""

    __tablename__ = "search_entry"
    __table_args__ = (Index("ix_search_entry_vector", "vector", postgresql_using="gin"),)

    document_id: Mapped[int] = mapped_column(
        ForeignKey("document.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)  # the current version as plain text
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12))
    tags: Mapped[list[str]] = mapped_column(WordArray)
    partner_id: Mapped[int | None] = mapped_column(Integer)  # set for a partner-local document
    audience_partner_ids: Mapped[list[int]] = mapped_column(IdArray)
    audience_team_ids: Mapped[list[int]] = mapped_column(IdArray)
    audience_roles: Mapped[list[str]] = mapped_column(WordArray)
    audience_languages: Mapped[list[str]] = mapped_column(WordArray)
    # Partners the place rules reach; empty when the audience has no place rules.
    reach_partner_ids: Mapped[list[int]] = mapped_column(IdArray)
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    vector: Mapped[str] = mapped_column(SearchVector)

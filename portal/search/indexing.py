"""Keeping the search index current: changes are queued on the session, indexed after commit.

Services that change what search shows (publish, archive, restore, audience or tag changes)
call :func:`mark_for_reindex`. The ids ride on the SQLAlchemy session; after the transaction
commits, the search backend re-reads those documents and updates the index, so the index
never shows something the database rolled back. (Listeners: ``portal.search.init_app``.)
"""

from portal.extensions import db

PENDING_KEY = "search_reindex"


def mark_for_reindex(document_id: int) -> None:
    """Queue ``document_id`` to be re-indexed once the current transaction commits."""
    db.session.info.setdefault(PENDING_KEY, set()).add(document_id)

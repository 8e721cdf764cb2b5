"""Keeping the search index current: changes are queued on the session, indexed after commit.

Services that change what search shows (publish, archive, restore, audience or tag changes)
call :func:`mark_for_reindex`. The ids ride on the SQLAlchemy session. Just before the
transaction commits, :func:`_snapshot` reads those documents (inside the still-open
transaction, so it sees exactly what is being committed); once the commit has succeeded,
:func:`_write` hands them to the search backend. A rollback drops the queue, so the index never
shows something the database rolled back. A failure to index is logged, never raised: the
person's change is saved, and ``flask --app wsgi search reindex`` repairs the index.
"""

import logging
from collections.abc import Iterable, Iterator

from flask import current_app
from sqlalchemy import event, func, select

from portal.extensions import db
from portal.library.models import Document, DocumentStatus, DocumentVersion
from portal.library.rendering import plain_text
from portal.search.base import IndexedDocument

PENDING_KEY = "search_reindex"
SNAPSHOT_KEY = "search_snapshot"
INDEXED_STATUSES = (DocumentStatus.PUBLISHED, DocumentStatus.ARCHIVED)

log = logging.getLogger("portal.search")


def mark_for_reindex(document_id: int) -> None:
    """Queue ``document_id`` to be re-indexed once the current transaction commits."""
    db.session.info.setdefault(PENDING_KEY, set()).add(document_id)


def indexed_document(document: Document, body: str) -> IndexedDocument:
    """The search payload of ``document`` whose current version's Markdown is ``body``.

    ``document.audience`` must be loaded (it is, by default) with its team links.
    """
    audience = document.audience
    team_partners = {link.team.partner_id for link in audience.team_links}
    return IndexedDocument(
        id=document.id,
        title=document.title,
        body=plain_text(body),
        kind=document.kind,
        status=document.status,
        tags=tuple(document.tags),
        partner_id=document.partner_id,
        audience_partner_ids=tuple(audience.partner_ids),
        audience_team_ids=tuple(audience.team_ids),
        audience_roles=tuple(audience.roles),
        audience_languages=tuple(audience.languages),
        reach_partner_ids=tuple(sorted(set(audience.partner_ids) | team_partners)),
        changed_at=document.changed_at,
    )


def documents_for_index(document_ids: Iterable[int]) -> tuple[list[IndexedDocument], list[int]]:
    """(payloads to index, ids to remove) for these documents as the session sees them now.

    Only documents with a current version that are published or archived are searchable;
    drafts, and ids that no longer exist, are removed.
    """
    ids = sorted(set(document_ids))
    if not ids:
        return [], []
    rows = db.session.execute(
        select(Document, DocumentVersion.body)
        .outerjoin(DocumentVersion, DocumentVersion.id == Document.current_version_id)
        .where(Document.id.in_(ids))
    ).all()
    payloads = [
        indexed_document(document, body)
        for document, body in rows
        if body is not None and document.status in INDEXED_STATUSES
    ]
    kept = {p.id for p in payloads}
    return payloads, [i for i in ids if i not in kept]


def _searchable():
    return select(Document.id).where(
        Document.current_version_id.is_not(None), Document.status.in_(INDEXED_STATUSES)
    )


def count_searchable() -> int:
    """How many documents a full rebuild indexes."""
    return db.session.scalar(select(func.count()).select_from(_searchable().subquery()))


def all_documents_for_index(batch_size: int = 200) -> Iterator[IndexedDocument]:
    """Every searchable document, read in batches (for ``search reindex``)."""
    ids = db.session.scalars(_searchable().order_by(Document.id)).all()
    for start in range(0, len(ids), batch_size):
        payloads, _ = documents_for_index(ids[start : start + batch_size])
        yield from payloads


# Session listeners (registered once by ``portal.search.init_app``).


def _backend():
    return current_app.extensions.get("search")


def _snapshot(session):
    if session.in_nested_transaction() or not session.info.get(PENDING_KEY):
        return
    try:
        session.flush()
        ids = session.info.pop(PENDING_KEY)
        payloads, removals = documents_for_index(ids)
    except Exception:
        log.exception("Could not read documents for the search index; run `search reindex`")
        return
    earlier_payloads, earlier_removals = session.info.get(SNAPSHOT_KEY, ([], []))
    session.info[SNAPSHOT_KEY] = (earlier_payloads + payloads, earlier_removals + removals)


def _write(session):
    if session.in_nested_transaction():
        return
    snapshot = session.info.pop(SNAPSHOT_KEY, None)
    session.info.pop(PENDING_KEY, None)
    backend = _backend()
    if not snapshot or backend is None:
        return
    payloads, removals = snapshot
    try:
        if removals:
            backend.remove(removals)
        if payloads:
            backend.index(payloads)
    except Exception:
        ids = sorted([p.id for p in payloads] + removals)
        log.exception("Search index update failed for documents %s; run `search reindex`", ids)


def _forget(session, transaction):
    if transaction.parent is None:  # the outermost transaction: its queue is void
        session.info.pop(PENDING_KEY, None)
        session.info.pop(SNAPSHOT_KEY, None)


def listen(target) -> None:
    """Keep the index current for every session ``target`` (a scoped session) creates."""
    if event.contains(target, "after_commit", _write):
        return
    event.listen(target, "before_commit", _snapshot)
    event.listen(target, "after_commit", _write)
    event.listen(target, "after_soft_rollback", _forget)
    event.listen(target, "after_transaction_end", _forget)

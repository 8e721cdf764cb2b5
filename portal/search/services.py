"""Searching the library for one person: checking what they typed, then the SQL re-check.

The backend filters by audience inside the engine; this module makes sure that nothing it
returns is shown unless ``visible_documents`` agrees right now (the index can lag behind the
database for a moment, or after a failed update).
"""

import re

from markupsafe import escape
from sqlalchemy import select

from portal.access.visibility import visible_documents
from portal.extensions import db
from portal.library.models import Document, DocumentKind, DocumentTag
from portal.library.services import TAG_RE
from portal.search import get_search
from portal.search.base import SearchPage, SearchQuery

MAX_QUERY_CHARS = 200
MAX_PAGE = 100
_WORD_RE = re.compile(r"\w")

TOO_LONG = f"Search terms are limited to {MAX_QUERY_CHARS} characters. Shorten your search."
NO_WORDS = "Type some words to search: symbols alone match nothing."


def search_library(
    viewer, text: str, *, kind: str | None = None, tag: str | None = None, page: int = 1
) -> tuple[SearchQuery, SearchPage]:
    """One page of library search results for ``viewer``, and the query as understood.

    Refuses (with a message and no results) a query over 200 characters or without any
    word; ignores an unknown kind or tag filter with a message. Every hit shown is one
    ``viewer`` may open.
    """
    text = (text or "").strip()
    messages = []
    kind = (kind or "").strip() or None
    if kind and kind not in set(DocumentKind):
        messages.append("That kind of document does not exist, so every kind is shown.")
        kind = None
    tag = (tag or "").strip().lower() or None
    if tag and not TAG_RE.match(tag):
        messages.append("That is not a tag, so every tag is shown.")
        tag = None
    page = min(max(page or 1, 1), MAX_PAGE)
    search = SearchQuery(text=text[:MAX_QUERY_CHARS], kind=kind, tag=tag, page=page)
    if len(text) > MAX_QUERY_CHARS:
        return search, SearchPage(message=TOO_LONG)
    if text and not _WORD_RE.search(text):
        return search, SearchPage(message=NO_WORDS)
    if not text:
        return search, SearchPage(message=" ".join(messages) or None)
    results = get_search().search(search, viewer)
    _keep_visible(results, viewer)
    if messages or results.message:
        results.message = " ".join([*messages, *([results.message] if results.message else [])])
    return search, results


def _keep_visible(results: SearchPage, viewer) -> None:
    """Drop hits ``viewer`` may not open now and refresh titles from the database."""
    ids = [hit.document_id for hit in results.hits]
    if not ids:
        return
    rows = db.session.execute(
        visible_documents(viewer)
        .with_only_columns(Document.id, Document.title, Document.kind)
        .where(Document.id.in_(ids))
    ).all()
    current = {row.id: row for row in rows}
    tags = {}
    for document_id, tag in db.session.execute(
        select(DocumentTag.document_id, DocumentTag.tag)
        .where(DocumentTag.document_id.in_(list(current)))
        .order_by(DocumentTag.tag)
    ):
        tags.setdefault(document_id, []).append(tag)
    kept = []
    for hit in results.hits:
        row = current.get(hit.document_id)
        if row is None:
            continue
        if row.title != hit.title:  # renamed since it was indexed
            hit.title, hit.title_html = row.title, escape(row.title)
        hit.kind = row.kind
        hit.tags = tuple(tags.get(hit.document_id, ()))
        kept.append(hit)
    results.total -= len(results.hits) - len(kept)
    results.hits = kept

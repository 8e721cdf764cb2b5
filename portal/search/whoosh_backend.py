"""The embedded search backend: a Whoosh index in a local folder (one per host).

Several worker processes may write at once: each write takes Whoosh's index lock with a
timeout and is retried, so concurrent publishes queue up instead of failing. Each thread
keeps a searcher and reopens it when another commit has landed, so searches see the last
committed state.
"""

import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from math import ceil

from markupsafe import Markup, escape
from whoosh import highlight, index
from whoosh import query as wq
from whoosh.filedb.filestore import FileStorage
from whoosh.index import _DEF_INDEX_NAME as INDEX_NAME
from whoosh.index import TOC, LockError
from whoosh.writing import CLEAR

from portal.search.base import (
    Hit,
    IndexedDocument,
    Progress,
    SearchBackend,
    SearchPage,
    SearchQuery,
    SearchViewer,
    Sees,
)
from portal.search.whoosh_schema import SCHEMA, audience_filter, document_fields, parse_query
from portal.search.whoosh_spelling import suggest

log = logging.getLogger("portal.search")

SNIPPET_CHARS = 240
MAX_TAG_FACETS = 12
REBUILD_BATCH = 100


class MarkFormatter(highlight.Formatter):
    """Matched words in a bare <mark>; every other character HTML-escaped."""

    between = " … "

    def _text(self, text):
        return str(escape(text))

    def format_token(self, text, token, replace=False):
        return f"<mark>{self._text(highlight.get_text(text, token, replace))}</mark>"

    def format(self, fragments, replace=False):
        formatted = super().format(fragments, replace)
        if fragments and fragments[0].startchar > 0:
            formatted = "… " + formatted
        if fragments and fragments[-1].endchar < len(fragments[-1].text):
            formatted += " …"
        return formatted


# Pinpoint fragments use the character offsets stored in the index instead of analysing
# each document's text again (about ten times faster; see bench/search.py).
SNIPPETS = highlight.Highlighter(
    fragmenter=highlight.PinpointFragmenter(maxchars=160, surround=60, autotrim=True),
    formatter=MarkFormatter(),
)
TITLES = highlight.Highlighter(fragmenter=highlight.WholeFragmenter(), formatter=MarkFormatter())


class WhooshBackend(SearchBackend):
    """Search backed by a Whoosh index at ``path``, created on first use."""

    def __init__(self, path: str, *, writer_timeout: float = 10.0, attempts: int = 3):
        self.path = path
        self.writer_timeout = writer_timeout
        self.attempts = attempts
        self._index = None
        self._open_lock = threading.Lock()
        self._cache = _PerGeneration()
        self._local = threading.local()

    # The index and its writers.

    def _open(self) -> index.Index:
        if self._index is None:
            with self._open_lock:
                if self._index is None:
                    self._index = self._open_or_create()
        return self._index

    def _open_or_create(self) -> index.Index:
        os.makedirs(self.path, exist_ok=True)
        storage = FileStorage(self.path)
        creating = storage.lock("portal_create")  # another process may be creating it now
        creating.acquire(blocking=True)
        try:
            if storage.index_exists():
                ix = storage.open_index()
                if sorted(ix.schema.names()) == sorted(SCHEMA.names()):
                    return ix
                log.warning("The search index at %s has an old schema; emptying it", self.path)
            # An empty table of contents one generation past any earlier one (Whoosh's
            # create_index would restart at 0): other processes' searchers and cached
            # filters then see that the index changed. `search reindex` fills it.
            generation = TOC._latest_generation(storage, INDEX_NAME) + 1
            TOC(SCHEMA, [], generation).write(storage, INDEX_NAME)
            return storage.open_index()
        finally:
            creating.release()

    def _writer(self, ix: index.Index):
        for attempt in range(1, self.attempts + 1):
            try:
                return ix.writer(timeout=self.writer_timeout, delay=0.05)
            except LockError:
                if attempt == self.attempts:
                    raise
                log.warning("Search index busy; retrying (attempt %d)", attempt)
                time.sleep(0.2 * attempt)
        raise AssertionError("unreachable")

    def _write(self, apply: Callable) -> None:
        writer = self._writer(self._open())
        try:
            apply(writer)
        except BaseException:
            writer.cancel()
            raise
        writer.commit()

    def index(self, documents: list[IndexedDocument]) -> None:
        if documents:
            self._write(lambda w: [w.update_document(**document_fields(d)) for d in documents])

    def remove(self, document_ids: Iterable[int]) -> None:
        ids = [str(i) for i in document_ids]
        if ids:
            self._write(lambda w: [w.delete_by_term("id", i) for i in ids])

    def rebuild(
        self, documents: Iterable[IndexedDocument], total: int, progress: Progress | None = None
    ) -> int:
        # One writer for the whole run; CLEAR drops the old segments only at commit, so
        # searches keep working on the old index meanwhile.
        writer = self._writer(self._open())
        count = batch = 0
        try:
            for document in documents:
                writer.add_document(**document_fields(document))
                count, batch = count + 1, batch + 1
                if batch == REBUILD_BATCH:
                    if progress:
                        progress(batch)
                    batch = 0
        except BaseException:
            writer.cancel()
            raise
        writer.commit(mergetype=CLEAR)
        if progress and batch:
            progress(batch)
        return count

    def clear(self) -> None:
        self._writer(self._open()).commit(mergetype=CLEAR)

    def count(self) -> int:
        return self._open().doc_count()

    # Searching.

    def _searcher(self):
        """This thread's searcher, reopened when the index has a newer commit (opening one
        for every search re-reads every segment)."""
        ix = self._open()
        cached = getattr(self._local, "searcher", None)
        if cached is not None:
            pid, searcher = cached
            # (A forked worker never reuses its parent's open files. Whoosh's refresh()
            # reuses segment readers and then misses new deletions, so reopen instead.)
            if pid == os.getpid() and searcher._ix is ix and searcher.up_to_date():
                return searcher
            if pid == os.getpid():
                searcher.close()
        searcher = ix.searcher()
        self._local.searcher = (os.getpid(), searcher)
        return searcher

    def _allowed(self, searcher, viewer: SearchViewer, search: SearchQuery) -> set | None:
        """Document numbers the viewer may see, narrowed by the kind/tag facets (None: all)."""
        parts = [audience_filter(viewer)]
        if search.kind:
            parts.append(wq.Term("kind", search.kind))
        if search.tag:
            parts.append(wq.Term("tags", search.tag))
        parts = [p for p in parts if p is not None]
        if not parts:
            return None
        key = ("allowed", viewer, search.kind, search.tag)
        return self._cache.get(searcher, key, lambda: set(searcher.docs_for_query(wq.And(parts))))

    def _facet(self, searcher, fieldname: str, matched: set, limit=None) -> list[tuple[str, int]]:
        """(value, count) of ``fieldname`` over the matched documents, most frequent first."""

        def documents_by_value():
            return {
                value: frozenset(searcher.docs_for_query(wq.Term(fieldname, value)))
                for value in searcher.reader().field_terms(fieldname)
            }

        by_value = self._cache.get(searcher, ("facet", fieldname), documents_by_value)
        counts = ((value, len(docs & matched)) for value, docs in by_value.items())
        ranked = sorted((pair for pair in counts if pair[1]), key=lambda p: (-p[1], p[0]))
        return ranked[:limit] if limit else ranked

    def search(self, query: SearchQuery, viewer) -> SearchPage:
        viewer = SearchViewer.of(viewer)
        page = SearchPage(page=query.page, per_page=query.per_page)
        if viewer.sees is Sees.NOTHING:
            return page
        parsed, page.message = parse_query(query.text)
        if parsed is None:
            return page
        searcher = self._searcher()
        allowed = self._allowed(searcher, viewer, query)
        if allowed is not None and not allowed:
            return page  # Whoosh reads an empty filter set as "no filter"
        # Collect every match (limit=None) in one pass: the total and the facets need
        # them all anyway. (With a limit, Whoosh 2.7 may skip blocks and then counts
        # len(results) without the filter.) terms=True is for pinpoint snippets.
        results = searcher.search(parsed, limit=None, filter=allowed, terms=True)
        matched = set(results.docs())  # every match within the filter
        page.total = len(matched)
        if not page.total:
            page.suggestion = suggest(searcher, query.text, allowed)
            return page
        page.page = max(1, min(query.page, ceil(page.total / query.per_page)))
        start = (page.page - 1) * query.per_page
        page.hits = [_hit(hit) for hit in results[start : start + query.per_page]]
        page.facets = {
            "kind": self._facet(searcher, "kind", matched),
            "tag": self._facet(searcher, "tags", matched, MAX_TAG_FACETS),
        }
        return page


class _PerGeneration:
    """Document sets that change only when the index does (audience filters, facet values),
    kept until a searcher sees a newer index generation."""

    def __init__(self, size: int = 256):
        self.size = size
        self._generation = None
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _version(searcher):
        # The generation alone is not enough: a recreated index counts from 0 again, so its
        # (randomly named) segments are part of the key.
        reader = searcher.reader()
        leaves = [leaf for leaf, _ in reader.leaf_readers()]
        if reader.generation() is None or not all(hasattr(r, "segment") for r in leaves):
            return None
        return reader.generation(), tuple(leaf.segment().segment_id() for leaf in leaves)

    def get(self, searcher, key, compute):
        generation = self._version(searcher)
        if generation is None:
            return compute()
        with self._lock:
            if generation != self._generation:
                self._generation, self._items = generation, OrderedDict()
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = compute()
        with self._lock:
            if generation == self._generation:
                self._items[key] = value
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
        return value


def _hit(hit) -> Hit:
    fields = hit.fields()
    title = fields.get("title", "")
    snippet = SNIPPETS.highlight_hit(hit, "body", top=2)
    if not snippet:
        body = fields.get("body", "")
        snippet = escape(body[:SNIPPET_CHARS]) + ("…" if len(body) > SNIPPET_CHARS else "")
    title_html = TITLES.highlight_hit(hit, "title", top=1) or escape(title)
    tags = tuple(t for t in (fields.get("tags") or "").split(",") if t)
    return Hit(
        document_id=int(fields["id"]),
        title=title,
        kind=fields.get("kind", ""),
        status=fields.get("status", ""),
        tags=tags,
        title_html=Markup(title_html),
        snippet_html=Markup(snippet),
        score=hit.score or 0.0,
    )

"""The embedded search backend: a Whoosh index in a local folder (one per host).

Several worker processes may write at once: each write takes Whoosh's index lock with a
timeout and is retried, so concurrent publishes queue up instead of failing. Each thread
keeps a searcher and reopens it when another commit has landed, so searches see the last
committed state.
"""

import logging
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from math import ceil

from markupsafe import Markup, escape
from whoosh import index
from whoosh import query as wq
from whoosh.codec.whoosh3 import W3Codec
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
from portal.search.whoosh_engine import Evaluator, field_norms, positive_terms, stemmed
from portal.search.whoosh_schema import SCHEMA, audience_filter, document_fields, parse_query
from portal.search.whoosh_spelling import suggest

log = logging.getLogger("portal.search")

SNIPPET_CHARS = 240
FRAGMENT_CHARS = 160
FRAGMENT_LEAD = 60
FRAGMENTS = 2
MAX_TAG_FACETS = 12
REBUILD_BATCH = 100
# Postings in blocks of up to 1,024 documents, not compressed: a search reads whole posting
# lists, and unpickling fewer, larger blocks without zlib is cheaper (bench/README.md).
CODEC = W3Codec(blocklimit=1024, compression=0)
# Memory for a rebuild's postings before Whoosh sorts them through temporary files: with
# Whoosh's 128 MB a 2,000-document library spills several times (bench/README.md).
REBUILD_MEMORY_MB = 256


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

    def _writer(self, ix: index.Index, **options):
        for attempt in range(1, self.attempts + 1):
            try:
                return ix.writer(timeout=self.writer_timeout, delay=0.05, codec=CODEC, **options)
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
        writer = self._writer(self._open(), limitmb=REBUILD_MEMORY_MB)
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

    def _evaluator(self, searcher) -> Evaluator:
        def live():
            return frozenset(searcher.reader().all_doc_ids())

        return Evaluator(searcher, self._cache.get(searcher, ("live",), live))

    def _norms(self, searcher):
        def norms(fieldname):
            return self._cache.get(
                searcher, ("norms", fieldname), lambda: field_norms(searcher, fieldname)
            )

        return norms

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
            return page
        # Every match within the filter as a set (the total and facets need them all), then
        # only those documents scored to find this page's hits.
        engine = self._evaluator(searcher)
        matched = engine.docs(parsed)
        if allowed is not None:
            matched &= allowed
        page.total = len(matched)
        if not page.total:
            page.suggestion = suggest(searcher, query.text, allowed)
            return page
        page.page = max(1, min(query.page, ceil(page.total / query.per_page)))
        start = (page.page - 1) * query.per_page
        ranked = engine.top(parsed, matched, start, query.per_page, self._norms(searcher))
        words = {text for name, text in positive_terms(parsed) if name in ("title", "body")}
        page.hits = [_hit(searcher.stored_fields(n), score, words) for score, n in ranked]
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


def _hit(fields: dict, score: float, words: set[str]) -> Hit:
    title = fields.get("title", "")
    body = fields.get("body", "")
    snippet_html = snippet(body, words) or (
        escape(body[:SNIPPET_CHARS]) + ("…" if len(body) > SNIPPET_CHARS else "")
    )
    tags = tuple(t for t in (fields.get("tags") or "").split(",") if t)
    return Hit(
        document_id=int(fields["id"]),
        title=title,
        kind=fields.get("kind", ""),
        status=fields.get("status", ""),
        tags=tags,
        title_html=Markup(highlighted(title, words)),
        snippet_html=Markup(snippet_html),
        score=score,
    )


# Snippets come from the stored text of the ten hits shown: a regular expression finds words
# starting like a searched word's stem (C code), and only those are stemmed to confirm. That
# is cheaper than storing every word's character offsets in the index (which tripled the
# index build time) or analysing each document again.


def _word_pattern(words: set[str]) -> re.Pattern | None:
    # Porter stems are prefixes of their words, but for a final "e" or "i" ("filing" ->
    # "file", "policies" -> "polici").
    prefixes = sorted({w.rstrip("ei") or w for w in words}, key=len, reverse=True)
    if not prefixes:
        return None
    alternatives = "|".join(re.escape(p) for p in prefixes)
    return re.compile(rf"\b(?:{alternatives})\w*", re.IGNORECASE)


def _matches(text: str, words: set[str]):
    pattern = _word_pattern(words)
    if pattern is None:
        return
    for match in pattern.finditer(text):
        if stemmed(match.group().lower()) in words:
            yield match.start(), match.end()


def _marked(text: str, start: int, end: int, spans) -> str:
    out, position = [], start
    for first, last in spans:
        out.append(str(escape(text[position:first])))
        out.append(f"<mark>{escape(text[first:last])}</mark>")
        position = last
    out.append(str(escape(text[position:end])))
    return "".join(out)


def highlighted(text: str, words: set[str]) -> str:
    """``text`` HTML-escaped, with the searched words in <mark>."""
    return _marked(text, 0, len(text), list(_matches(text, words)))


def snippet(text: str, words: set[str]) -> str:
    """Up to two fragments of ``text`` around searched words, HTML-escaped, the words in
    <mark>; empty when no searched word occurs in ``text``."""
    fragments, current = [], None
    for first, last in _matches(text, words):
        if current and last <= current[1]:
            current[2].append((first, last))
            continue
        if len(fragments) == FRAGMENTS:
            break
        start = max(0, first - FRAGMENT_LEAD)
        if start and (space := text.find(" ", start, first)) != -1:
            start = space + 1
        end = min(len(text), start + FRAGMENT_CHARS)
        if end < len(text) and (space := text.rfind(" ", last, end)) != -1:
            end = space
        end = max(end, last)
        if fragments and start < fragments[-1][1]:
            start = fragments[-1][1]
        current = [start, end, [(first, last)]]
        fragments.append(current)
    if not fragments:
        return ""
    html = " … ".join(_marked(text, start, end, spans) for start, end, spans in fragments)
    prefix = "… " if fragments[0][0] > 0 else ""
    suffix = " …" if fragments[-1][1] < len(text) else ""
    return prefix + html + suffix

"""The search backend for several hosts: full-text search in the portal's PostgreSQL database.

Every searchable document is a row of ``search_entry`` (portal/search/models.py). Its words
are a ``tsvector`` weighted title A, tags B, text C, under the ``english`` configuration: the
same Porter stemming and stop words as the Whoosh backend, so "refunds" finds "Refund" on
both (the library is written in English; ``unaccent`` is not installed everywhere and English
needs none). The vector is computed in each INSERT rather than by a generated column, so the
weights and configuration live here beside the queries that rely on them, a change to them
needs a ``search reindex`` and no migration, and the model stays plain text on SQLite.

People's queries use ``websearch_to_tsquery`` syntax: "quoted phrases", OR, -word (and NOT
word, as on Whoosh). The audience filter mirrors ``portal.access.visibility`` on the row's own
audience columns, inside the same SQL as the match, so totals and facet counts only ever
cover what the viewer may open. Spelling suggestions are not offered (``suggestion`` is always
None): they would need ``pg_trgm``, which is not installed everywhere.

Writes come after the portal's commit, each in its own short transaction on its own
connection; an upsert per document, so workers writing at once never lose one.
"""

import re
from collections.abc import Iterable, Iterator
from itertools import islice
from math import ceil

from markupsafe import Markup, escape
from sqlalchemy import (
    Engine,
    and_,
    any_,
    bindparam,
    delete,
    func,
    literal,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.dialects.postgresql import insert as pg_insert

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
from portal.search.models import SearchEntry

CONFIG = "english"
MAX_TAG_FACETS = 12
REBUILD_BATCH = 200
RANK_BY_LENGTH = 1  # ts_rank_cd normalization: divide by 1 + log(document length)
EDGE_CHARS = 200  # how much of a text's start and end decides whether a snippet needs "…"
# ts_headline parses the text again (about as costly as indexing it): snippets come from the
# first 20,000 characters, so one very long document cannot slow a page down. A match only
# further on shows the text's start.
HEADLINE_CHARS = 20_000

# ts_headline and the default parser treat text between < and > as HTML tags (dropped from
# headlines, never indexed) and &name; as entities. The stored text is plain text, so these
# characters are swapped for private-use ones on the way into the parser, and back (escaped)
# on the way out; the marks around matched words are private-use characters too. None of
# them can occur in the text itself: they are removed before it is stored.
START, STOP, DELIMITER, LT, GT, AMP = "\ue000\ue001\ue002\ue003\ue004\ue005"
_PARSER_SAFE = str.maketrans("<>&", LT + GT + AMP)
_UNSAFE = dict.fromkeys(map(ord, "\x00" + START + STOP + DELIMITER + LT + GT + AMP))
_HTML = {START: "<mark>", STOP: "</mark>", DELIMITER: " … ", LT: "&lt;", GT: "&gt;", AMP: "&amp;"}
_PLAIN = {START: "", STOP: "", LT: "<", GT: ">", AMP: "&"}
TITLE_HEADLINE = f"HighlightAll=true, StartSel={START}, StopSel={STOP}"
SNIPPET_HEADLINE = (
    f"MaxFragments=2, MaxWords=24, MinWords=12, ShortWord=2, FragmentDelimiter={DELIMITER}, "
    f"StartSel={START}, StopSel={STOP}"
)

# The Whoosh backend's words, so that both backends explain the same trouble the same way.
TOO_COMMON = "Those words are too common to search for: add a more specific word."
NOT_UNDERSTOOD = "Part of that search could not be understood, so its words were searched for."
# Whoosh syntax websearch_to_tsquery has no use for: brackets, boosts, a phrase's slop, and
# the fields people could name there (searched everywhere here).
_OTHER_SYNTAX = re.compile(r"[()\[\]{}^~]")
_FIELD = re.compile(r"\b(?:title|body|tags):", re.IGNORECASE)
_NOT_WORD = re.compile(r"\bNOT\s+(?=[\w\"])")  # Whoosh's NOT word is websearch's -word

entry = SearchEntry.__table__


def plain(text: str) -> str:
    """``text`` without the characters the backend reserves for its own marks (and NUL)."""
    return (text or "").translate(_UNSAFE)


def _parser_safe(text):
    """SQL: ``text`` with < > & swapped for the private-use characters the parser ignores."""
    return func.translate(text, "<>&", LT + GT + AMP)


def _weighted(text, weight: str):
    vector = func.to_tsvector(CONFIG, _parser_safe(text))
    return func.setweight(vector, literal_column(f"'{weight}'"), type_=TSVECTOR)


def _vector(title, tag_words, body):
    """SQL: the weighted words of a document (title A, tags B, text C)."""
    joined = _weighted(title, "A").op("||", return_type=TSVECTOR)(_weighted(tag_words, "B"))
    return joined.op("||", return_type=TSVECTOR)(_weighted(body, "C"))


def _upsert():
    columns = {c.name: bindparam(c.name, type_=c.type) for c in entry.columns if c.name != "vector"}
    columns["vector"] = _vector(columns["title"], bindparam("tag_words"), columns["body"])
    stmt = pg_insert(entry).values(columns)
    return stmt.on_conflict_do_update(
        index_elements=[entry.c.document_id],
        set_={name: stmt.excluded[name] for name in columns if name != "document_id"},
    )


UPSERT = _upsert()


def _row(document: IndexedDocument) -> dict:
    tags = [plain(t) for t in document.tags]
    return {
        "document_id": document.id,
        "title": plain(document.title),
        "body": plain(document.body),
        "kind": document.kind,
        "status": document.status,
        "tags": tags,
        "tag_words": " ".join(tags),
        "partner_id": document.partner_id,
        "audience_partner_ids": list(document.audience_partner_ids),
        "audience_team_ids": list(document.audience_team_ids),
        "audience_roles": list(document.audience_roles),
        "audience_languages": list(document.audience_languages),
        "reach_partner_ids": list(document.reach_partner_ids),
        "changed_at": document.changed_at,
    }


def _batches(documents: Iterable[IndexedDocument], size: int) -> Iterator[list[dict]]:
    documents = iter(documents)
    while batch := [_row(d) for d in islice(documents, size)]:
        yield batch


def _none_or_has(column, value):
    """SQL: the array ``column`` is empty (no rule) or holds ``value``."""
    return or_(func.cardinality(column) == 0, literal(value) == any_(column))


def audience_conditions(viewer: SearchViewer) -> list:
    """SQL conditions on ``search_entry`` for the documents ``viewer`` may see ([]: all).

    Mirrors ``visible_documents`` (and the Whoosh backend's ``audience_filter``): a trainer
    sees their partner's documents, and company documents (not drafts) whose place rules reach
    their partner; an agent sees published documents, company-wide or their partner's, whose
    audience includes their place, role and language.
    """
    if viewer.sees is Sees.EVERYTHING:
        return []
    partner = viewer.partner_id
    if viewer.sees is Sees.PARTNER:
        company_reaching = and_(
            entry.c.partner_id.is_(None),
            entry.c.status != "draft",
            _none_or_has(entry.c.reach_partner_ids, partner),
        )
        return [or_(entry.c.partner_id == partner, company_reaching)]
    no_place_rules = and_(
        func.cardinality(entry.c.audience_partner_ids) == 0,
        func.cardinality(entry.c.audience_team_ids) == 0,
    )
    place = [no_place_rules, literal(partner) == any_(entry.c.audience_partner_ids)]
    if viewer.team_id is not None:
        place.append(literal(viewer.team_id) == any_(entry.c.audience_team_ids))
    return [
        entry.c.status == "published",
        or_(entry.c.partner_id.is_(None), entry.c.partner_id == partner),
        or_(*place),
        _none_or_has(entry.c.audience_roles, viewer.role),
        _none_or_has(entry.c.audience_languages, viewer.language),
    ]


def understood(text: str) -> tuple[str, str | None]:
    """(websearch_to_tsquery text, message) for what a person typed.

    Whoosh's ``NOT word`` becomes ``-word``. Field names (``title:``) are dropped, and they,
    brackets, unbalanced quotes and other syntax websearch ignores get the Whoosh backend's
    message saying that the words were searched for.
    """
    text = plain(text)
    message = None
    if text.count('"') % 2 or _OTHER_SYNTAX.search(text) or _FIELD.search(text):
        message = NOT_UNDERSTOOD
    words = _NOT_WORD.sub("-", _FIELD.sub(" ", text))
    return words.translate(_PARSER_SAFE), message  # read like the documents' text


class PostgresBackend(SearchBackend):
    """Search backed by the ``search_entry`` table of the PostgreSQL database ``engine``."""

    def __init__(self, engine: Engine):
        self.engine = engine

    # Writing.

    def index(self, documents: list[IndexedDocument]) -> None:
        if documents:
            with self.engine.begin() as conn:
                conn.execute(UPSERT, [_row(d) for d in documents])

    def remove(self, document_ids: Iterable[int]) -> None:
        ids = list(document_ids)
        if ids:
            with self.engine.begin() as conn:
                conn.execute(delete(entry).where(entry.c.document_id.in_(ids)))

    def rebuild(
        self, documents: Iterable[IndexedDocument], total: int, progress: Progress | None = None
    ) -> int:
        # One transaction: searches see the old rows until it commits. DELETE, not TRUNCATE,
        # which would lock searches out meanwhile; documents published during the rebuild
        # are upserted after it (their rows wait for this transaction).
        count = 0
        with self.engine.begin() as conn:
            conn.execute(delete(entry))
            for batch in _batches(documents, REBUILD_BATCH):
                conn.execute(UPSERT, batch)
                count += len(batch)
                if progress:
                    progress(len(batch))
        return count

    def clear(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(entry))

    def count(self) -> int:
        with self.engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(entry))

    # Searching.

    def search(self, query: SearchQuery, viewer) -> SearchPage:
        viewer = SearchViewer.of(viewer)
        page = SearchPage(page=query.page, per_page=query.per_page)
        if viewer.sees is Sees.NOTHING:
            return page
        text, page.message = understood(query.text)
        tsquery = func.websearch_to_tsquery(CONFIG, text)
        conditions = [entry.c.vector.op("@@")(tsquery), *audience_conditions(viewer)]
        if query.kind:
            conditions.append(entry.c.kind == query.kind)
        if query.tag:
            conditions.append(entry.c.tags.contains([query.tag]))
        with self.engine.begin() as conn:
            # The rows are small because the words live in TOAST, so the planner takes a
            # sequential scan for cheap: it does not count unpacking every document's words to
            # test @@. On 2,000 documents the GIN index answered in 1-11 ms, the scan in 25-35.
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            facets = _facets(conn, conditions)
            page.total = sum(count for _, count in facets["kind"])
            if not page.total:
                if not conn.scalar(select(func.numnode(tsquery))):  # no words left
                    page.message = page.message or TOO_COMMON
                return page
            page.facets = facets
            page.page = max(1, min(query.page, ceil(page.total / query.per_page)))
            start = (page.page - 1) * query.per_page
            rows = conn.execute(_page_rows(tsquery, conditions, start, query.per_page))
            page.hits = [_hit(row) for row in rows]
        return page


def _facets(conn, conditions) -> dict[str, list[tuple[str, int]]]:
    """Kind and tag counts over every match (most frequent first; the kinds add up to the
    total), in one statement."""
    matched = select(entry.c.kind, entry.c.tags).where(*conditions).cte("matched")
    kinds = select(literal("kind").label("facet"), matched.c.kind.label("value"), func.count())
    tag = func.unnest(matched.c.tags).table_valued("value").render_derived()
    tags = (
        select(literal("tag").label("facet"), tag.c.value, func.count())
        .select_from(matched.join(tag, literal(True)))
        .group_by(tag.c.value)
        .order_by(func.count().desc(), tag.c.value)
        .limit(MAX_TAG_FACETS)
        .subquery()
    )
    stmt = union_all(kinds.group_by(matched.c.kind), select(tags))
    facets = {"kind": [], "tag": []}
    for facet, value, count in conn.execute(stmt):
        facets[facet].append((value, count))
    facets["kind"].sort(key=lambda pair: (-pair[1], pair[0]))
    return facets


def _page_rows(tsquery, conditions, start: int, count: int):
    """This page's entries, best first, with highlighted titles and snippets (ts_headline
    reads only these rows)."""
    score = func.ts_rank_cd(entry.c.vector, tsquery, RANK_BY_LENGTH).label("score")
    top = (
        select(entry.c.document_id, score)
        .where(*conditions)
        .order_by(score.desc(), entry.c.document_id)
        .offset(start)
        .limit(count)
        .subquery()
    )
    return (
        select(
            entry.c.document_id,
            entry.c.title,
            entry.c.kind,
            entry.c.status,
            entry.c.tags,
            top.c.score,
            func.ts_headline(CONFIG, _parser_safe(entry.c.title), tsquery, TITLE_HEADLINE).label(
                "title_headline"
            ),
            func.ts_headline(
                CONFIG,
                _parser_safe(func.left(entry.c.body, HEADLINE_CHARS)),
                tsquery,
                SNIPPET_HEADLINE,
            ).label("snippet_headline"),
            func.left(entry.c.body, EDGE_CHARS).label("lead"),
            func.right(entry.c.body, EDGE_CHARS).label("tail"),
        )
        .join_from(top, entry, entry.c.document_id == top.c.document_id)
        .order_by(top.c.score.desc(), entry.c.document_id)
    )


def _hit(row) -> Hit:
    return Hit(
        document_id=row.document_id,
        title=row.title,
        kind=row.kind,
        status=row.status,
        tags=tuple(row.tags),
        title_html=headline_html(row.title_headline),
        snippet_html=snippet_html(row.snippet_headline, row.lead, row.tail),
        score=float(row.score),
    )


def _swap(text: str, table: dict[str, str]) -> str:
    for private, replacement in table.items():
        text = text.replace(private, replacement)
    return text


def headline_html(headline: str) -> Markup:
    """A ts_headline result as HTML: the text escaped, matched words in <mark>."""
    return Markup(_swap(str(escape(headline)), _HTML))


def snippet_html(headline: str, lead: str, tail: str) -> Markup:
    """A snippet's fragments as HTML, with "…" where the text goes on before or after them.

    ``lead`` and ``tail`` are the start and the end of the whole text.
    """
    headline = headline.strip()
    if not headline:
        return Markup("")
    fragments = [_swap(f, _PLAIN).strip() for f in headline.split(DELIMITER)]
    first, last = fragments[0], fragments[-1].rstrip(".,;:!? ")
    before = "" if lead.startswith(first[:EDGE_CHARS]) else "… "
    after = "" if tail.rstrip(".,;:!? ").endswith(last[-EDGE_CHARS:]) else " …"
    return Markup(before) + headline_html(headline) + Markup(after)

"""What the Whoosh index holds, how people's queries are parsed, and the audience filter.

Kept apart from the backend so the benchmark (bench/search.py) measures the same schema and
parser the portal uses.

Audience fields hold ids or values, or ``any`` when that dimension has no rules, so the
filter is a handful of term look-ups: the same decision as
``portal.access.visibility.visible_documents``, made inside the engine.
"""

import re
from array import array
from collections import defaultdict

from whoosh import fields, formats, qparser, query
from whoosh.analysis import (
    STOP_WORDS,
    CommaSeparatedTokenizer,
    Filter,
    LowercaseFilter,
    StemmingAnalyzer,
    Token,
    Tokenizer,
)
from whoosh.query.qcore import _NullQuery

from portal.search.base import IndexedDocument, SearchViewer, Sees

ANY = "any"
NONE = "none"
SEARCHABLE_FIELDS = ("title", "body", "tags")
MAX_TERMS = 24  # a 200-character query has fewer words than this; more are ignored
OPERATOR_WORDS = {"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"}
_WORD_RE = re.compile(r"\w+")


class _QueryStopFilter(Filter):
    """Drops common words and single letters from queries only, as the text fields do: a
    query word like "for" must not be required to be a tag, while a tag "us" stays findable."""

    def __call__(self, tokens):
        for token in tokens:
            if token.mode != "query" or (len(token.text) > 1 and token.text not in STOP_WORDS):
                yield token


class TagField(fields.KEYWORD):
    """Comma-separated tags, lower-cased."""

    def __init__(self):
        super().__init__(commas=True, lowercase=True, scorable=True, stored=True)
        self.analyzer = CommaSeparatedTokenizer() | LowercaseFilter() | _QueryStopFilter()


class ArrayPositions(formats.Positions):
    """Word positions stored as a plain machine array: written and read by C code, where
    Whoosh's own format pickles position deltas and adds them up in Python (phrase queries
    read every candidate document's positions; see bench/README.md)."""

    def word_values(self, value, analyzer, **kwargs):
        kwargs.update(positions=True, chars=False, boosts=False)
        seen = defaultdict(list)
        for token in analyzer(value, **kwargs):
            seen[token.text].append(token.pos)
        boost = self.field_boost
        for word, positions in seen.items():
            yield word, len(positions), len(positions) * boost, array("I", positions).tobytes()

    def decode_positions(self, valuestring):
        return array("I", valuestring)

    def decode_frequency(self, valuestring):
        return len(valuestring) // 4

    def decode_weight(self, valuestring):
        return self.decode_frequency(valuestring) * self.field_boost


class DistinctWords(Tokenizer):
    """Each distinct lower-case word of the text once: the word list spelling suggestions
    draw from needs no positions or counts, and this costs a third of a full analysis."""

    def __call__(self, value, positions=False, chars=False, removestops=True, mode="", **kw):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kw)
        for word in set(_WORD_RE.findall(value.lower())):
            token.text, token.boost, token.stopped = word, 1.0, False
            yield token


def _text_field(boost: float = 1.0) -> fields.TEXT:
    field = fields.TEXT(stored=True, analyzer=StemmingAnalyzer(), field_boost=boost)
    field.format = ArrayPositions(field_boost=boost)
    return field


def make_schema() -> fields.Schema:
    """The index's fields. Changing them needs ``flask --app wsgi search reindex``."""
    return fields.Schema(
        id=fields.ID(unique=True, stored=True),
        title=_text_field(boost=3.0),
        body=_text_field(),
        # The title's and text's words as written (not stemmed), for spelling suggestions.
        # Scorable only so that Whoosh's writer finds a length column for it (without one
        # it checks the disk for that column at every posting).
        words=fields.TEXT(analyzer=DistinctWords(), phrase=False),
        tags=TagField(),
        kind=fields.ID(stored=True, sortable=True),
        status=fields.ID(stored=True),
        partner=fields.ID(),  # the partner of a partner-local document, or "none"
        # Place rules: both "any" when the audience names no partner and no team.
        a_partners=fields.KEYWORD(commas=True),
        a_teams=fields.KEYWORD(commas=True),
        a_roles=fields.KEYWORD(commas=True),
        a_languages=fields.KEYWORD(commas=True),
        reach=fields.KEYWORD(commas=True),  # partners the place rules reach, or "any"
    )


SCHEMA = make_schema()


def document_fields(doc: IndexedDocument) -> dict[str, str]:
    """The field values ``writer.update_document`` gets for ``doc``."""

    def values(items, empty):
        return ",".join(str(i) for i in items) or empty

    place_empty = NONE if doc.has_place_rules else ANY
    return {
        "id": str(doc.id),
        "title": doc.title,
        "body": doc.body,
        "words": f"{doc.title}\n{doc.body}",
        "tags": ",".join(doc.tags),
        "kind": doc.kind,
        "status": doc.status,
        "partner": str(doc.partner_id) if doc.partner_id is not None else NONE,
        "a_partners": values(doc.audience_partner_ids, place_empty),
        "a_teams": values(doc.audience_team_ids, place_empty),
        "a_roles": values(doc.audience_roles, ANY),
        "a_languages": values(doc.audience_languages, ANY),
        "reach": values(doc.reach_partner_ids, place_empty),
    }


def audience_filter(viewer: SearchViewer) -> query.Query | None:
    """The documents ``viewer`` may see, as a query (None: everything; staff).

    Mirrors ``visible_documents``: a trainer sees their partner's documents, and company
    documents (not drafts) whose place rules reach their partner; an agent sees published
    documents, company-wide or their partner's, whose audience includes their place, role and
    language.
    """
    T = query.Term
    if viewer.sees is Sees.EVERYTHING:
        return None
    if viewer.sees is Sees.NOTHING:
        return query.NullQuery
    partner = str(viewer.partner_id)
    if viewer.sees is Sees.PARTNER:
        company_reaching = query.And(
            [
                T("partner", NONE),
                query.Not(T("status", "draft")),
                query.Or([T("reach", ANY), T("reach", partner)]),
            ]
        )
        return query.Or([T("partner", partner), company_reaching])
    place = [T("a_partners", ANY), T("a_partners", partner)]
    if viewer.team_id is not None:
        place.append(T("a_teams", str(viewer.team_id)))
    return query.And(
        [
            T("status", "published"),
            query.Or([T("partner", NONE), T("partner", partner)]),
            query.Or(place),
            query.Or([T("a_roles", ANY), T("a_roles", viewer.role)]),
            query.Or([T("a_languages", ANY), T("a_languages", viewer.language)]),
        ]
    )


def _parser_schema() -> fields.Schema:
    # Only the searchable fields: "status:draft" or "partner:3" are then plain words, so a
    # query can never address the audience fields (the filter is separate anyway).
    return fields.Schema(**{name: SCHEMA[name] for name in SEARCHABLE_FIELDS})


def _query_parser() -> qparser.QueryParser:
    parser = qparser.MultifieldParser(list(SEARCHABLE_FIELDS), _parser_schema())
    for plugin in (
        qparser.WildcardPlugin,  # "a*" expands to every term: slow, and rarely meant
        qparser.RangePlugin,
        qparser.EveryPlugin,
        qparser.BoostPlugin,
    ):
        parser.remove_plugin_class(plugin)
    return parser


QUERY_PARSER = _query_parser()
WORDS_PARSER = qparser.MultifieldParser(
    list(SEARCHABLE_FIELDS), _parser_schema(), plugins=[qparser.WhitespacePlugin()]
)


def _usable(parsed) -> bool:
    if parsed is None or isinstance(parsed, _NullQuery):
        return False
    terms = list(parsed.iter_all_terms())
    return bool(terms) and all(name in SEARCHABLE_FIELDS for name, _ in terms)


def _binary_unions(parsed: query.Query) -> query.Query:
    # Each word becomes title OR body OR tags. For small indexes Whoosh would preload every
    # match of such an Or into arrays; a tree of union matchers is 2-3 times faster here
    # (see bench/search.py).
    if isinstance(parsed, query.Or):
        parsed.matcher_type = query.Or.DEFAULT_MATCHER
    for child in parsed.children():
        _binary_unions(child)
    return parsed


def plain_words(text: str) -> str:
    """The words of ``text`` without any query syntax (operators, quotes, fields)."""
    words = [w for w in _WORD_RE.findall(text) if w not in OPERATOR_WORDS]
    return " ".join(words[:MAX_TERMS])


def parse_query(text: str) -> tuple[query.Query | None, str | None]:
    """(query, message) for what a person typed; the query is None when nothing is left.

    Quotes, parentheses, AND/OR/NOT and title:/body:/tags: work as in Whoosh; anything the
    parser cannot make sense of is searched as plain words, with a message saying so.
    """
    try:
        parsed = QUERY_PARSER.parse(text)
    except Exception:  # whoosh's parser is lenient; this is a last resort
        parsed = None
    if _usable(parsed):
        return _binary_unions(parsed), None
    words = plain_words(text)
    parsed = WORDS_PARSER.parse(words) if words else None
    if not _usable(parsed):
        return None, "Those words are too common to search for: add a more specific word."
    return _binary_unions(
        parsed
    ), "Part of that search could not be understood, so its words were searched for."

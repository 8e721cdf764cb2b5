"""Answering a parsed query from the Whoosh index with set operations and one scoring pass.

Whoosh's own matchers walk every posting through several layers of Python objects, and its
collector scores every match even when only the count is needed. The search page needs the
exact set of matches (for the total and the facets) and the ten best of them, so here:

- the matching documents are sets of document numbers read block by block from the posting
  lists and combined with set operations (done in C); a phrase checks word positions only in
  the documents that contain all of its words;
- only those documents are scored, with Whoosh's BM25F formula and statistics, in one pass
  over each searched word's postings.

The matches and their order equal ``searcher.search(q, limit=None)`` (tests/test_search_whoosh.py);
any query part this module does not know is matched by Whoosh itself.
"""

import heapq
from functools import lru_cache
from itertools import accumulate, repeat
from operator import add, itemgetter, sub

from whoosh import query
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.lang.porter import stem
from whoosh.query.qcore import _NullQuery
from whoosh.scoring import BM25F

from portal.search.whoosh_schema import ArrayPositions

BM25 = BM25F()


@lru_cache(maxsize=50_000)
def stemmed(word: str) -> str:
    """The index form of a lower-case word (the text fields' StemmingAnalyzer)."""
    return stem(word)


def _leaves(searcher):
    if searcher.is_atomic():
        return [(searcher.reader(), 0)]
    return [(sub.reader(), offset) for sub, offset in searcher.leaf_searchers()]


def _blocks(reader, fieldname: str, text: str, values: bool = False):
    """(document numbers, weights, values or None) for each posting block of a term in one
    segment; deleted documents included (callers intersect with live documents)."""
    if (fieldname, text) not in reader:
        return
    matcher = reader.postings(fieldname, text)
    while not isinstance(matcher, W3LeafMatcher) and hasattr(matcher, "child"):
        matcher = matcher.child  # the deletions filter
    if not isinstance(matcher, W3LeafMatcher):  # postings kept in the term list
        found = []
        while matcher.is_active():
            found.append((matcher.id(), matcher.weight(), matcher.value() if values else None))
            matcher.next()
        ids, weights, vals = zip(*found, strict=True) if found else ((), (), ())
        yield ids, weights, vals if values else None
        return
    # Whoosh 2.7's block format (pinned in requirements.txt), a block at a time: ids are
    # stored as deltas (added up here in C), weights as an array or one number for all.
    while matcher.is_active():
        matcher._read_data()
        deltas, weights, vals = matcher._data[:3]
        ids = deltas if matcher._byteids else tuple(accumulate(deltas))
        if weights is None or isinstance(weights, float):
            weights = (1.0 if weights is None else weights,) * len(ids)
        if values:
            matcher._read_values()
            vals = matcher._values
        yield ids, weights, vals if values else None
        matcher._next_block()


class Evaluator:
    """Evaluates queries against one searcher; ``live`` is every searchable document number."""

    def __init__(self, searcher, live: frozenset):
        self.searcher = searcher
        self.leaves = _leaves(searcher)
        self.live = live
        self._postings = {}
        self._matched = {}  # id(query part) -> its documents, for scoring

    def postings(self, fieldname: str, text: str) -> tuple[list, list, list]:
        """(document numbers, weights, values) of a term, read once per query."""
        key = (fieldname, text)
        if key not in self._postings:
            ids, weights, values = [], [], []
            for reader, offset in self.leaves:
                for block in _blocks(reader, fieldname, text, values=True):
                    ids.extend(block[0] if not offset else (i + offset for i in block[0]))
                    weights.extend(block[1])
                    values.extend(block[2])
            self._postings[key] = ids, weights, values
        return self._postings[key]

    def term_docs(self, fieldname: str, text: str) -> set:
        return set(self.postings(fieldname, text)[0])

    def docs(self, q) -> set:
        """Every live document matching ``q``."""
        return self._docs(q) & self.live

    def _docs(self, q) -> set:
        found = self._matched[id(q)] = self._evaluate(q)
        return found

    def _evaluate(self, q) -> set:
        if isinstance(q, _NullQuery):
            return set()
        if isinstance(q, query.Term):
            return self.term_docs(q.fieldname, q.text)
        if isinstance(q, query.Phrase):
            return self._phrase(q)
        if isinstance(q, query.Not):
            return self.live - self._docs(q.query)
        if isinstance(q, query.AndNot):
            return self._docs(q.a) - self._docs(q.b)
        if isinstance(q, query.AndMaybe):
            return self._docs(q.a)
        if isinstance(q, query.Require):
            return self._docs(q.a) & self._docs(q.b)
        if type(q) in (query.And, query.Or):
            parts = sorted((self._docs(child) for child in q.subqueries), key=len)
            if not parts:
                return set()
            if isinstance(q, query.Or):
                return set().union(*parts)
            return parts[0].intersection(*parts[1:])
        return set(self.searcher.docs_for_query(q))

    def _phrase(self, q: query.Phrase) -> set:
        words = q.words
        if not words:
            return set()
        if len(words) == 1:
            return self.term_docs(q.fieldname, words[0])
        fieldobj = self.searcher.schema[q.fieldname]
        if not isinstance(fieldobj.format, ArrayPositions):
            return set()  # no positions (tags): Whoosh would refuse the phrase
        # Rarest word first: only documents holding every word have positions checked.
        by_count = sorted(set(words), key=lambda w: self.searcher.doc_frequency(q.fieldname, w))
        candidates = self.term_docs(q.fieldname, by_count[0])
        for word in by_count[1:]:
            if not candidates:
                return candidates
            candidates &= self.term_docs(q.fieldname, word)
        if not candidates:
            return candidates
        decode = fieldobj.format.decode_positions
        positions = {
            word: self._positions(q.fieldname, word, candidates, decode) for word in set(words)
        }
        slop = q.slop
        found = set()
        for docnum in candidates:
            # Where a chain of the words so far ends; each next word must follow within
            # ``slop`` positions (1: right after), as Whoosh's SpanNear2 requires.
            ends = set(positions[words[0]][docnum])
            for word in words[1:]:
                at = positions[word][docnum]
                if slop == 1:
                    ends = ends.intersection(map(sub, at, repeat(1, len(at))))
                    ends = set(map(add, ends, repeat(1, len(ends))))
                else:
                    ends = {p for p in at if any(0 < p - e <= slop for e in ends)}
                if not ends:
                    break
            if ends:
                found.add(docnum)
        return found

    def _positions(self, fieldname, word, wanted: set, decode) -> dict:
        ids, _, values = self.postings(fieldname, word)
        return {d: decode(v) for d, v in zip(ids, values, strict=True) if d in wanted}

    def top(self, q, matched: set, start: int, count: int, lengths) -> list[tuple[float, int]]:
        """(score, document number) of the matched documents ranked ``start`` to
        ``start + count``, best first; ties in index order, as Whoosh ranks them."""
        scores = dict.fromkeys(sorted(matched), 0.0)
        self._score(q, matched, scores, lengths)
        # nlargest is stable: equal scores stay in document order, as Whoosh ranks them.
        ranked = heapq.nlargest(start + count, scores.items(), key=itemgetter(1))
        return [(score, docnum) for docnum, score in ranked[start:]]

    def _score(self, q, docs: set, scores: dict, lengths) -> None:
        # As Whoosh scores: a part adds its words' BM25F scores only in the documents that
        # part matches (a phrase in the body does not count the same words in the title).
        if isinstance(q, query.Term):
            self._add_term(q.fieldname, q.text, docs, scores, lengths)
        elif isinstance(q, query.Phrase):
            docs = docs & self._matched.get(id(q), set())
            for word in q.words:
                self._add_term(q.fieldname, word, docs, scores, lengths)
        elif isinstance(q, (query.AndNot, query.Require)):
            self._score(q.a, docs, scores, lengths)
        elif isinstance(q, query.AndMaybe):
            self._score(q.a, docs, scores, lengths)
            self._score(q.b, docs & self._matched.get(id(q.b), set()), scores, lengths)
        elif type(q) in (query.And, query.Or):
            for child in q.subqueries:
                if not isinstance(child, query.Not):
                    self._score(child, docs & self._matched.get(id(child), set()), scores, lengths)

    def _add_term(self, fieldname, text, docs: set, scores: dict, lengths) -> None:
        norms = lengths(fieldname)
        if norms is None or not docs:
            return
        idf = self.searcher.idf(fieldname, text)
        k1 = BM25.K1
        ids, weights, _ = self.postings(fieldname, text)
        frequencies = dict(zip(ids, weights, strict=True))
        for docnum in docs & frequencies.keys():
            tf = frequencies[docnum]
            scores[docnum] += idf * tf * (k1 + 1) / (tf + norms[docnum])


def field_norms(searcher, fieldname: str) -> list[float] | None:
    """K1 * (1 - B + B * length / average length) per document number: BM25's length part."""
    if not searcher.schema[fieldname].scorable:
        return None
    average = searcher.avg_field_length(fieldname) or 1
    k1, b = BM25.K1, BM25._field_B.get(fieldname, BM25.B)
    norms = []
    for reader, _ in _leaves(searcher):
        for docnum in range(reader.doc_count_all()):
            length = reader.doc_field_length(docnum, fieldname) or 0
            norms.append(k1 * ((1 - b) + b * length / average))
    return norms


def positive_terms(q) -> list[tuple[str, str]]:
    """The (field, word) pairs whose presence makes a document match (not the NOT parts)."""
    if isinstance(q, query.Term):
        return [(q.fieldname, q.text)]
    if isinstance(q, query.Phrase):
        return [(q.fieldname, word) for word in dict.fromkeys(q.words)]
    if isinstance(q, query.Not):
        return []
    if isinstance(q, (query.AndNot, query.AndMaybe, query.Require)):
        children = [q.a] if isinstance(q, query.AndNot) else [q.a, q.b]
    else:
        children = list(q.children())
    terms = []
    for child in children:
        terms.extend(t for t in positive_terms(child) if t not in terms)
    return terms

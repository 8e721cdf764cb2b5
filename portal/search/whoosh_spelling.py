""" "Did you mean": spelling suggestions that never reveal what the viewer may not see.

The index's word lists span every document, including other partners' local ones. So a
candidate word is only offered when it occurs in a document the viewer may see, and the whole
corrected query is only offered when it finds something under the same filter.
"""

import re

from whoosh import query
from whoosh.spelling import Corrector

from portal.search.whoosh_schema import (
    MAX_TERMS,
    OPERATOR_WORDS,
    SCHEMA,
    parse_query,
)

SPELLED_FIELDS = ("title", "body")
WORD_LIST = "words"  # the title's and text's words as written
CANDIDATES_PER_DISTANCE = 8
_WORD_RE = re.compile(r"[^\W\d_]{3,}")  # words worth correcting: letters only, 3 or more


def _matching(searcher, fieldname: str, word: str, allowed: set | None) -> int:
    """How many documents the viewer may see contain ``word`` in ``fieldname``."""
    terms = list(SCHEMA[fieldname].process_text(word, mode="query"))
    if not terms:
        return 0
    docs = set(searcher.docs_for_query(query.Term(fieldname, terms[0])))
    return len(docs if allowed is None else docs & allowed)


class VisibleCorrector(Corrector):
    """Whoosh's word-list corrector over the titles' and texts' words, keeping only words
    that occur in documents the viewer may see. One edit beats two; then more visible
    documents win."""

    def __init__(self, searcher, allowed: set | None):
        self.searcher = searcher
        self.allowed = allowed
        self.words = searcher.reader().corrector(WORD_LIST)

    def _suggestions(self, text, maxdist, prefix):
        seen = set()
        for distance in range(1, maxdist + 1):
            candidates = self.words.suggest(
                text, limit=CANDIDATES_PER_DISTANCE, maxdist=distance, prefix=prefix
            )
            for word in candidates:
                if word in seen:
                    continue
                seen.add(word)
                count = _matching(self.searcher, WORD_LIST, word, self.allowed)
                if count:
                    yield (-distance + min(count, 999) / 1000, word)


def _known(searcher, word: str, allowed: set | None) -> bool:
    if _matching(searcher, "tags", word, allowed):
        return True
    return any(_matching(searcher, name, word, allowed) for name in SPELLED_FIELDS)


def suggest(searcher, text: str, allowed: set | None) -> str | None:
    """A corrected ``text`` that finds documents for this viewer, or None.

    ``allowed`` is the set of document numbers the viewer may see (None: all).
    """
    if allowed is not None and not allowed:
        return None  # (whoosh reads an empty filter set as "no filter")
    corrector = VisibleCorrector(searcher, allowed)
    corrected, position, changed = [], 0, False
    for match in list(_WORD_RE.finditer(text))[:MAX_TERMS]:
        word = match.group()
        if word in OPERATOR_WORDS or text[match.end() : match.end() + 1] == ":":
            continue  # an operator or a field name, not a word to correct
        lower = word.lower()
        if _known(searcher, lower, allowed):
            continue
        best = corrector.suggest(lower, limit=1, maxdist=2, prefix=1)
        if not best:
            continue
        corrected.append(text[position : match.start()] + best[0])
        position, changed = match.end(), True
    if not changed:
        return None
    suggestion = "".join(corrected) + text[position:]
    parsed, _ = parse_query(suggestion)
    if parsed is None:
        return None
    found = searcher.search(parsed, limit=1, filter=allowed)
    return suggestion if found.scored_length() else None

"""The search interface: what every backend indexes, how it is asked, and what it answers.

A backend (Whoosh today, PostgreSQL full-text search later) implements :class:`SearchBackend`.
It receives :class:`IndexedDocument` payloads built from the database after a commit, and
answers a :class:`SearchQuery` for one viewer with a :class:`SearchPage`. The audience filter
is the backend's job and must mirror ``portal.access.visibility.visible_documents`` exactly,
so that totals, facet counts and spelling suggestions only ever reflect what the viewer may
open; ``portal.search.services`` re-checks each shown hit in SQL as a second line.
"""

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from math import ceil

from markupsafe import Markup

from portal.access.roles import Role
from portal.library.models import KIND_LABELS, DocumentKind, DocumentStatus


@dataclass(frozen=True)
class IndexedDocument:
    """One document as a search backend stores it: the current version's words plus who may
    see it. Built by ``portal.search.indexing`` from a Document and its current version."""

    id: int
    title: str
    body: str  # the current version as plain text (portal.library.rendering.plain_text)
    kind: str
    status: str  # published or archived: drafts are never indexed
    tags: tuple[str, ...] = ()
    partner_id: int | None = None  # set for a partner-local document
    audience_partner_ids: tuple[int, ...] = ()
    audience_team_ids: tuple[int, ...] = ()
    audience_roles: tuple[str, ...] = ()
    audience_languages: tuple[str, ...] = ()
    # Partners whose people the place rules reach (chosen partners and the chosen teams'
    # partners); empty together with the place rules themselves means every partner.
    reach_partner_ids: tuple[int, ...] = ()
    changed_at: datetime | None = None

    @property
    def has_place_rules(self) -> bool:
        return bool(self.audience_partner_ids or self.audience_team_ids)


class Sees(StrEnum):
    NOTHING = "nothing"
    EVERYTHING = "everything"  # company staff
    PARTNER = "partner"  # a trainer: their partner's documents and what reaches their partner
    ADDRESSED = "addressed"  # an agent: published documents addressed to them


@dataclass(frozen=True)
class SearchViewer:
    """The facts about the person searching that the audience filter needs."""

    sees: Sees
    partner_id: int | None = None
    team_id: int | None = None
    role: str | None = None
    language: str | None = None

    @classmethod
    def of(cls, user) -> "SearchViewer":
        """Mirror of the role decision in ``portal.access.visibility``."""
        if user is None or not getattr(user, "is_authenticated", False) or not user.active:
            return cls(Sees.NOTHING)
        role = user.role_enum
        if role.is_staff:
            return cls(Sees.EVERYTHING)
        if user.partner_id is None:
            return cls(Sees.NOTHING)
        sees = Sees.PARTNER if role is Role.TRAINER else Sees.ADDRESSED
        return cls(sees, user.partner_id, user.team_id, user.role, user.language)


@dataclass(frozen=True)
class SearchQuery:
    """What the person asked for, already stripped and length-checked by the service."""

    text: str
    kind: str | None = None
    tag: str | None = None
    page: int = 1
    per_page: int = 10


@dataclass
class Hit:
    document_id: int
    title: str
    kind: str
    status: str
    tags: tuple[str, ...]
    title_html: Markup  # the title with matched words in <mark>, HTML-escaped
    snippet_html: Markup  # fragments of the text with matched words in <mark>, HTML-escaped
    score: float = 0.0

    @property
    def kind_label(self) -> str:
        try:
            return KIND_LABELS[DocumentKind(self.kind)]
        except ValueError:
            return self.kind

    @property
    def is_archived(self) -> bool:
        return self.status == DocumentStatus.ARCHIVED


@dataclass
class SearchPage:
    """One page of results, with the counts and pager the page template needs.

    ``facets`` maps 'kind' and 'tag' to (value, count) pairs, most frequent first, counted
    over every result the viewer may see (not only this page). ``suggestion`` is a corrected
    query that has results for this viewer; ``message`` explains a refused or rewritten query.
    """

    hits: list[Hit] = field(default_factory=list)
    total: int = 0
    page: int = 1
    per_page: int = 10
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    suggestion: str | None = None
    message: str | None = None

    # The same attributes as a Flask-SQLAlchemy Pagination, for the pagination macro.
    @property
    def items(self) -> list[Hit]:
        return self.hits

    @property
    def pages(self) -> int:
        return ceil(self.total / self.per_page) if self.total else 0

    @property
    def first(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.hits else 0

    @property
    def last(self) -> int:
        return self.first + len(self.hits) - 1 if self.hits else 0

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None

    def iter_pages(
        self, *, left_edge=2, left_current=2, right_current=4, right_edge=2
    ) -> Iterator[int | None]:
        """Page numbers to show, None for a gap (as Flask-SQLAlchemy's Pagination does)."""
        last_shown = 0
        for number in range(1, self.pages + 1):
            if (
                number <= left_edge
                or self.page - left_current <= number <= self.page + right_current
                or number > self.pages - right_edge
            ):
                if last_shown and number != last_shown + 1:
                    yield None
                yield number
                last_shown = number


Progress = Callable[[int], None]


class SearchBackend(ABC):
    """A full-text index of the library. Subclasses keep these signatures exactly.

    Writes happen after the database commit (see ``portal.search.indexing``) and may come
    from several worker processes at once; a backend must not lose any of them.
    """

    @abstractmethod
    def index(self, documents: list[IndexedDocument]) -> None:
        """Add these documents, replacing any earlier entry with the same id."""

    @abstractmethod
    def remove(self, document_ids: Iterable[int]) -> None:
        """Forget these documents (unknown ids are ignored)."""

    @abstractmethod
    def search(self, query: SearchQuery, viewer) -> SearchPage:
        """One page of the documents matching ``query`` that ``viewer`` (a User) may see.

        Totals, facet counts and the suggestion are computed inside the audience filter.
        Query syntax the backend cannot understand falls back to plain words with a
        ``message``; it never raises for user input.
        """

    @abstractmethod
    def rebuild(
        self, documents: Iterable[IndexedDocument], total: int, progress: Progress | None = None
    ) -> int:
        """Replace the whole index with ``documents`` (``total`` of them); returns the count.

        ``progress(n)`` is called as each batch of n documents is written. Searches keep
        seeing the old index until the new one is complete.
        """

    @abstractmethod
    def clear(self) -> None:
        """Remove every document from the index."""

    @abstractmethod
    def count(self) -> int:
        """How many documents the index holds."""

"""Search benchmark: the portal's search backend against SQLite FTS5 on the same corpus.

    .venv/bin/python bench/search.py [--docs 2000] [--queries 500] [--seed 7]
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \
        .venv/bin/python bench/search.py --backend postgres

Generates a deterministic corpus of support-content documents (300-1,500 words each), builds
the portal's index (``--backend whoosh``, the default: the Whoosh index with the portal's own
schema and parser, portal/search/whoosh_schema.py; ``postgres``: the search_entry table in a
schema of its own in DATABASE_URL, dropped afterwards) and an FTS5 table (porter stemming,
title weighted like the portal's title weight), runs the same queries against both (1-3
words, some quoted phrases; top 10 by relevance) and prints build time, index size, query
p50/p95 and the portal/FTS5 ratio. Not a test: it never fails on time.
"""

import argparse
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, func, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from portal.access.roles import Role  # noqa: E402
from portal.search.base import IndexedDocument, SearchQuery  # noqa: E402
from portal.search.models import SearchEntry  # noqa: E402
from portal.search.postgres_backend import (  # noqa: E402
    CONFIG,
    RANK_BY_LENGTH,
    PostgresBackend,
    entry,
)
from portal.search.whoosh_backend import WhooshBackend  # noqa: E402
from portal.search.whoosh_schema import parse_query  # noqa: E402

DOMAIN = """
customer agent ticket refund chargeback escalation supervisor queue callback billing invoice
payment card subscription renewal cancellation discount voucher coupon warranty replacement
shipment delivery courier tracking parcel return label exchange order account password login
verification identity fraud dispute policy playbook script greeting empathy tone apology
resolution handle time quality scorecard coaching feedback survey satisfaction complaint
compliment outage incident status update release feature product bundle upgrade downgrade
plan tier premium trial activation onboarding training certification shift schedule break
overtime handover note macro template knowledge article checklist approval limit threshold
manager team lead partner site vendor region language translation chat email phone voice
hold transfer mute wrap disposition category priority severity urgent backlog sla deadline
privacy consent data retention deletion request security phishing badge laptop device
headset network connection latency browser cache cookie session timeout reset unlock
promotion campaign brand value promise voice style guideline wording jargon acronym example
customer's situation expectation commitment follow confirm document record summary reason
""".split()  # noqa: SIM905 (a word list reads better as text)
COMMON = """
the a an and or of to in on for with by from at as is are was be been will can must should
may not this that these those it its they them their you your we our when if then than
before after during within without every each any all some most more less only also always
never often usually please make sure check ask tell explain offer keep give take use open
close send receive review update add remove find see show help need want know feel ready
new current previous next first last same other right wrong clear simple short long quick
""".split()  # noqa: SIM905
TAGS = "billing refunds escalation tone privacy security onboarding quality shipping accounts"
KINDS = ["onboarding", "brand", "playbook", "policy", "product_update"]
SYLLABLES = "ka lo mi ra ten vus dor pel qui zan bri sto mar nel fo gu tri ax".split()  # noqa: SIM905


def _ranked_vocabulary(rng: random.Random) -> list[str]:
    """Words in order of frequency, as in real text: function words first, then the support
    vocabulary, then a long tail of rare terms (names, product codes)."""
    rare = sorted(
        {"".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))) for _ in range(3000)}
    )
    groups = [COMMON[:], DOMAIN[:], rare]
    for group in groups:
        rng.shuffle(group)
    return [word for group in groups for word in group]


def _zipf_weights(n: int, s: float = 1.0) -> list[float]:
    return [1.0 / (rank**s) for rank in range(1, n + 1)]


def make_corpus(count: int, seed: int) -> list[IndexedDocument]:
    """``count`` synthetic support documents with a Zipf-like word distribution."""
    rng = random.Random(seed)
    ranked = _ranked_vocabulary(rng)
    weights = _zipf_weights(len(ranked))
    tags = TAGS.split()
    documents = []
    for doc_id in range(1, count + 1):
        length = rng.randint(300, 1500)
        body_words = rng.choices(ranked, weights=weights, k=length)
        sentences, i = [], 0
        while i < len(body_words):
            n = rng.randint(8, 20)
            sentence = " ".join(body_words[i : i + n])
            sentences.append(sentence[:1].upper() + sentence[1:] + ".")
            i += n
        paragraphs = [" ".join(sentences[j : j + 5]) for j in range(0, len(sentences), 5)]
        title = " ".join(rng.sample(DOMAIN, rng.randint(3, 7))).capitalize()
        documents.append(
            IndexedDocument(
                id=doc_id,
                title=title,
                body="\n\n".join(paragraphs),
                kind=rng.choice(KINDS),
                status="published",
                tags=tuple(rng.sample(tags, rng.randint(1, 4))),
            )
        )
    return documents


def make_queries(documents: list[IndexedDocument], count: int, seed: int) -> list[str]:
    """1-3 word queries from the domain and tail vocabulary, and quoted 2-word phrases."""
    rng = random.Random(seed + 1)
    tail = sorted({w.lower().strip(".") for d in documents[:50] for w in d.body.split()})
    queries = []
    for n in range(count):
        kind = n % 10
        if kind < 5:
            queries.append(rng.choice(DOMAIN if rng.random() < 0.8 else tail))
        elif kind < 8:
            queries.append(" ".join(rng.sample(DOMAIN, 2)))
        elif kind == 8:
            queries.append(" ".join(rng.sample(DOMAIN, 3)))
        else:
            words = rng.choice(documents).body.split()
            start = rng.randrange(len(words) - 2)
            phrase = " ".join(w.strip(".").lower() for w in words[start : start + 2])
            queries.append(f'"{phrase}"')
    return queries


def _fts_query(text: str) -> str:
    if text.startswith('"'):
        return text  # a phrase: the same syntax in FTS5
    return " ".join(f'"{word}"' for word in text.split())  # implicit AND, like Whoosh here


def build_whoosh(documents, folder: Path):
    """The index as `flask search reindex` builds it (the portal's schema and writer)."""
    started = time.perf_counter()
    backend = WhooshBackend(str(folder))
    backend.rebuild(iter(documents), len(documents))
    return backend, time.perf_counter() - started


@contextmanager
def whoosh_runs(documents, folder: Path):
    """Yields (build seconds, MB, top-10 function, search-page function) for Whoosh."""
    backend, seconds = build_whoosh(documents, folder)
    # The portal's evaluation (portal/search/whoosh_engine.py) on one searcher reused for
    # every query.
    searcher = backend._searcher()
    norms = backend._norms(searcher)

    def top(text):
        parsed, _ = parse_query(text)
        if parsed is None:
            return []
        engine = backend._evaluator(searcher)  # reads each term's postings once per query
        return [docnum for _, docnum in engine.top(parsed, engine.docs(parsed), 0, 10, norms)]

    yield seconds, _size(folder), top, lambda text: backend.search(SearchQuery(text), AGENT).hits


@contextmanager
def postgres_runs(documents, url: str):
    """Yields (build seconds, MB, top-10 function, search-page function) for a search_entry
    table built as `search reindex` builds it, in a new schema of the database at ``url``
    (dropped afterwards)."""
    schema = f"bench_search_{uuid.uuid4().hex[:8]}"
    engine = create_engine(make_url(url).update_query_dict({"options": f"-csearch_path={schema}"}))
    with engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        # search_entry refers to the portal's documents: their ids are all it needs here.
        conn.exec_driver_sql("CREATE TABLE document (id integer PRIMARY KEY)")
        conn.exec_driver_sql(f"INSERT INTO document SELECT generate_series(1, {len(documents)})")
        SearchEntry.__table__.create(conn)
    try:
        started = time.perf_counter()
        backend = PostgresBackend(engine)
        backend.rebuild(iter(documents), len(documents))
        seconds = time.perf_counter() - started
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE search_entry")
            size = conn.exec_driver_sql("SELECT pg_total_relation_size('search_entry')").scalar()

        def top(text):
            query = func.websearch_to_tsquery(CONFIG, text)
            rank = func.ts_rank_cd(entry.c.vector, query, RANK_BY_LENGTH)
            stmt = select(entry.c.document_id).where(entry.c.vector.op("@@")(query))
            with engine.begin() as conn:
                conn.exec_driver_sql("SET LOCAL enable_seqscan = off")  # as the backend does
                return conn.scalars(stmt.order_by(rank.desc()).limit(10)).all()

        yield seconds, size / 1e6, top, lambda text: backend.search(SearchQuery(text), AGENT).hits
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        engine.dispose()


def build_fts(documents, path: Path):
    """The same documents in FTS5, plus the columns and tags table the page's facets need."""
    started = time.perf_counter()
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE VIRTUAL TABLE docs USING fts5(title, body, tags, tokenize='porter unicode61');"
        "CREATE TABLE meta (id INTEGER PRIMARY KEY, kind TEXT, status TEXT, partner TEXT);"
        "CREATE TABLE doc_tags (doc_id INTEGER, tag TEXT);"
        "CREATE INDEX ix_doc_tags ON doc_tags (doc_id);"
    )
    db.executemany(
        "INSERT INTO docs(rowid, title, body, tags) VALUES (?, ?, ?, ?)",
        [(d.id, d.title, d.body, " ".join(d.tags)) for d in documents],
    )
    db.executemany(
        "INSERT INTO meta VALUES (?, ?, ?, 'none')", [(d.id, d.kind, d.status) for d in documents]
    )
    db.executemany(
        "INSERT INTO doc_tags VALUES (?, ?)", [(d.id, t) for d in documents for t in d.tags]
    )
    db.commit()
    return db, time.perf_counter() - started


FTS_PAGE = [
    # top ten with a highlighted title and a snippet, inside an agent's filter
    "SELECT docs.rowid, highlight(docs, 0, '<mark>', '</mark>'),"
    " snippet(docs, 1, '<mark>', '</mark>', ' … ', 24) FROM docs JOIN meta ON meta.id = docs.rowid"
    " WHERE docs MATCH :q AND meta.status = 'published' AND meta.partner IN ('none', '1')"
    " ORDER BY bm25(docs, 3.0, 1.0, 1.0) LIMIT 10",
    "SELECT count(*) FROM docs JOIN meta ON meta.id = docs.rowid"
    " WHERE docs MATCH :q AND meta.status = 'published' AND meta.partner IN ('none', '1')",
    "SELECT kind, count(*) FROM docs JOIN meta ON meta.id = docs.rowid"
    " WHERE docs MATCH :q AND meta.status = 'published' AND meta.partner IN ('none', '1')"
    " GROUP BY kind",
    "SELECT tag, count(*) FROM docs JOIN meta ON meta.id = docs.rowid"
    " JOIN doc_tags ON doc_tags.doc_id = docs.rowid"
    " WHERE docs MATCH :q AND meta.status = 'published' AND meta.partner IN ('none', '1')"
    " GROUP BY tag ORDER BY 2 DESC LIMIT 12",
]
AGENT = SimpleNamespace(
    is_authenticated=True, active=True, role_enum=Role.AGENT, role="agent", partner_id=1,
    team_id=None, language="en",
)  # fmt: skip


def _size(path: Path) -> float:
    files = [path] if path.is_file() else list(path.rglob("*"))
    return sum(f.stat().st_size for f in files if f.is_file()) / 1e6


def _time(run, queries) -> tuple[list[float], int]:
    for text in queries[:50]:  # warm caches the same way for both
        run(text)
    timings, found = [], 0
    for text in queries:
        started = time.perf_counter()
        found += len(run(text))
        timings.append((time.perf_counter() - started) * 1000)
    return timings, found


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--backend",
        choices=["whoosh", "postgres"],
        default="whoosh",
        help="the portal's search backend to measure (postgres: in DATABASE_URL)",
    )
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if args.backend == "postgres" and not url.startswith("postgresql"):
        parser.error("--backend postgres needs DATABASE_URL=postgresql+psycopg://...")

    documents = make_corpus(args.docs, args.seed)
    queries = make_queries(documents, args.queries, args.seed)
    words = [len(d.body.split()) for d in documents]
    print(
        f"Corpus: {len(documents)} documents, {min(words)}-{max(words)} words "
        f"(median {statistics.median(words):.0f}); {len(queries)} queries"
    )
    workdir = Path(tempfile.mkdtemp(prefix="search-bench-"))
    name = {"whoosh": "Whoosh", "postgres": "PostgreSQL"}[args.backend]
    runs = (
        postgres_runs(documents, url)
        if args.backend == "postgres"
        else whoosh_runs(documents, workdir / "whoosh")
    )
    try:
        with runs as (build, size, portal_top, portal_page):
            db, fts_build = build_fts(documents, workdir / "fts.db")
            print(
                f"Build: {name} {build:.1f} s, {size:.1f} MB; "
                f"FTS5 {fts_build:.2f} s, {_size(workdir / 'fts.db'):.1f} MB"
            )

            # 1. The engines alone: the ten best documents for each query.
            def fts_top(text):
                return db.execute(
                    "SELECT rowid FROM docs WHERE docs MATCH ? "
                    "ORDER BY bm25(docs, 3.0, 1.0, 1.0) LIMIT 10",
                    (_fts_query(text),),
                ).fetchall()

            top = _time(portal_top, queries), _time(fts_top, queries)
            _report("Top 10 by relevance", name, queries, *top)

            # 2. What /search computes: the page of hits with highlights, the total and the
            # kind and tag facet counts, inside an agent's audience filter (the portal's code).
            def fts_page(text):
                params = {"q": _fts_query(text)}
                rows = db.execute(FTS_PAGE[0], params).fetchall()
                for sql in FTS_PAGE[1:]:
                    db.execute(sql, params).fetchall()
                return rows

            page = _time(portal_page, queries), _time(fts_page, queries)
            _report("Search page", name, queries, *page)
            db.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _kind_of(text: str) -> str:
    return "phrase" if text.startswith('"') else f"{len(text.split())} word(s)"


def _report(title, portal_name, queries, portal, fts):
    (portal_times, portal_found), (fts_times, fts_found) = portal, fts
    print(f"\n{title}\n{'engine':<12} {'p50 ms':>8} {'p95 ms':>8} {'hits':>6}")
    for name, times, found in (
        (portal_name, portal_times, portal_found),
        ("FTS5", fts_times, fts_found),
    ):
        print(
            f"{name:<12} {_percentile(times, 50):>8.2f} {_percentile(times, 95):>8.2f} {found:>6}"
        )
    ratio50 = _percentile(portal_times, 50) / _percentile(fts_times, 50)
    ratio95 = _percentile(portal_times, 95) / _percentile(fts_times, 95)
    verdict = "within" if ratio95 <= 1.5 else "NOT within"
    print(f"{portal_name}/FTS5: p50 {ratio50:.2f}x, p95 {ratio95:.2f}x ({verdict} the 1.5x target)")
    print(f"  by query ({portal_name} p50/p95 vs FTS5 p50/p95, ms):")
    for kind in sorted({_kind_of(q) for q in queries}):
        picked = [i for i, q in enumerate(queries) if _kind_of(q) == kind]
        w = [portal_times[i] for i in picked]
        f = [fts_times[i] for i in picked]
        print(
            f"  {kind:<10} n={len(picked):<4} {_percentile(w, 50):6.2f} / {_percentile(w, 95):6.2f}"
            f"   vs {_percentile(f, 50):6.2f} / {_percentile(f, 95):6.2f}"
        )


if __name__ == "__main__":
    main()

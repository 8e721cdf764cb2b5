"""Fill an empty portal database with a realistic, large data set for the report benchmarks.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python bench/seed.py [--partners 20] [--agents 50000] [--documents 2000] \\
        [--required 100] [--announcements N] [--seed 7] [--today YYYY-MM-DD]

The database named by DATABASE_URL (SQLite file or PostgreSQL) must hold no people, partners
or documents: the script refuses otherwise, changing nothing. It brings the schema to the
latest migration itself (``flask db upgrade``), then writes everything in one transaction:
partners and teams, people (everyone's password is "bench-password"), documents with
versions, courses and requirements, announcements, an onboarding path, and the records, about
5 million acknowledgements and completions at the default size. PostgreSQL is loaded with
COPY, SQLite with batched executemany; ids are assigned here and PostgreSQL's id sequences are
moved past them at the end. Progress goes to stderr, the summary to stdout.
"""

import argparse
import os
import random
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # seedlib, when imported by tests

import flask_migrate  # noqa: E402
from seedlib import library, records, training, world  # noqa: E402
from seedlib.writer import Progress, Writer  # noqa: E402
from sqlalchemy import func, inspect, select, text  # noqa: E402

from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.people.models import hash_password  # noqa: E402

PASSWORD = "bench-password"
RECORD_TABLES = records.RECORDS


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--partners", type=int, default=20, help="BPO partners (default 20)")
    parser.add_argument(
        "--agents", type=int, default=50_000, help="partner people, ~2%% of them trainers"
    )
    parser.add_argument("--documents", type=int, default=2000, help="library documents")
    parser.add_argument(
        "--required", type=int, default=100, help="required items: half courses, half documents"
    )
    parser.add_argument(
        "--announcements", type=int, help="announcements (default: documents / 40, at least 5)"
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed (same seed, same data)")
    parser.add_argument("--today", type=date.fromisoformat, help="the data's today (YYYY-MM-DD)")
    parser.add_argument("--batch", type=int, default=10_000, help="rows per insert batch")
    args = parser.parse_args(argv)
    for name in ("partners", "agents", "documents", "required"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.required > args.documents:
        parser.error("--required cannot exceed --documents (half of it are documents)")
    if args.announcements is None:
        args.announcements = max(5, args.documents // 40)
    return args


def existing_content() -> dict[str, int]:
    """Rows already in the tables that make a database non-empty (tables missing: none)."""
    present = set(inspect(db.engine).get_table_names())
    counts = {}
    with db.engine.connect() as conn:
        for table in ("user", "partner", "document"):
            if table in present:
                counts[table] = conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar()
    return {table: n for table, n in counts.items() if n}


def _clock(today: date | None):
    real_now = datetime.now(UTC)
    if today is None or today == real_now.date():
        return real_now.date(), real_now.replace(microsecond=0)
    return today, datetime.combine(today, datetime.min.time(), UTC).replace(hour=12)


def seed(connection, args, password_hash: str, progress: Progress) -> world.World:
    """Write the whole data set on ``connection`` (inside the caller's transaction)."""
    writer = Writer(connection, progress, batch_size=args.batch)
    for declare in (
        world.declare_people,
        library.declare_library,
        training.declare_training,
        records.declare_records,
    ):
        declare(writer)
    today, now = _clock(args.today)
    w = world.World(
        writer, random.Random(args.seed), today=today, now=now, password_hash=password_hash
    )
    bodies = library.Bodies()
    course_count = (args.required + 1) // 2
    required_documents = args.required - course_count
    ack_documents = max(required_documents, round(args.documents * 0.032))

    def phase(name, make, summary):
        progress.start(name, writer.total)
        make()
        writer.flush()
        progress.done(summary(), writer.total)

    phase(
        "people",
        lambda: (
            world.make_partners(w, args.partners),
            world.make_staff(w),
            world.make_people(w, args.agents),
        ),
        lambda: (
            f"{len(w.partners)} partners, {sum(len(p.teams) for p in w.partners)} teams, "
            f"{sum(len(p.people) for p in w.partners):,} partner people"
        ),
    )
    phase(
        "library",
        lambda: library.make_documents(
            w, args.documents, ack_documents, required_documents, bodies
        ),
        lambda: (
            f"{len(w.documents):,} documents, "
            f"{sum(d.requires_ack for d in w.documents)} asking for acknowledgement"
        ),
    )
    phase(
        "training",
        lambda: (
            training.make_courses(w, course_count, bodies),
            training.make_requirements(w, required_documents),
            training.make_path(w, bodies),
        ),
        lambda: f"{len(w.courses)} courses, {len(w.requirements)} requirements, 1 path",
    )
    phase(
        "announcements",
        lambda: library.make_announcements(w, args.announcements, bodies),
        lambda: f"{args.announcements} announcements",
    )
    writer.watch = RECORD_TABLES
    phase(
        "records",
        lambda: records.RecordMaker(w, args.seed).run(),
        lambda: ", ".join(f"{t} {writer.counts.get(t, 0):,}" for t in RECORD_TABLES),
    )
    return w


def reset_sequences(connection, last_ids: dict[str, int]) -> None:
    """PostgreSQL: move each id sequence past the ids written here."""
    for table, last in last_ids.items():
        connection.execute(
            text("SELECT setval(pg_get_serial_sequence(:table, 'id'), :last)"),
            {"table": f'"{table}"', "last": last},
        )


def summary(started: float) -> None:
    print(f"\n{'table':<28} {'rows':>12}")
    total = 0
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            count = conn.execute(select(func.count()).select_from(table)).scalar()
            if count:
                print(f"{table.name:<28} {count:>12,}")
                total += count
        records_total = sum(
            conn.execute(select(func.count()).select_from(db.metadata.tables[t])).scalar()
            for t in ("acknowledgement", "completion")
        )
    elapsed = time.perf_counter() - started
    print(f"{'total':<28} {total:>12,}")
    print(f"\nacknowledgements + completions: {records_total:,}")
    print(f"elapsed: {elapsed:.1f} s ({total / elapsed:,.0f} rows/s overall)")


def main(argv=None) -> int:
    args = parse_args(argv)
    url = os.environ.get("DATABASE_URL")
    if not url:
        print(
            "Set DATABASE_URL to the empty database to fill, e.g. "
            "sqlite:////tmp/bench.db or postgresql+psycopg://postgres@127.0.0.1:5432/bench",
            file=sys.stderr,
        )
        return 2
    started = time.perf_counter()
    app = create_app(os.environ.get("PORTAL_ENV", "development"), SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        try:
            return _fill(args, started)
        finally:
            db.engine.dispose()


def _fill(args, started: float) -> int:
    """Refuse a database with content, else migrate, seed and summarize (in an app context)."""
    if found := existing_content():
        held = ", ".join(f"{n:,} {table} rows" for table, n in found.items())
        print(
            f"Refusing to seed: the database already holds {held}. The generator only "
            "fills an empty database; create a new one (e.g. `createdb bench`, or a new "
            "SQLite file) and point DATABASE_URL at it.",
            file=sys.stderr,
        )
        return 1
    print("migrating the schema to the latest revision (flask db upgrade)", file=sys.stderr)
    flask_migrate.upgrade()
    password_hash = hash_password(PASSWORD)  # once: every person shares it
    progress = Progress()
    with db.engine.connect() as connection:
        with connection.begin():
            generated = seed(connection, args, password_hash, progress)
            if connection.dialect.name == "postgresql":
                reset_sequences(connection, generated.last_ids())
        if connection.dialect.name == "postgresql":
            progress.start("analyze", 0)
            # Only the portal's tables: a bare ANALYZE also visits the shared catalogs
            # and can wait on other databases' sessions.
            tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            connection.execute(text(f"ANALYZE {tables}"))
            connection.commit()
            progress.done("planner statistics", 0)
    summary(started)
    print(
        f'\nSign in with password "{PASSWORD}" as admin@bench.example, prm1@bench.example, '
        "or any partner person (see the user table)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

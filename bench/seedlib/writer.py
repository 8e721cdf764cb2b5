"""Bulk writing: rows buffered per table and written in batches, with progress on stderr.

PostgreSQL: ``COPY ... FROM STDIN`` through psycopg's ``cursor.copy`` (the fastest way in).
SQLite: SQLAlchemy Core ``insert(table)`` with a list of dicts (one executemany per batch).
Every batch goes through the schema as it is: constraints, indexes and foreign keys stay on.
Buffers are flushed together in foreign-key order, so a row never arrives before its parent.
"""

import sys
import time

from sqlalchemy import JSON, bindparam, insert, update

from portal.extensions import db


class Progress:
    """Phase lines with counts and rows per second, and a running counter for long phases."""

    def __init__(self, stream=sys.stderr):
        self.stream = stream
        self.started = time.perf_counter()
        self._phase_started = self.started
        self._phase_rows = 0
        self._last_tick = time.perf_counter()
        self.tty = stream.isatty()

    def start(self, name: str, rows_so_far: int) -> None:
        self.name = name
        self._phase_started = time.perf_counter()
        self._phase_rows = rows_so_far

    def tick(self, counts: dict[str, int], total: int, tables: tuple[str, ...]) -> None:
        now = time.perf_counter()
        if not tables or now - self._last_tick < (1.0 if self.tty else 5.0):
            return
        self._last_tick = now
        rate = (total - self._phase_rows) / max(now - self._phase_started, 1e-9)
        shown = " · ".join(f"{t} {counts.get(t, 0):,}" for t in tables if counts.get(t))
        line = f"  {self.name}: {shown} ({rate:,.0f} rows/s)"
        if self.tty:
            self.stream.write("\r" + line[:160].ljust(160))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def done(self, summary: str, total: int) -> None:
        elapsed = time.perf_counter() - self._phase_started
        rows = total - self._phase_rows
        rate = rows / max(elapsed, 1e-9)
        if self.tty:
            self.stream.write("\r" + " " * 160 + "\r")
        self.stream.write(
            f"{self.name:<14} {rows:>11,} rows {elapsed:7.1f} s {rate:>10,.0f} rows/s  {summary}\n"
        )
        self.stream.flush()


class Writer:
    """Buffers rows (tuples in a declared column order) and writes them in batches."""

    def __init__(self, connection, progress: Progress, batch_size: int = 10_000):
        self.connection = connection
        self.progress = progress
        self.batch_size = batch_size
        self.postgres = connection.dialect.name == "postgresql"
        self.tables = db.metadata.tables
        self.order = {t.name: i for i, t in enumerate(db.metadata.sorted_tables)}
        self.columns: dict[str, tuple[str, ...]] = {}
        self.buffers: dict[str, list] = {}
        self.counts: dict[str, int] = {}
        self.total = 0
        self.watch: tuple[str, ...] = ()

    def declare(self, table: str, columns) -> None:
        """Name the columns, in order, of the tuples that ``add`` will get for ``table``."""
        if table not in self.tables:
            raise KeyError(f"no table {table!r} in the portal's models")
        self.columns[table] = tuple(columns)
        self.buffers.setdefault(table, [])

    def add(self, table: str, row: tuple) -> None:
        buffer = self.buffers[table]
        buffer.append(row)
        if len(buffer) >= self.batch_size:
            self.flush()

    def buffer(self, table: str) -> list:
        """The list ``add`` appends to, for hot loops; call ``maybe_flush`` now and then."""
        return self.buffers[table]

    def maybe_flush(self) -> None:
        if any(len(rows) >= self.batch_size for rows in self.buffers.values()):
            self.flush()

    def flush(self) -> None:
        """Write every buffered row, parents before children."""
        for table in sorted(self.buffers, key=self.order.__getitem__):
            rows = self.buffers[table]
            if rows:
                self._write(table, rows)
                self.counts[table] = self.counts.get(table, 0) + len(rows)
                self.total += len(rows)
                rows.clear()  # the same list: hot loops hold it
        self.progress.tick(self.counts, self.total, self.watch)

    def _write(self, table: str, rows: list) -> None:
        columns = self.columns[table]
        model_table = self.tables[table]
        uses_json = any(isinstance(model_table.c[c].type, JSON) for c in columns)
        if self.postgres and not uses_json:
            names = ", ".join(f'"{c}"' for c in columns)
            cursor = self.connection.connection.driver_connection.cursor()
            with cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.close()
        else:
            self.connection.execute(
                insert(model_table), [dict(zip(columns, r, strict=True)) for r in rows]
            )

    def update(self, table: str, key: str, column: str, values: dict) -> None:
        """Set ``column`` by primary key (``values``: key -> value), e.g. a current version."""
        self.flush()
        if not values:
            return
        model_table = self.tables[table]
        stmt = (
            update(model_table)
            .where(model_table.c[key] == bindparam("_key"))
            .values({column: bindparam("_value")})
        )
        self.connection.execute(stmt, [{"_key": k, "_value": v} for k, v in values.items()])

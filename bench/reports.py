"""Time the compliance dashboard as the portal computes it against bare hand-written SQL.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_med \\
        .venv/bin/python bench/reports.py [--repeat 5] [--partner] [--skip-csv]

On a database already filled by bench/seed.py (SQLite or PostgreSQL), in one run and on one
connection: the /reports/compliance page for a PRM (no filters, page 1: the table alone and the
whole view with its template), the whole table (every item, as the dashboard CSV reads it),
and one hand-written GROUP BY that yields the same cells (item x partner: people, complete,
overdue, pending, expiring); the numbers are compared. Then the largest CSV export (the
drill-down of every obligation) is streamed through its own generator, measuring its peak
memory. Figures go to stdout; nothing is written to the database.
"""

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_login import login_user  # noqa: E402
from sqlalchemy import event, select, text  # noqa: E402

from portal import create_app  # noqa: E402
from portal.compliance import dashboard, dashboard_routes  # noqa: E402
from portal.core.clock import utcnow  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.people.models import User  # noqa: E402
from portal.reminders.localdays import day_number  # noqa: E402

# --- the bare SQL ---------------------------------------------------------------------------

DAY = {
    "postgresql": "(CAST({} AS DATE) - DATE '1970-01-01')",
    "sqlite": "CAST(julianday(date({})) - 2440587.5 AS INTEGER)",
}


def _audience(aid: str) -> str:
    """The audience ``aid`` includes person ``u`` (no rules of a kind: anyone for it)."""
    return f"""(
      ((NOT EXISTS (SELECT 1 FROM audience_partner x WHERE x.audience_id = {aid})
        AND NOT EXISTS (SELECT 1 FROM audience_team x WHERE x.audience_id = {aid}))
       OR EXISTS (SELECT 1 FROM audience_partner x
                  WHERE x.audience_id = {aid} AND x.partner_id = u.partner_id)
       OR EXISTS (SELECT 1 FROM audience_team x
                  WHERE x.audience_id = {aid} AND x.team_id = u.team_id))
      AND (NOT EXISTS (SELECT 1 FROM audience_role x WHERE x.audience_id = {aid})
           OR EXISTS (SELECT 1 FROM audience_role x
                      WHERE x.audience_id = {aid} AND x.role = u.role))
      AND (NOT EXISTS (SELECT 1 FROM audience_language x WHERE x.audience_id = {aid})
           OR EXISTS (SELECT 1 FROM audience_language x
                      WHERE x.audience_id = {aid} AND x.language = u.language)))"""


def bare_sql(dialect: str, by_team: bool) -> str:
    """One hand-written statement: the cells (kind, item_id, column_id, counts).

    Parameters: :today (day number), :within (ACKNOWLEDGE_WITHIN_DAYS), :partner (None: all).
    """

    def day(value):
        return DAY[dialect].format(value)

    def later(a, b):
        return f"CASE WHEN {a} > {b} THEN {a} ELSE {b} END"

    rule_day = f"""CASE
        WHEN r.due_rule = 'fixed_date' THEN {day("r.due_on")}
        WHEN r.due_rule = 'after_hire'
          THEN COALESCE({day("u.hire_date")}, {day("u.created_at")}) + r.due_days
        ELSE {day("r.created_at")} + r.due_days END"""
    start = later(day("r.created_at"), day("u.created_at"))
    rule_due = f"CASE WHEN ({rule_day}) < ({start}) THEN ({start}) + 14 ELSE ({rule_day}) END"
    place = "({t}.partner_id IS NULL OR {t}.partner_id = u.partner_id)"
    addressed = place + " AND " + _audience("{t}.audience_id")
    column = "u.team_id" if by_team else "u.partner_id"
    return f"""
WITH u AS (
  SELECT u.id, u.partner_id, u.team_id, u.role, u.language, u.created_at, u.hire_date
  FROM "user" u JOIN partner p ON p.id = u.partner_id
  WHERE u.active AND u.role IN ('agent', 'trainer') AND p.active
    AND (CAST(:partner AS INTEGER) IS NULL OR u.partner_id = CAST(:partner AS INTEGER))
),
acked AS (
  SELECT a.user_id, a.document_id, min(a.acknowledged_at) AS at
  FROM acknowledgement a JOIN document d ON d.id = a.document_id
  WHERE a.version_number >= d.ack_from_number
  GROUP BY a.user_id, a.document_id
),
docs AS (
  SELECT 'document' AS kind, d.id AS item_id, u.id AS user_id, {column} AS column_id,
         COALESCE((SELECT min({rule_due}) FROM requirement r
                   WHERE r.document_id = d.id AND r.kind = 'document'
                     AND r.withdrawn_at IS NULL AND {addressed.format(t="r")}),
                  {later(day("m.published_at"), day("u.created_at"))} + :within) AS due_day,
         ack.at AS done_at
  FROM document d
  JOIN u ON {addressed.format(t="d")}
  JOIN document_version m ON m.document_id = d.id AND m.number = d.ack_from_number
  LEFT JOIN acked ack ON ack.user_id = u.id AND ack.document_id = d.id
  WHERE d.status = 'published' AND d.requires_ack
),
base AS (
  SELECT r.course_id, r.warning_days, u.id AS user_id, {column} AS column_id,
         {rule_due} AS rule_due,
         (SELECT {day("c.expires_at")} FROM completion c
          WHERE c.user_id = u.id AND c.course_id = r.course_id
          ORDER BY c.sequence DESC LIMIT 1) AS expires_day,
         EXISTS (SELECT 1 FROM completion c
                 WHERE c.user_id = u.id AND c.course_id = r.course_id) AS completed
  FROM requirement r
  JOIN course c ON c.id = r.course_id
  JOIN u ON {addressed.format(t="r")}
  WHERE r.kind = 'course' AND r.withdrawn_at IS NULL AND c.status = 'published'
),
assigned AS (
  SELECT course_id, user_id, column_id,
    CASE
      WHEN completed AND expires_day IS NOT NULL AND expires_day > :today
           AND expires_day - :today <= warning_days THEN 2
      WHEN completed AND (expires_day IS NULL OR expires_day > :today) THEN 3
      WHEN completed AND :today > expires_day THEN 0
      WHEN completed THEN 1
      WHEN :today > rule_due THEN 0
      ELSE 1 END AS urgency
  FROM base
),
courses AS (
  SELECT 'course' AS kind, course_id AS item_id, user_id, min(column_id) AS column_id,
         CASE min(urgency) WHEN 0 THEN 'overdue' WHEN 1 THEN 'pending'
           WHEN 2 THEN 'expiring' ELSE 'done' END AS status
  FROM assigned GROUP BY course_id, user_id
),
notes AS (
  SELECT 'announcement' AS kind, a.id AS item_id, u.id AS user_id, {column} AS column_id,
         COALESCE({day("a.effective_on")},
                  {later(day("a.publish_at"), day("u.created_at"))} + :within) AS due_day,
         k.acknowledged_at AS done_at
  FROM announcement a
  JOIN u ON {addressed.format(t="a")}
  LEFT JOIN announcement_ack k ON k.announcement_id = a.id AND k.user_id = u.id
  WHERE a.status = 'published' AND a.requires_ack AND {day("a.publish_at")} <= :today
),
sign_off AS (
  SELECT s.enrolment_id, s.step_id, s.signed, s.at FROM onboarding_sign_off s
  JOIN (SELECT enrolment_id, step_id, max(sequence) AS sequence FROM onboarding_sign_off
        GROUP BY enrolment_id, step_id) m
    ON m.enrolment_id = s.enrolment_id AND m.step_id = s.step_id AND m.sequence = s.sequence
),
steps AS (
  SELECT e.id AS enrolment_id, e.path_id, u.id AS user_id, {column} AS column_id,
         st.required,
         {day("e.start_date")} + st.due_day - 1 AS due_day,
         CASE st.kind
           WHEN 'document' THEN (SELECT min(a.acknowledged_at) FROM acknowledgement a
                                 WHERE a.user_id = e.user_id AND a.document_id = st.document_id)
           WHEN 'course' THEN (SELECT min(c.completed_at) FROM completion c
                               WHERE c.user_id = e.user_id AND c.course_id = st.course_id)
           ELSE CASE WHEN so.signed THEN so.at END END AS done_at
  FROM onboarding_enrolment e
  JOIN u ON u.id = e.user_id
  JOIN onboarding_path p ON p.id = e.path_id
  JOIN onboarding_step st ON st.version_id = e.version_id
  LEFT JOIN sign_off so ON so.enrolment_id = e.id AND so.step_id = st.id
),
paths AS (
  SELECT 'path' AS kind, path_id AS item_id, user_id, min(column_id) AS column_id,
    CASE
      WHEN sum(CASE WHEN required THEN 1 ELSE 0 END) > 0
       AND sum(CASE WHEN required THEN 1 ELSE 0 END)
           = sum(CASE WHEN required AND done_at IS NOT NULL THEN 1 ELSE 0 END) THEN 'done'
      WHEN sum(CASE WHEN done_at IS NULL AND due_day < :today THEN 1 ELSE 0 END) > 0
        THEN 'overdue'
      ELSE 'pending' END AS status
  FROM steps GROUP BY enrolment_id, path_id, user_id
),
everything AS (
  SELECT kind, item_id, column_id,
         CASE WHEN done_at IS NOT NULL THEN 'done' WHEN due_day < :today THEN 'overdue'
              ELSE 'pending' END AS status
  FROM docs
  UNION ALL
  SELECT kind, item_id, column_id,
         CASE WHEN done_at IS NOT NULL THEN 'done' WHEN due_day < :today THEN 'overdue'
              ELSE 'pending' END
  FROM notes
  UNION ALL SELECT kind, item_id, column_id, status FROM courses
  UNION ALL SELECT kind, item_id, column_id, status FROM paths
)
SELECT kind, item_id, column_id, count(*) AS people,
       sum(CASE WHEN status IN ('done', 'expiring') THEN 1 ELSE 0 END) AS complete,
       sum(CASE WHEN status = 'overdue' THEN 1 ELSE 0 END) AS overdue,
       sum(CASE WHEN status = 'pending' THEN 1 ELSE 0 END) AS pending,
       sum(CASE WHEN status = 'expiring' THEN 1 ELSE 0 END) AS expiring
FROM everything
GROUP BY kind, item_id, column_id
"""


# --- measuring ------------------------------------------------------------------------------


class StatementCounter:
    """Counts statements sent on the engine while ``on`` is set."""

    def __init__(self, engine):
        self.count = 0
        self.on = False
        event.listen(engine, "before_cursor_execute", self._before)

    def _before(self, *args, **kwargs):
        if self.on:
            self.count += 1

    def measure(self, fn):
        self.count, self.on = 0, True
        try:
            result = fn()
        finally:
            self.on = False
        return result, self.count


def timed(fn, repeat: int):
    """(median s, min s, last result) of ``fn`` run ``repeat`` times, each in a new transaction."""
    times, result = [], None
    for _ in range(repeat):
        db.session.rollback()
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    db.session.rollback()
    return statistics.median(times), min(times), result


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class RssSampler(threading.Thread):
    """Samples VmRSS every 50 ms; ``peak`` is the highest seen (kB)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak = _status_kb("VmRSS")
        self.stop = threading.Event()

    def run(self):
        while not self.stop.wait(0.05):
            self.peak = max(self.peak, _status_kb("VmRSS"))


def _reset_hwm() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


# --- the run --------------------------------------------------------------------------------


def _cells_of_items(items) -> dict:
    return {
        (item.kind, item.item_id, column): (c.people, c.complete, c.overdue, c.pending, c.expiring)
        for item in items
        for column, c in item.cells.items()
    }


def _bare_cells(sql: str, params: dict) -> dict:
    rows = db.session.execute(text(sql), params).all()
    return {(r.kind, r.item_id, r.column_id): tuple(int(v) for v in r[3:]) for r in rows}


def _compare(label: str, portal: dict, bare: dict) -> None:
    if portal != bare:
        keys = sorted(set(portal) | set(bare), key=repr)
        diff = [(k, portal.get(k), bare.get(k)) for k in keys if portal.get(k) != bare.get(k)]
        for k, p, b in diff[:10]:
            print(f"  {k}: portal {p} bare {b}", file=sys.stderr)
        raise AssertionError(f"{label}: {len(diff)} of {len(keys)} cells differ")
    print(f"{label}: numbers match ({len(portal):,} cells)")


def _dashboard(app, prm, filters, repeat, counter, label, dialect, rows):
    today = utcnow().date()
    params = {
        "today": day_number(today),
        "within": app.config["ACKNOWLEDGE_WITHIN_DAYS"],
        "partner": filters.partner_id,
    }
    query = "" if filters.partner_id is None else f"?partner={filters.partner_id}"

    def page():
        return dashboard.dashboard_table(prm, today, filters, 1)

    def view():
        with app.test_request_context(f"/reports/compliance{query}"):
            login_user(prm)
            return dashboard_routes.index()

    def whole():
        return list(dashboard.table_stream(prm, today, filters, dashboard_routes.CSV_BATCH))

    sql = bare_sql(dialect, dashboard.by_team(prm, filters))
    # One untimed round of each first (connection, caches), then the timed rounds.
    _, page_statements = counter.measure(page)
    _, view_statements = counter.measure(view)
    db.session.rollback()
    page_med, page_min, table = timed(page, repeat)
    view_med, view_min, _ = timed(view, repeat)
    whole_med, whole_min, items = timed(whole, repeat)
    bare_med, bare_min, bare = timed(lambda: _bare_cells(sql, params), repeat)
    portal_cells = _cells_of_items(items)
    _compare(f"{label}, whole table vs bare SQL", portal_cells, bare)
    page_cells = _cells_of_items(table.items)
    assert page_cells == {k: bare[k] for k in page_cells}, "page 1 cells differ from bare SQL"
    print(f"{label}, page 1 ({len(table.items)} of {table.total} items): numbers match")
    rows += [
        (f"{label}: page 1, dashboard_table", page_med, page_min, page_med / bare_med),
        (f"{label}: page 1, whole view + template", view_med, view_min, view_med / bare_med),
        (f"{label}: whole table (table_stream)", whole_med, whole_min, whole_med / bare_med),
        (f"{label}: bare hand-written SQL", bare_med, bare_min, 1.0),
    ]
    print(
        f"{label}: statements: dashboard_table {page_statements}, whole page view {view_statements}"
    )


def _csv_export(app, prm) -> dict:
    """Stream the drill-down CSV of every obligation through the route's own generator."""
    db.session.rollback()
    with app.test_request_context("/reports/compliance/people.csv"):
        login_user(prm)
        before = _status_kb("VmRSS")
        hwm_reset = _reset_hwm()
        sampler = RssSampler()
        sampler.start()
        started = time.perf_counter()
        response = dashboard_routes.people_csv()
        chunks = total_bytes = lines = 0
        for chunk in response.response:
            data = chunk.encode() if isinstance(chunk, str) else chunk
            chunks += 1
            total_bytes += len(data)
            lines += data.count(b"\n")
        elapsed = time.perf_counter() - started
        sampler.stop.set()
        sampler.join()
        response.close()
        hwm = _status_kb("VmHWM")
    db.session.rollback()
    peak = max(sampler.peak, hwm) if hwm_reset else sampler.peak
    return {
        "rows": lines - 1,  # the header line; no cell holds a newline in seeded data
        "bytes": total_bytes,
        "chunks": chunks,
        "elapsed": elapsed,
        "before_mb": before / 1024,
        "growth_mb": (peak - before) / 1024,
        "method": "VmHWM reset + 50 ms VmRSS sampling" if hwm_reset else "50 ms VmRSS sampling",
    }


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed rounds (default 5)")
    parser.add_argument(
        "--partner", action="store_true", help="also time the largest partner's dashboard"
    )
    parser.add_argument("--skip-csv", action="store_true", help="skip the CSV export")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    url = os.environ.get("DATABASE_URL")
    if not url:
        print("Set DATABASE_URL to a database filled by bench/seed.py", file=sys.stderr)
        return 2
    app = create_app(os.environ.get("PORTAL_ENV", "development"), SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        try:
            return _run(app, args)
        finally:
            db.session.remove()
            db.engine.dispose()


def _run(app, args) -> int:
    dialect = db.engine.dialect.name
    prm = db.session.scalars(
        select(User).where(User.role == "prm", User.active).order_by(User.id)
    ).first()
    if prm is None:
        print("No active PRM in this database: seed it with bench/seed.py", file=sys.stderr)
        return 1
    print(f"database: {dialect}, viewer: {prm.email}, today: {utcnow().date()}")
    if dialect == "postgresql":
        jit = db.session.execute(text("SHOW jit")).scalar()
        print(f"jit on the app's connection (SHOW jit): {jit}")
    db.session.rollback()
    counter = StatementCounter(db.engine)
    rows = []
    _dashboard(app, prm, dashboard.Filters(), args.repeat, counter, "all partners", dialect, rows)
    if args.partner:
        partner_id = db.session.execute(
            text(
                'SELECT partner_id FROM "user" WHERE partner_id IS NOT NULL '
                "GROUP BY partner_id ORDER BY count(*) DESC, partner_id LIMIT 1"
            )
        ).scalar()
        filters = dashboard.Filters(partner_id=partner_id)
        _dashboard(app, prm, filters, args.repeat, counter, f"partner {partner_id}", dialect, rows)
    csv = None if args.skip_csv else _csv_export(app, prm)

    print(f"\n{'measure':<48} {'median':>9} {'min':>9} {'x bare':>7}")
    for name, median, least, ratio in rows:
        print(f"{name:<48} {median * 1000:>7.0f}ms {least * 1000:>7.0f}ms {ratio:>6.2f}x")
    if csv:
        print(
            f"\nCSV export (drill-down, every obligation): {csv['rows']:,} rows, "
            f"{csv['bytes'] / 1e6:.1f} MB in {csv['chunks']:,} chunks, {csv['elapsed']:.1f} s; "
            f"memory growth {csv['growth_mb']:.1f} MB over {csv['before_mb']:.0f} MB "
            f"({csv['method']}; target <= 50 MB)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``local_day(timestamp, zone)`` in SQL: the day number of a UTC instant in a time zone.

Due dates and "today" are a person's own local dates, so one query over everyone needs the
time zone conversion inside SQL. The result is a day number (days since 1970-01-01) so that
"due in N days" and "every 3 days overdue" are plain integer arithmetic on both databases:

- PostgreSQL converts exactly with its time zone rules: ``timezone(zone, timezone('UTC', ts))``.
- SQLite has no time zones: the same conversion runs in Python (``zoneinfo``) as a function
  registered on the session's connection by :func:`prepare` before the query runs.

Zones PostgreSQL or Python do not know would fail the query, so callers pass the zone through
:func:`zone_expression`, which maps unknown names to UTC.
"""

import sqlite3
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Integer, String, case, literal, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from portal.core.clock import zone
from portal.core.locale import is_timezone
from portal.extensions import db

EPOCH = date(1970, 1, 1)
SQLITE_FUNCTION = "portal_local_day"


def day_number(value: date) -> int:
    """``value`` as a day number."""
    return (value - EPOCH).days


def from_day_number(number: int) -> date:
    """The date of a day number."""
    return EPOCH + timedelta(days=number)


class local_day(FunctionElement):  # noqa: N801 - reads like the SQL function it is
    """SQL: the day number of the naive-UTC timestamp ``ts`` in the time zone ``zone``."""

    type = Integer()
    inherit_cache = True
    name = "local_day"


@compiles(local_day, "postgresql")
def _local_day_postgresql(element, compiler, **kw):
    ts, tz = list(element.clauses)
    return (
        f"(CAST(timezone({compiler.process(tz, **kw)}, timezone('UTC', "
        f"CAST({compiler.process(ts, **kw)} AS TIMESTAMP))) AS DATE) - DATE '1970-01-01')"
    )


@compiles(local_day)
def _local_day_sqlite(element, compiler, **kw):
    return f"{SQLITE_FUNCTION}({compiler.process(element.clauses, **kw)})"


def _sqlite_local_day(value, tz_name):
    if value is None:
        return None
    instant = datetime.fromisoformat(str(value)).replace(tzinfo=UTC)
    return day_number(instant.astimezone(zone(tz_name)).date())


def prepare(session) -> None:
    """Make ``local_day`` callable on ``session``'s connection (SQLite needs the function).

    Registered on the connection the session's transaction uses, just before the query, so
    it works whatever the order in which the app and this module were loaded.
    """
    raw = session.connection().connection.driver_connection
    if isinstance(raw, sqlite3.Connection):
        raw.create_function(SQLITE_FUNCTION, 2, _sqlite_local_day, deterministic=True)


def zone_expression(column):
    """SQL: ``column`` where it names a known time zone, else 'UTC' (one small query).

    People's zones are checked when they are saved; this keeps one bad row from failing the
    whole run.
    """
    names = db.session.scalars(select(column).distinct()).all()
    unknown = [name for name in names if not (name and is_timezone(name))]
    if not unknown:
        return column
    known = [name for name in names if name not in unknown]
    return case((column.in_(known), column), else_=literal("UTC", String))

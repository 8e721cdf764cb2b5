"""Statements about one person, built once per process and bound to the person when they run.

Building an audience-filtered statement costs milliseconds of Python (the audience rules),
more than running it for one person does, and the navigation runs several on every page. A
:class:`BoundPerson` stands in for the person while such a statement is built: their id,
partner, team and language are bind parameters; their role, and whether they have a team,
change the statement's shape and so are part of its cache key. :func:`bound_values` gives the
values to run it with. A value left out makes SQLAlchemy refuse to run the statement (it never
guesses), and the visibility rules themselves are the same functions every page uses.

    @person_statement
    def _pending(person):
        return select(func.count()).select_from(pending_for(person).subquery())

    db.session.scalar(_pending(person), bound_values(person))
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Integer, String, bindparam
from sqlalchemy.sql.elements import BindParameter

from portal.access.roles import PARTNER_ROLES, HasRole, Role
from portal.core.clock import UTCDateTime
from portal.reminders.localdays import day_number

PERSON_ID = bindparam("bound_person_id", type_=Integer)
PARTNER_ID = bindparam("bound_partner_id", type_=Integer)
TEAM_ID = bindparam("bound_team_id", type_=Integer)
LANGUAGE = bindparam("bound_language", type_=String)
NOW = bindparam("bound_now", type_=UTCDateTime)
TODAY_DAY = bindparam("bound_today_day", type_=Integer)  # a day number (reminders.localdays)


@dataclass(frozen=True)
class BoundPerson(HasRole):
    """A partner person whose attributes are bind parameters (see the module's text)."""

    role: str
    team_id: BindParameter | None
    id: BindParameter = PERSON_ID
    partner_id: BindParameter = PARTNER_ID
    language: BindParameter = LANGUAGE
    is_authenticated: bool = True
    active: bool = True


def person_statement(build: Callable) -> Callable:
    """Decorate ``build(person, now)``, which returns a statement, to build it once per shape.

    The decorated function takes a real person and returns the cached statement; run it with
    :func:`bound_values` of the same person. Only for partner people (trainers and agents):
    callers answer for everyone else without a statement (see :func:`applies_to`).
    """

    @functools.cache
    def cached(role: str, has_team: bool):
        return build(BoundPerson(role=role, team_id=TEAM_ID if has_team else None), NOW)

    @functools.wraps(build)
    def statement(person):
        if not applies_to(person):
            raise ValueError("bound statements stand only for active partner people")
        return cached(person.role, person.team_id is not None)

    return statement


def applies_to(person) -> bool:
    """Whether a bound statement can stand for ``person``: an active, signed-in partner person
    (the visibility rules give everyone else nothing, or everything)."""
    return (
        person is not None
        and getattr(person, "is_authenticated", False)
        and person.active
        and Role(person.role) in PARTNER_ROLES
        and person.partner_id is not None
    )


def bound_values(person, now: datetime) -> dict:
    """The values a :func:`person_statement` of ``person`` runs with, at ``now``."""
    return {
        PERSON_ID.key: person.id,
        PARTNER_ID.key: person.partner_id,
        TEAM_ID.key: person.team_id,
        LANGUAGE.key: person.language,
        NOW.key: now,
    }


def day_values(person_id: int, today: date) -> dict:
    """The values of a statement about one person on one day (``PERSON_ID``, ``TODAY_DAY``),
    such as their requirement standings: the person's id is all such statements need."""
    return {PERSON_ID.key: person_id, TODAY_DAY.key: day_number(today)}

"""Statements built once per process and bound to a person when they run (portal/access/bound.py)
give each person exactly what the same statement built for them alone gives."""

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import StatementError

from portal.access.bound import applies_to, bound_values, person_statement
from portal.access.visibility import documents_addressed_to
from portal.core.clock import utcnow
from portal.extensions import db
from portal.library.models import Document
from portal.people.models import User


@person_statement
def _addressed_ids(person, _now):
    return documents_addressed_to(person).with_only_columns(Document.id).order_by(Document.id)


def _direct_ids(person):
    stmt = documents_addressed_to(person).with_only_columns(Document.id).order_by(Document.id)
    return db.session.scalars(stmt).all()


@pytest.fixture
def people(make_partner, make_team, make_user, make_document):
    """Agents and a trainer of two partners, in and out of teams and languages, and documents
    addressed to some of them by partner, team, role and language."""
    north, south = make_partner(), make_partner()
    desk = make_team(partner=north)
    people = {
        "north agent in a team": make_user("agent", partner=north, team=desk),
        "north agent without a team": make_user("agent", partner=north),
        "north agent in Spanish": make_user("agent", partner=north, team=desk, language="es"),
        "north trainer": make_user("trainer", partner=north, team=desk),
        "south agent": make_user("agent", partner=south),
    }
    make_document("For everyone")
    make_document("For the north", audience={"partner_ids": [north.id]})
    make_document("For the desk", audience={"team_ids": [desk.id]})
    make_document("For trainers", audience={"roles": ["trainer"]})
    make_document("In Spanish", audience={"languages": ["es"]})
    make_document("For the south", audience={"partner_ids": [south.id]})
    return people


def test_each_person_gets_what_their_own_statement_gives(app, people):
    with app.app_context():
        seen = set()
        for label, person in people.items():
            person = db.session.get(User, person.id)
            bound = db.session.scalars(_addressed_ids(person), bound_values(person, utcnow())).all()
            assert bound == _direct_ids(person), label
            seen.add(tuple(bound))
        assert len(seen) >= 4, "the fixture should give people different documents"


def test_the_statement_is_built_once_per_shape(app, people):
    built = []

    @person_statement
    def counted(person, _now):
        built.append(person.role)
        return select(func.count()).select_from(documents_addressed_to(person).subquery())

    with app.app_context():
        for person in people.values():
            person = db.session.get(User, person.id)
            db.session.scalar(counted(person), bound_values(person, utcnow()))
    # agent with a team, agent without one, trainer with a team: three shapes
    assert sorted(built) == ["agent", "agent", "trainer"]


def test_a_missing_value_is_refused_not_guessed(app, people):
    with app.app_context():
        person = db.session.get(User, people["north agent in a team"].id)
        values = bound_values(person, utcnow())
        del values["bound_partner_id"]
        with pytest.raises(StatementError, match="bound_partner_id"):
            db.session.scalars(_addressed_ids(person), values).all()
        db.session.rollback()


def test_only_active_partner_people_are_bound(app, people, make_user):
    admin, prm = make_user("admin"), make_user("prm")
    with app.app_context():
        agent = db.session.get(User, people["south agent"].id)
        assert applies_to(agent)
        agent.active = False
        assert not applies_to(agent)
        with pytest.raises(ValueError, match="active partner people"):
            _addressed_ids(agent)
        for staff in (admin, prm):
            assert not applies_to(db.session.get(User, staff.id))

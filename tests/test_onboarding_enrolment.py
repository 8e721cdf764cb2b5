"""Automatic enrolment from a roster import and from a team change (audience by team)."""

from datetime import date, timedelta

from sqlalchemy import select

from portal.audiences.services import AudienceSpec
from portal.extensions import db
from portal.onboarding.models import Enrolment
from portal.people.models import User
from portal.people.services import PersonDetails, update_person
from tests.onboarding_helpers import path_with_steps
from tests.roster_helpers import csv_bytes, import_and_apply, make_acme

TASK = [{"kind": "task", "title": "Shadow five calls", "due_day": 5}]


def _enrolled(user_id):
    return db.session.scalars(select(Enrolment.path_id).where(Enrolment.user_id == user_id)).all()


def test_a_roster_import_enrols_its_new_hires(app, make_partner, make_team, make_user):
    acme = make_acme(make_partner, make_team, make_user)
    hired = (date.today() - timedelta(days=4)).isoformat()
    with app.app_context():
        path = path_with_steps(acme["trainer"], TASK)
        path_id = path.id
    rows = csv_bytes(
        f"new.hire@acme.example.com,New Hire,Voice,agent,{hired},en,Asia/Manila",
        "old.hand@acme.example.com,Old Hand,Voice,agent,2020-01-06,en,Asia/Manila",
    )
    import_and_apply(app, acme["trainer"].id, acme["partner"].id, rows)
    with app.app_context():
        new = db.session.scalars(
            select(User).where(User.email == "new.hire@acme.example.com")
        ).one()
        old = db.session.scalars(
            select(User).where(User.email == "old.hand@acme.example.com")
        ).one()
        assert _enrolled(new.id) == [path_id]
        assert _enrolled(old.id) == []
        (enrolment,) = db.session.scalars(select(Enrolment).where(Enrolment.user_id == new.id))
        assert enrolment.start_date.isoformat() == hired and enrolment.how == "automatic"


def test_moving_into_the_paths_team_enrols(app, make_partner, make_team, make_user):
    partner = make_partner()
    billing, chat = make_team(partner=partner), make_team(partner=partner)
    trainer = make_user("trainer", partner=partner)
    agent = make_user(
        "agent", partner=partner, team=chat, hire_date=date.today() - timedelta(days=10)
    )
    with app.app_context():
        path = path_with_steps(trainer, TASK, audience=AudienceSpec(team_ids=[billing.id]))
        assert _enrolled(agent.id) == []
        person = db.session.get(User, agent.id)
        details = PersonDetails(
            email=person.email,
            name=person.name,
            role="agent",
            partner_id=partner.id,
            team_id=billing.id,
            hire_date=person.hire_date,
        )
        update_person(db.session.get(User, trainer.id), person, details)
        db.session.commit()
        assert _enrolled(agent.id) == [path.id]

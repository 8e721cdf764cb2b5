"""Who is in an audience: partners, teams, roles and languages, alone and combined."""

from types import SimpleNamespace

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from portal.access.visibility import documents_addressed_to, visible_documents
from portal.audiences.forms import (
    AudienceFields,
    audience_spec,
    fill_audience,
    prepare_audience_fields,
)
from portal.audiences.services import AudienceSpec, check_audience, describe, people_in_audience
from portal.extensions import db
from portal.library.models import Document
from portal.people.models import User


@pytest.fixture
def town(make_partner, make_team, make_user):
    """Two partners; P1 has two teams, P2 one; agents and trainers in several languages."""
    p1 = make_partner(name="Northwind Manila")
    p2 = make_partner(name="BlueBay Krakow")
    t1 = make_team(partner=p1, name="Billing")
    t2 = make_team(partner=p1, name="Spanish Line")
    t3 = make_team(partner=p2, name="Polish Line")
    people = {
        "p1_agent_en": make_user(role="agent", partner=p1, team=t1, language="en"),
        "p1_agent_es": make_user(role="agent", partner=p1, team=t2, language="es"),
        "p1_trainer_en": make_user(role="trainer", partner=p1, team=t1, language="en"),
        "p1_agent_noteam": make_user(role="agent", partner=p1, language="en"),
        "p2_agent_pl": make_user(role="agent", partner=p2, team=t3, language="pl"),
        "p2_trainer_en": make_user(role="trainer", partner=p2, team=t3, language="en"),
        "p1_gone": make_user(role="agent", partner=p1, team=t1, language="en", active=False),
    }
    staff = make_user(role="prm")
    return SimpleNamespace(p1=p1, p2=p2, t1=t1, t2=t2, t3=t3, people=people, staff=staff)


def _reached(app, document_id, people):
    """Keys of the people to whom the document is addressed (the gate's own query)."""
    with app.app_context():
        found = set()
        for key, person in people.items():
            user = db.session.get(User, person.id)
            stmt = documents_addressed_to(user).where(Document.id == document_id)
            if db.session.scalars(stmt).first() is not None:
                found.add(key)
        return found


ACTIVE = {"p1_agent_en", "p1_agent_es", "p1_trainer_en", "p1_agent_noteam", "p2_agent_pl",
          "p2_trainer_en"}  # fmt: skip
CASES = {
    "everyone": ({}, ACTIVE),
    "one partner": (
        {"partners": ["p1"]},
        {"p1_agent_en", "p1_agent_es", "p1_trainer_en", "p1_agent_noteam"},
    ),
    "one team": ({"teams": ["t2"]}, {"p1_agent_es"}),
    "a partner or a team elsewhere": (
        {"partners": ["p2"], "teams": ["t1"]},
        {"p2_agent_pl", "p2_trainer_en", "p1_agent_en", "p1_trainer_en"},
    ),
    "agents only": (
        {"roles": ["agent"]},
        {"p1_agent_en", "p1_agent_es", "p1_agent_noteam", "p2_agent_pl"},
    ),
    "trainers only": ({"roles": ["trainer"]}, {"p1_trainer_en", "p2_trainer_en"}),
    "one language": ({"languages": ["es"]}, {"p1_agent_es"}),
    "two languages": ({"languages": ["es", "pl"]}, {"p1_agent_es", "p2_agent_pl"}),
    "partner and role and language": (
        {"partners": ["p1"], "roles": ["agent"], "languages": ["en"]},
        {"p1_agent_en", "p1_agent_noteam"},
    ),
    "team and role": (
        {"teams": ["t1", "t3"], "roles": ["trainer"]}, {"p1_trainer_en", "p2_trainer_en"}
    ),
    "nobody matches every part": ({"teams": ["t2"], "languages": ["pl"]}, set()),
}  # fmt: skip


def _spec(town, rules) -> AudienceSpec:
    objects = vars(town)
    return AudienceSpec(
        partner_ids=[objects[k].id for k in rules.get("partners", [])],
        team_ids=[objects[k].id for k in rules.get("teams", [])],
        roles=rules.get("roles", []),
        languages=rules.get("languages", []),
    )


def test_audiences_reach_exactly_the_matching_people(app, town, make_document):
    """A document reaches the active partner people who match every part of its audience."""
    documents = {
        case: make_document(audience=_spec(town, rules)) for case, (rules, _) in CASES.items()
    }
    wrong = []
    for case, (_, expected) in CASES.items():
        document = documents[case]
        reached = _reached(app, document.id, {**town.people, "staff": town.staff})
        with app.app_context():
            listed = db.session.scalars(people_in_audience(document.audience_id)).all()
        in_audience = {key for key, p in town.people.items() if p.id in {u.id for u in listed}}
        if reached != expected or in_audience != expected:
            wrong.append(
                f"{case}: expected {sorted(expected)}, reached {sorted(reached)}, "
                f"listed {sorted(in_audience)}"
            )
    assert not wrong, "\n".join(wrong)


def test_partner_local_documents_reach_only_their_partner(app, town, make_document):
    """A trainer's document with no audience rules reaches only their own partner's people."""
    trainer = town.people["p1_trainer_en"]
    document = make_document(author=trainer)
    assert _reached(app, document.id, town.people) == {
        "p1_agent_en", "p1_agent_es", "p1_trainer_en", "p1_agent_noteam",
    }  # fmt: skip


def test_drafts_reach_nobody(app, town, make_document):
    """An unpublished document is addressed to no one, whatever its audience."""
    document = make_document(publish=False)
    assert _reached(app, document.id, town.people) == set()


def test_trainers_see_company_documents_addressed_to_any_of_their_people(app, town, make_document):
    """A trainer sees a company document for their partner's Spanish agents; another does not."""
    document = make_document(audience=_spec(town, {"teams": ["t2"], "roles": ["agent"]}))
    with app.app_context():
        for key, sees in (("p1_trainer_en", True), ("p2_trainer_en", False)):
            trainer = db.session.get(User, town.people[key].id)
            stmt = visible_documents(trainer).where(Document.id == document.id)
            assert (db.session.scalars(stmt).first() is not None) is sees, key


def test_check_audience_names_what_is_wrong(app, town):
    """Unknown ids, another partner's places, staff roles and unknown languages are refused."""
    with app.app_context():
        errors = check_audience(
            AudienceSpec(partner_ids=[999], team_ids=[998], roles=["prm"], languages=["xx"]),
            partner_id=None,
        )
        assert errors == {
            "audience_partners": "Unknown partner id(s): 999.",
            "audience_teams": "Unknown team id(s): 998.",
            "audience_roles": "Audiences are agents and trainers; prm cannot be chosen.",
            "audience_languages": "Unknown language code(s): xx.",
        }
        local = check_audience(
            AudienceSpec(partner_ids=[town.p2.id], team_ids=[town.t3.id]), partner_id=town.p1.id
        )
        assert set(local) == {"audience_partners", "audience_teams"}
        assert check_audience(AudienceSpec(team_ids=[town.t1.id]), partner_id=town.p1.id) == {}


def test_describe_puts_the_audience_in_words(app, town, make_document):
    """Authors read the audience as words: roles, places and languages."""
    document = make_document(
        audience=_spec(town, {"partners": ["p1"], "roles": ["agent"], "languages": ["es"]})
    )
    with app.app_context():
        stored = db.session.get(Document, document.id)
        assert describe(stored.audience) == "Agents at Northwind Manila in Español"
        assert describe(None) == "Everyone"


def _form(app, formdata=None):
    from flask_wtf import FlaskForm

    class Form(AudienceFields, FlaskForm):
        class Meta:
            csrf = False

    return Form(formdata=formdata)


def test_audience_form_reads_and_fills_an_audience(app, town, make_document):
    """The form turns choices into an audience spec and shows a stored audience back."""
    data = MultiDict(
        [
            ("audience_partners", str(town.p2.id)),
            ("audience_teams", str(town.t1.id)),
            ("audience_teams", str(town.t2.id)),
            ("audience_roles", "agent"),
            ("audience_languages", "es"),
        ]
    )
    with app.test_request_context(method="POST", data=data):
        staff = db.session.get(User, town.staff.id)
        form = _form(app, data)
        prepare_audience_fields(form, staff)
        assert form.validate()
        spec = audience_spec(form)
        assert spec == AudienceSpec([town.p2.id], [town.t1.id, town.t2.id], ["agent"], ["es"])
        labels = dict(form.audience_teams.choices)
        assert labels[town.t3.id] == "BlueBay Krakow — Polish Line"
    document = make_document(audience=spec)
    with app.test_request_context():
        stored = db.session.get(Document, document.id)
        form = _form(app)
        prepare_audience_fields(form, db.session.get(User, town.staff.id))
        fill_audience(form, stored.audience)
        assert form.audience_partners.data == [town.p2.id]
        assert sorted(form.audience_teams.data) == sorted([town.t1.id, town.t2.id])
        assert form.audience_roles.data == ["agent"]
        assert form.audience_languages.data == ["es"]


def test_trainers_choose_only_their_own_teams(app, town):
    """A trainer's audience form has no partner field and offers only their partner's teams."""
    with app.test_request_context():
        trainer = db.session.get(User, town.people["p1_trainer_en"].id)
        form = _form(app)
        prepare_audience_fields(form, trainer)
        assert form.audience_partners is None
        assert {value for value, _ in form.audience_teams.choices} == {town.t1.id, town.t2.id}


def test_a_team_id_that_is_not_a_number_gets_a_message(app, town):
    """A tampered team choice gets a message on the field instead of an error page."""
    data = MultiDict([("audience_teams", "abc")])
    with app.test_request_context(method="POST", data=data):
        form = _form(app, data)
        prepare_audience_fields(form, db.session.get(User, town.staff.id))
        assert not form.validate()
        assert form.errors["audience_teams"] == ["“abc” is not one of the choices."]
        assert db.session.scalars(select(Document)).first() is None

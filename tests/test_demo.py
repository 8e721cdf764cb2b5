"""``flask --app wsgi demo load``: the demo data set people try the portal with."""

import re
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select

from portal.acknowledgements.services import ack_status, pending_for
from portal.audit.models import AuditEvent
from portal.demo.library import EARLIER_VERSIONS, LOCAL_DOCUMENT
from portal.demo.services import DEMO_PASSWORD, PARTNERS, sign_in_rows
from portal.extensions import db
from portal.library.content_files import content_paths
from portal.library.models import Acknowledgement, Document, DocumentKind, DocumentVersion
from portal.partners.models import Partner, Team
from portal.people.models import User
from tests.helpers import login

ROW_RE = re.compile(r"^\s+(\S.*?)\s{2,}(\S+@\S+)\s{2,}(\S+)$", re.MULTILINE)
README = Path(__file__).resolve().parent.parent / "README.md"
CONTENT_FILES = len(content_paths(README.parent / "content"))


def _load(runner):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    return result


def _sign_ins(output):
    """The (role, email, password) rows of the printed sign-in table."""
    return ROW_RE.findall(output)


def _counts(app):
    with app.app_context():
        return {
            model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (
                Partner,
                Team,
                User,
                Document,
                DocumentVersion,
                Acknowledgement,
                AuditEvent,
            )
        }


def test_demo_load_creates_staff_partners_teams_and_people(app, runner):
    """The demo has Lumen's admin and PRM, and three partners each with teams, a trainer,
    a dozen agents (3-4 hired in the last 90 days) speaking their team's language in its time
    zone, one deactivated and one invited agent."""
    result = _load(runner)
    assert "Partners:   3 created,   0 already present" in result.output
    today = date.today()
    with app.app_context():
        staff = db.session.scalars(select(User).where(User.partner_id.is_(None))).all()
        assert sorted((u.role, u.email) for u in staff) == [
            ("admin", "admin@lumen.example"),
            ("prm", "prm@lumen.example"),
        ]
        partners = db.session.scalars(select(Partner).order_by(Partner.id)).all()
        assert [p.slug for p in partners] == ["atlas", "costa", "baltic"]
        assert len({p.country for p in partners}) == 3
        assert len({p.timezone for p in partners}) == 3
        for partner in partners:
            teams = db.session.scalars(select(Team).where(Team.partner_id == partner.id)).all()
            assert 2 <= len(teams) <= 3
            people = db.session.scalars(select(User).where(User.partner_id == partner.id)).all()
            trainers = [u for u in people if u.role == "trainer"]
            assert [u.email for u in trainers] == [f"trainer@{partner.slug}.example"]
            agents = [u for u in people if u.role == "agent"]
            signed_up = [u for u in agents if u.status == "active"]
            assert len(signed_up) == 12
            assert {u.team_id for u in signed_up} == {t.id for t in teams}
            new_hires = [u for u in signed_up if today - u.hire_date <= timedelta(days=90)]
            assert 3 <= len(new_hires) <= 4
            seasoned = [u for u in signed_up if u not in new_hires]
            assert all(
                timedelta(days=180) <= today - u.hire_date <= timedelta(days=915) for u in seasoned
            )
            assert [u.status for u in agents if u.status != "active"] == ["deactivated", "invited"]
            zones = {t.id: (t.language, t.timezone) for t in teams}
            for agent in agents:
                assert (agent.language, agent.timezone) == zones[agent.team_id], agent.email
        languages = set(db.session.scalars(select(User.language).where(User.role == "agent")))
    assert {"en", "es", "de"} <= languages


def test_demo_load_adds_only_what_is_missing(app, runner, make_partner):
    """A demo partner that already exists is kept as it is and the rest is added around it;
    running the load again adds nothing, says so and prints the same sign-in table."""
    make_partner(slug="atlas", name="Atlas (renamed by an admin)", timezone="Asia/Manila")
    first_output = _load(runner).output
    assert "Partners:   2 created,   1 already present" in first_output
    assert "People:    47 created,   0 already present" in first_output
    with app.app_context():
        names = db.session.scalars(select(Partner.name).order_by(Partner.id)).all()
    assert names[0] == "Atlas (renamed by an admin)"
    first = _counts(app)
    result = _load(runner)
    assert _counts(app) == first
    assert "Partners:   0 created,   3 already present" in result.output
    assert "Teams:      0 created,   8 already present" in result.output
    assert "People:     0 created,  47 already present" in result.output
    assert f"content/ files: {CONTENT_FILES} unchanged, 0 errors" in result.output
    assert "0 demo acknowledgements and 0 partner-local document(s) added" in result.output
    assert "nothing changed" in result.output
    assert _sign_ins(result.output) == _sign_ins(first_output)


def test_every_printed_demo_sign_in_works(app, runner):
    """Each account in the printed table signs in with its password and reaches its home page;
    the deactivated and invited demo agents are not offered and cannot sign in."""
    output = _load(runner).output
    rows = _sign_ins(output)
    roles = [role for role, _email, _password in rows]
    assert roles.count("admin") == roles.count("prm") == 1
    assert roles.count("trainer") == len(PARTNERS)
    assert roles.count("agent") == roles.count("agent (new hire)") == len(PARTNERS)
    for role, email, password in rows:
        assert password == DEMO_PASSWORD
        client = app.test_client()
        response = login(client, email, password)
        assert response.status_code == 302, (role, email)
        assert client.get("/").status_code == 200

    with app.app_context():
        unusable = db.session.scalars(
            select(User.email).where(~User.active | User.password_hash.is_(None))
        ).all()
    assert len(unusable) == 2 * len(PARTNERS)
    for email in unusable:
        assert email not in output
        response = login(app.test_client(), email, DEMO_PASSWORD)
        assert response.status_code == 200, email


def test_readme_lists_the_printed_demo_sign_ins():
    """The README's demo sign-in table is exactly the one `demo load` prints."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Demo sign-ins", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| ([^|]+?) \| (\S+@\S+) \| (\S+) \|$", section, re.MULTILINE)
    assert rows == sign_in_rows()


def _user(email):
    return db.session.scalars(select(User).where(User.email == email)).one()


def _document(slug):
    return db.session.scalars(select(Document).where(Document.slug == slug)).one()


def test_demo_load_fills_the_library_with_history_and_acknowledgements(app, runner):
    """The demo syncs content/ (owned by the PRM), with history: the refund playbook's material
    version 2 asks the demo agent again ("changed since version 1") while the escalation
    playbook's minor version 2 keeps their acknowledgement; the agent has more to acknowledge,
    the newest hire has acknowledged nothing, and the Atlas trainer has a partner-local
    document for her Manila Billing team."""
    output = _load(runner).output
    new_versions = len(EARLIER_VERSIONS)
    assert f"content/ files: {CONTENT_FILES} created, {new_versions} new versions, 0 errors" in (
        output
    )
    assert "1 partner-local document(s) added" in output
    with app.app_context():
        company = db.session.scalars(select(Document).where(Document.partner_id.is_(None))).all()
        assert len(company) == CONTENT_FILES >= 12
        assert {d.kind for d in company} == set(DocumentKind)
        assert {d.owner_id for d in company} == {_user("prm@lumen.example").id}

        refunds, escalations = _document("refund-requests"), _document("escalation-playbook")
        levels = {
            slug: db.session.scalars(
                select(DocumentVersion.change_level)
                .where(DocumentVersion.document_id == _document(slug).id)
                .order_by(DocumentVersion.number)
            ).all()
            for slug in ("refund-requests", "escalation-playbook")
        }
        assert levels == {
            "refund-requests": ["material", "material"],
            "escalation-playbook": ["material", "minor"],
        }
        assert (refunds.ack_from_number, escalations.ack_from_number) == (2, 1)

        agent = _user("jose.reyes@atlas.example")
        refund_status = ack_status(agent, refunds)
        assert refund_status.needs_ack and refund_status.since_number == 1
        escalation_status = ack_status(agent, escalations)
        assert escalation_status.current.version_number == 1
        assert not escalation_status.needs_ack
        pending = {d.slug for d in db.session.scalars(pending_for(agent))}
        assert {"refund-requests", "data-privacy-policy", LOCAL_DOCUMENT["slug"]} <= pending

        newest = _user("jerome.castillo@atlas.example")
        assert not db.session.scalars(
            select(Acknowledgement).where(Acknowledgement.user_id == newest.id)
        ).first()
        assert len(db.session.scalars(pending_for(newest)).all()) >= 5

        local = _document(LOCAL_DOCUMENT["slug"])
        atlas = db.session.scalars(select(Partner).where(Partner.slug == "atlas")).one()
        assert (local.partner_id, local.owner_id, local.status) == (
            atlas.id,
            _user("trainer@atlas.example").id,
            "published",
        )
        assert local.audience.team_ids == [agent.team_id]

    client = app.test_client()
    login(client, "jose.reyes@atlas.example", DEMO_PASSWORD)
    assert "Changed since you acknowledged version 1" in client.get("/").get_data(as_text=True)

"""bench/seed.py fills an empty, unmigrated database with data the portal's own code accepts."""

import importlib.util
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from portal import create_app
from portal.extensions import db
from portal.onboarding.enrolment import enrol_new_hires
from portal.partners.models import Partner
from portal.people.models import User
from portal.training.requirements import assignment_rows
from tests.helpers import login, private_schema

PG_URL = os.environ.get("TEST_DATABASE_URL")
ROOT = Path(__file__).resolve().parent.parent
TINY = ["--partners", "2", "--agents", "60", "--documents", "20", "--required", "5"]


def run_seed(url, *args):
    env = {**os.environ, "DATABASE_URL": url, "PORTAL_ENV": "testing"}
    return subprocess.run(
        [sys.executable, str(ROOT / "bench" / "seed.py"), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def seeded(request, tmp_path_factory):
    """(app, first run) after seeding a tiny data set into a new database of each kind."""
    folder = tmp_path_factory.mktemp("seed")
    if request.param == "postgresql":
        if not PG_URL:
            pytest.skip("needs PostgreSQL: set TEST_DATABASE_URL (CI sets it)")
        schema = private_schema(PG_URL, "seed")
        url = schema.__enter__()
        request.addfinalizer(lambda: schema.__exit__(None, None, None))
    else:
        url = f"sqlite:///{folder / 'bench.db'}"
    result = run_seed(url, *TINY)
    assert result.returncode == 0, result.stderr
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=url,
        SEARCH_INDEX_PATH=str(folder / "idx"),
        STORAGE_PATH=str(folder / "att"),
    )
    yield app, url, result
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def scalar(sql: str):
    return db.session.execute(text(sql)).scalar()


def test_counts_match_the_options(seeded):
    """The sizes asked for are the sizes written, and the summary reports the records."""
    app, _url, result = seeded
    with app.app_context():
        assert scalar("SELECT count(*) FROM partner") == 2
        assert scalar('SELECT count(*) FROM "user" WHERE partner_id IS NOT NULL') == 60
        assert scalar("SELECT count(*) FROM \"user\" WHERE role = 'trainer'") >= 2
        assert scalar("SELECT count(*) FROM document") == 20
        assert scalar("SELECT count(*) FROM requirement") == 5
        assert scalar("SELECT count(*) FROM onboarding_path WHERE status = 'published'") == 1
        assert scalar("SELECT count(*) FROM onboarding_step") >= 10
        for table in ("acknowledgement", "completion", "announcement_read"):
            assert scalar(f"SELECT count(*) FROM {table}") > 0, table
    assert "acknowledgements + completions:" in result.stdout
    assert "records" in result.stderr and "rows/s" in result.stderr


def test_records_respect_the_timeline_and_versions(seeded):
    """Acknowledgements come after the version's publish and the person's account; documents
    point at their latest published version and latest material one, as publish sets them."""
    app, _url, _result = seeded
    with app.app_context():
        assert not scalar(
            "SELECT count(*) FROM acknowledgement a JOIN document_version v ON v.id = a.version_id"
            ' JOIN "user" u ON u.id = a.user_id WHERE a.acknowledged_at < v.published_at'
            " OR a.acknowledged_at < u.created_at OR a.version_number <> v.number"
            " OR a.document_id <> v.document_id"
        )
        assert not scalar(
            "SELECT count(*) FROM document d WHERE d.status <> 'draft' AND ("
            " d.current_version_id <> (SELECT max(id) FROM document_version v"
            "   WHERE v.document_id = d.id AND v.published_at IS NOT NULL)"
            " OR d.ack_from_number <> (SELECT max(number) FROM document_version v"
            "   WHERE v.document_id = d.id AND v.published_at IS NOT NULL"
            "   AND v.change_level = 'material'))"
        )
        assert not scalar(
            'SELECT count(*) FROM completion c JOIN "user" u ON u.id = c.user_id'
            " WHERE c.completed_at < u.created_at OR (c.expires_at IS NOT NULL"
            " AND c.expires_at <= c.completed_at)"
        )
        assert scalar("SELECT max(sequence) FROM completion") >= 1


def test_portal_services_agree(seeded):
    """The training report sees people under every requirement in several states, and the
    portal's own enrolment rule finds no new hire the generator left out."""
    app, _url, _result = seeded
    with app.app_context():
        rows = assignment_rows(today=date.today())
        assert {r.requirement_id for r in rows} == set(
            db.session.scalars(text("SELECT id FROM requirement"))
        )
        statuses = {r.status for r in rows}
        assert "completed" in statuses and statuses & {"pending", "overdue", "expiring"}
        enrolled = scalar("SELECT count(*) FROM onboarding_enrolment")
        assert enrol_new_hires(today=date.today()) == 0
        db.session.rollback()
        assert enrolled > 0


def test_a_seeded_agent_signs_in_and_sees_my_training(seeded):
    """A generated agent signs in with the shared password and their pages render."""
    app, _url, _result = seeded
    with app.app_context():
        agent = db.session.scalars(
            select(User)
            .where(User.role == "agent", User.active)
            .where(User.id.in_(text("SELECT user_id FROM completion")))
            .order_by(User.id)
        ).first()
        email = agent.email
        titles = set(
            db.session.scalars(
                text(
                    "SELECT c.title FROM course c JOIN completion k ON k.course_id = c.id"
                    f" WHERE k.user_id = {agent.id}"
                )
            )
        )
    client = app.test_client()
    response = login(client, email, "bench-password")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert client.get("/").status_code == 200
    page = client.get("/training/")
    assert page.status_code == 200
    assert any(title in page.get_data(as_text=True) for title in titles)


def test_new_rows_after_seeding_get_fresh_ids(seeded):
    """The id sequences moved past the generated ids: the portal can add rows afterwards."""
    app, _url, _result = seeded
    with app.app_context():
        partner = Partner(slug="after-seed", name="After seed", timezone="UTC")
        db.session.add(partner)
        db.session.flush()
        assert partner.id == 3
        db.session.rollback()


def load_seed_script():
    spec = importlib.util.spec_from_file_location("bench_seed", ROOT / "bench" / "seed.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_refuses_a_database_that_has_people(seeded, monkeypatch, capsys):
    """Seeding again refuses with a clear message and writes nothing."""
    app, url, _result = seeded
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(User))
    monkeypatch.setenv("DATABASE_URL", url)
    assert load_seed_script().main(TINY) == 1
    message = capsys.readouterr().err
    assert "Refusing to seed" in message and "user rows" in message
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == before

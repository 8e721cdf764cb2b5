"""Operator commands: ``flask --app wsgi partners create`` and ``users create``."""

from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.partners.models import Partner
from portal.people.models import User
from tests.helpers import PASSWORD, login, post


def _counts(app):
    """How many partners, people and audit events exist."""
    with app.app_context():
        return tuple(
            db.session.scalar(select(func.count()).select_from(model))
            for model in (Partner, User, AuditEvent)
        )


def _refused(result, message, exit_code=1):
    """The command stopped with ``message``, a non-zero exit and no stack trace."""
    assert result.exit_code == exit_code, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert message in result.output


def _partners_create(runner, *extra, slug="atlas", name="Atlas Contact Solutions"):
    return runner.invoke(args=["partners", "create", "--slug", slug, "--name", name, *extra])


def _users_create(runner, *extra, email="ana@atlas.example", name="Ana Reyes", role="agent"):
    args = ["users", "create", "--email", email, "--name", name, "--role", role, *extra]
    return runner.invoke(args=args)


@pytest.mark.parametrize(
    "args",
    [
        ["partners", "--help"],
        ["partners", "create", "--help"],
        ["users", "--help"],
        ["users", "create", "--help"],
        ["demo", "--help"],
        ["demo", "load", "--help"],
        ["db", "upgrade", "--help"],
    ],
)
def test_help_exits_zero(runner, args):
    """Every operator command explains itself with --help and exits 0."""
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


# partners create


def test_partners_create(app, runner):
    """`partners create` makes the partner with its country and time zone and says so."""
    result = _partners_create(runner, "--country", "ph", "--timezone", "Asia/Manila")
    assert result.exit_code == 0, result.output
    assert "Created partner Atlas Contact Solutions (atlas)" in result.output
    with app.app_context():
        partner = db.session.scalars(select(Partner).where(Partner.slug == "atlas")).one()
        assert (partner.name, partner.country, partner.timezone) == (
            "Atlas Contact Solutions",
            "PH",
            "Asia/Manila",
        )
        assert partner.active


@pytest.mark.parametrize(
    ("extra", "slug", "message"),
    [
        ([], "Atlas Manila!", "lower-case letters, digits and hyphens"),
        (["--country", "Philippines"], "atlas", "two-letter ISO country code"),
        (["--timezone", "Manila/Time"], "atlas", "is not a time zone"),
    ],
    ids=["bad-slug", "bad-country", "bad-timezone"],
)
def test_partners_create_refuses_bad_input(app, runner, extra, slug, message):
    """A bad slug, country or time zone gets a clear message, exit 1 and no partner."""
    before = _counts(app)
    _refused(_partners_create(runner, *extra, slug=slug), message)
    assert _counts(app) == before


def test_partners_create_refuses_duplicate_slug(app, runner, make_partner):
    """A slug already in use is refused and the existing partner is untouched."""
    make_partner(slug="atlas", name="Atlas Original")
    before = _counts(app)
    _refused(_partners_create(runner, slug="ATLAS", name="Atlas Copy"), "already taken")
    assert _counts(app) == before
    with app.app_context():
        assert db.session.scalars(select(Partner.name)).all() == ["Atlas Original"]


def test_partners_create_requires_slug_and_name(app, runner):
    """Leaving out --name is a usage error (exit 2) that names the missing option."""
    result = runner.invoke(args=["partners", "create", "--slug", "atlas"])
    _refused(result, "--name", exit_code=2)
    assert _counts(app) == (0, 0, 0)


# users create


def test_users_create_with_password_can_sign_in(app, runner, client, make_team):
    """A person created with --password joins the team and signs in with that password."""
    team = make_team(name="Manila Billing", language="en", timezone="Asia/Manila")
    with app.app_context():
        slug = db.session.get(Partner, team.partner_id).slug
    result = _users_create(
        runner,
        "--partner",
        slug,
        "--team",
        "manila billing",
        "--hire-date",
        "2026-01-05",
        "--password",
        PASSWORD,
        email="Ana.Reyes@Atlas.example",
    )
    assert result.exit_code == 0, result.output
    assert "Created ana.reyes@atlas.example (agent)" in result.output
    assert "/invitations/" not in result.output
    with app.app_context():
        user = db.session.scalars(select(User)).one()
        assert (user.partner_id, user.team_id, user.timezone) == (
            team.partner_id,
            team.id,
            "Asia/Manila",
        )
        assert str(user.hire_date) == "2026-01-05"
    response = login(client, "ana.reyes@atlas.example")
    assert response.status_code == 302


def test_users_create_without_password_prints_working_invitation(app, runner, client):
    """Without --password the command prints an invitation link that opens the set-password page."""
    result = _users_create(runner, email="morgan@lumen.example", name="Morgan Ellis", role="admin")
    assert result.exit_code == 0, result.output
    link = result.output.strip().splitlines()[-1]
    assert "/invitations/" in link
    path = urlsplit(link).path
    page = client.get(path)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Morgan Ellis" in text and "morgan@lumen.example" in text

    response = post(client, path, {"password": PASSWORD, "confirm": PASSWORD}, token_from=path)
    assert response.status_code == 302
    assert login(app.test_client(), "morgan@lumen.example").status_code == 302


def test_users_create_password_too_short(app, runner):
    """A --password shorter than 10 characters is refused and nobody is created."""
    result = _users_create(runner, "--password", "short", role="prm", email="p@lumen.example")
    _refused(result, "at least 10 characters")
    assert _counts(app) == (0, 0, 0)


@pytest.mark.parametrize(
    ("email", "message"),
    [("not-an-email", "is not a valid email address"), ("", "Enter an email address")],
    ids=["malformed", "empty"],
)
def test_users_create_refuses_bad_email(app, runner, email, message):
    """A malformed or empty email gets a clear message and nobody is created."""
    _refused(_users_create(runner, email=email, role="prm"), message)
    assert _counts(app) == (0, 0, 0)


def test_users_create_refuses_duplicate_email_case_insensitively(app, runner, make_user):
    """An address already used, in any capitalisation, is refused."""
    make_user(role="prm", email="priya@lumen.example")
    before = _counts(app)
    _refused(_users_create(runner, email="Priya@LUMEN.example", role="prm"), "already has this")
    assert _counts(app) == before


def test_users_create_refuses_unknown_partner(app, runner):
    """An unknown --partner slug is named in the message and nobody is created."""
    result = _users_create(runner, "--partner", "nowhere")
    _refused(result, "No partner has the slug 'nowhere'")
    assert _counts(app) == (0, 0, 0)


def test_users_create_refuses_unknown_team(app, runner, make_team):
    """A --team the partner does not have is refused, naming the partner."""
    team = make_team(name="Manila Billing")
    with app.app_context():
        partner = db.session.get(Partner, team.partner_id)
        slug, name = partner.slug, partner.name
    before = _counts(app)
    _refused(_users_create(runner, "--partner", slug, "--team", "Cebu"), f"{name} has no team")
    assert _counts(app) == before


def test_users_create_refuses_team_without_partner(app, runner):
    """--team without --partner is refused with a hint."""
    _refused(_users_create(runner, "--team", "Manila Billing"), "Give --partner with --team")
    assert _counts(app) == (0, 0, 0)


def test_users_create_refuses_trainer_without_partner(app, runner):
    """A trainer (or agent) must belong to a partner."""
    _refused(_users_create(runner, role="trainer"), "Choose the person's partner")
    assert _counts(app) == (0, 0, 0)


def test_users_create_refuses_staff_with_partner(app, runner, make_partner):
    """An administrator cannot be given a partner: company staff belong to none."""
    partner = make_partner(slug="atlas")
    before = _counts(app)
    result = _users_create(runner, "--partner", partner.slug, role="admin")
    _refused(result, "belong to no partner")
    assert _counts(app) == before


@pytest.mark.parametrize(
    ("hire_date", "message", "exit_code"),
    [
        ("05/01/2026", "is not a date; use YYYY-MM-DD", 2),
        ("2026-02-30", "is not a date; use YYYY-MM-DD", 2),
        ("2999-01-01", "more than a year away", 1),
    ],
    ids=["wrong-format", "no-such-day", "far-future"],
)
def test_users_create_refuses_bad_hire_date(
    app, runner, make_partner, hire_date, message, exit_code
):
    """A hire date that is not a date, or is implausible, is refused."""
    partner = make_partner(slug="atlas")
    before = _counts(app)
    result = _users_create(runner, "--partner", partner.slug, "--hire-date", hire_date)
    _refused(result, message, exit_code=exit_code)
    assert _counts(app) == before


def test_users_create_refuses_unknown_role(app, runner):
    """A role other than admin, prm, trainer or agent is a usage error listing the choices."""
    result = _users_create(runner, role="superuser")
    _refused(result, "'superuser' is not one of", exit_code=2)
    assert "admin" in result.output and "agent" in result.output
    assert _counts(app) == (0, 0, 0)

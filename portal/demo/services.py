"""The demo data set: Lumen's staff and three BPO partners with teams, trainers and agents.

Everything is created through the real services, as an operator would, so the demo obeys the
same rules as real data. Loading is idempotent: partners are matched by slug, teams by name
within their partner and people by email; whatever already exists is left exactly as it is.
Hire dates are relative to today, so the new hires stay new whenever the demo is loaded.
"""

import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache

from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from portal.core.clock import utcnow
from portal.extensions import db
from portal.partners.models import Partner, Team
from portal.partners.services import PartnerDetails, TeamDetails, create_partner, create_team
from portal.people.cli import _Operator
from portal.people.models import User
from portal.people.services import PersonDetails, invite_person, set_active

# Every demo account that can sign in uses this password; it is printed and in the README.
DEMO_PASSWORD = "demo-password"
COMPANY_DOMAIN = "lumen.example"


@dataclass(frozen=True)
class DemoPerson:
    name: str
    team: str | None = None
    hired_days_ago: int | None = None  # negative: starts in the future
    email_name: str | None = None  # the part before @ when first.last does not fit
    language: str | None = None


@dataclass(frozen=True)
class DemoTeam:
    name: str
    language: str
    timezone: str | None = None  # None: the partner's


@dataclass(frozen=True)
class DemoPartner:
    slug: str
    name: str
    country: str
    timezone: str
    teams: tuple[DemoTeam, ...]
    trainer: DemoPerson
    agents: tuple[DemoPerson, ...]  # signed up and active; hired < 90 days ago are new hires
    deactivated: DemoPerson  # had an account, then left
    invited: DemoPerson  # invited, has not chosen a password yet

    @property
    def domain(self) -> str:
        return f"{self.slug}.example"


STAFF = (
    ("admin", DemoPerson("Morgan Ellis", email_name="admin")),
    ("prm", DemoPerson("Priya Natarajan", email_name="prm")),
)

PARTNERS = (
    DemoPartner(
        slug="atlas",
        name="Atlas Contact Solutions",
        country="PH",
        timezone="Asia/Manila",
        teams=(
            DemoTeam("Manila Billing", "en"),
            DemoTeam("Cebu Technical Support", "en"),
            DemoTeam("Davao Chat", "en"),
        ),
        trainer=DemoPerson("Maricel Santos", hired_days_ago=1410, email_name="trainer"),
        agents=(
            DemoPerson("Jose Miguel Reyes", "Manila Billing", 540, "jose.reyes"),
            DemoPerson("Kristine Dela Cruz", "Manila Billing", 720, "kristine.delacruz"),
            DemoPerson("Rodel Bautista", "Manila Billing", 400),
            DemoPerson("Angelica Villanueva", "Cebu Technical Support", 880),
            DemoPerson("Mark Anthony Mendoza", "Cebu Technical Support", 300, "mark.mendoza"),
            DemoPerson("Liza Aquino", "Cebu Technical Support", 610),
            DemoPerson("Paolo Garcia", "Davao Chat", 450),
            DemoPerson("Camille Navarro", "Davao Chat", 200),
            DemoPerson("Jerome Castillo", "Manila Billing", 5),
            DemoPerson("Rhea Fernandez", "Cebu Technical Support", 20),
            DemoPerson("Bea Ramos", "Davao Chat", 45),
            DemoPerson("Carlo Lim", "Cebu Technical Support", 80),
        ),
        deactivated=DemoPerson("Ramon Tolentino", "Manila Billing", 800),
        invited=DemoPerson("Joy Pascual", "Davao Chat", -7),
    ),
    DemoPartner(
        slug="costa",
        name="Costa Service Group",
        country="CR",
        timezone="America/Costa_Rica",
        teams=(
            DemoTeam("San José Spanish Support", "es"),
            DemoTeam("Heredia Billing", "en"),
        ),
        trainer=DemoPerson("Adriana Solano", None, 1150, "trainer", language="es"),
        agents=(
            DemoPerson("Daniela Vargas", "San José Spanish Support", 620),
            DemoPerson("José Pablo Jiménez", "San José Spanish Support", 380, "josepablo.jimenez"),
            DemoPerson("María Fernanda Rojas", "San José Spanish Support", 850, "maria.rojas"),
            DemoPerson("Andrés Mora", "San José Spanish Support", 260),
            DemoPerson("Esteban Chaves", "San José Spanish Support", 430),
            DemoPerson("Valeria Solís", "Heredia Billing", 500),
            DemoPerson("Luis Diego Araya", "Heredia Billing", 700, "luisdiego.araya"),
            DemoPerson("Fabiola Quesada", "Heredia Billing", 190),
            DemoPerson("Natalia Alfaro", "Heredia Billing", 310),
            DemoPerson("Kevin Calderón", "San José Spanish Support", 5),
            DemoPerson("Sofía Brenes", "Heredia Billing", 20),
            DemoPerson("Mauricio Ulate", "San José Spanish Support", 45),
        ),
        deactivated=DemoPerson("Gabriela Campos", "Heredia Billing", 560),
        invited=DemoPerson("Diego Salazar", "San José Spanish Support", -7),
    ),
    DemoPartner(
        slug="baltic",
        name="Baltic Support Hub",
        country="LT",
        timezone="Europe/Vilnius",
        teams=(
            DemoTeam("Vilnius Nordic Queue", "en"),
            DemoTeam("Kaunas German Desk", "de"),
            DemoTeam("Riga Chat", "en", "Europe/Riga"),
        ),
        trainer=DemoPerson("Rasa Kazlauskienė", hired_days_ago=1620, email_name="trainer"),
        agents=(
            DemoPerson("Mantas Petrauskas", "Vilnius Nordic Queue", 660),
            DemoPerson("Greta Jankauskaitė", "Vilnius Nordic Queue", 420),
            DemoPerson("Lukas Stankevičius", "Vilnius Nordic Queue", 230),
            DemoPerson("Ieva Vasiliauskaitė", "Kaunas German Desk", 780),
            DemoPerson("Tomas Žukauskas", "Kaunas German Desk", 350),
            DemoPerson("Justė Paulauskaitė", "Kaunas German Desk", 540),
            DemoPerson("Elīna Bērziņa", "Riga Chat", 480),
            DemoPerson("Mārtiņš Kalniņš", "Riga Chat", 900),
            DemoPerson("Aistė Butkutė", "Vilnius Nordic Queue", 5),
            DemoPerson("Laura Ozoliņa", "Riga Chat", 20),
            DemoPerson("Jonas Urbonas", "Kaunas German Desk", 45),
            DemoPerson("Dovydas Navickas", "Vilnius Nordic Queue", 80),
        ),
        deactivated=DemoPerson("Andrius Balčiūnas", "Riga Chat", 610),
        invited=DemoPerson("Karolina Mickevičiūtė", "Kaunas German Desk", -7),
    ),
)

NEW_HIRE_DAYS = 90


@dataclass
class Tally:
    created: int = 0
    present: int = 0


@dataclass
class DemoResult:
    """What a load did, and the accounts to show people who want to try the portal."""

    partners: Tally = field(default_factory=Tally)
    teams: Tally = field(default_factory=Tally)
    people: Tally = field(default_factory=Tally)
    sign_ins: list[tuple[str, str, str]] = field(default_factory=list)  # role, email, password

    @property
    def created_anything(self) -> bool:
        return bool(self.partners.created or self.teams.created or self.people.created)


@cache
def _demo_password_hash(method: str) -> str:
    return generate_password_hash(DEMO_PASSWORD, method=method)


def email_for(person: DemoPerson, domain: str) -> str:
    """``first.last@domain`` in plain ASCII, unless the person names their own."""
    if person.email_name:
        local = person.email_name
    else:
        words = person.name.split()
        local = f"{words[0]}.{words[-1]}"
    ascii_local = unicodedata.normalize("NFKD", local).encode("ascii", "ignore").decode()
    return f"{ascii_local.lower()}@{domain}"


def sign_in_rows() -> list[tuple[str, str, str]]:
    """The demo accounts worth trying, one per role and partner, as (role, email, password)."""
    rows = [(role, email_for(p, COMPANY_DOMAIN), DEMO_PASSWORD) for role, p in STAFF]
    for partner in PARTNERS:
        seasoned = next(a for a in partner.agents if a.hired_days_ago > NEW_HIRE_DAYS)
        newest = min(partner.agents, key=lambda a: a.hired_days_ago)
        rows.append(("trainer", email_for(partner.trainer, partner.domain), DEMO_PASSWORD))
        rows.append(("agent", email_for(seasoned, partner.domain), DEMO_PASSWORD))
        rows.append(("agent (new hire)", email_for(newest, partner.domain), DEMO_PASSWORD))
    return rows


def load_demo(today: date | None = None) -> DemoResult:
    """Add whatever part of the demo data set is missing; the caller commits.

    Raises InvalidInput (with nothing written once the caller rolls back) if a service refuses
    a demo record, e.g. because a real account already uses a demo team's name differently.
    """
    today = today or date.today()
    operator = _Operator()
    result = DemoResult(sign_ins=sign_in_rows())

    for role, person in STAFF:
        _person(
            operator,
            result,
            person,
            role,
            domain=COMPANY_DOMAIN,
            partner=None,
            today=today,
            password=True,
        )

    for demo in PARTNERS:
        partner = _partner(result, demo)
        teams = {t.name: _team(operator, result, partner, t) for t in demo.teams}
        where = {"domain": demo.domain, "partner": partner, "today": today}
        _person(operator, result, demo.trainer, "trainer", **where, password=True)
        where["teams"] = teams
        for agent in demo.agents:
            _person(operator, result, agent, "agent", **where, password=True)
        left = _person(operator, result, demo.deactivated, "agent", **where, password=True)
        if left is not None:
            set_active(operator, left, False)  # ends the sessions they had
        invited = _person(operator, result, demo.invited, "agent", **where)
        if invited is not None:
            invited.invited_at = utcnow()  # the invitation mail is not sent for demo people
    return result


def _partner(result: DemoResult, demo: DemoPartner) -> Partner:
    partner = db.session.scalars(select(Partner).where(Partner.slug == demo.slug)).first()
    if partner is not None:
        result.partners.present += 1
        return partner
    result.partners.created += 1
    details = PartnerDetails(
        slug=demo.slug, name=demo.name, country=demo.country, timezone=demo.timezone
    )
    return create_partner(None, details)


def _team(operator, result: DemoResult, partner: Partner, demo: DemoTeam) -> Team:
    team = db.session.scalars(
        select(Team).where(
            Team.partner_id == partner.id, func.lower(Team.name) == demo.name.lower()
        )
    ).first()
    if team is not None:
        result.teams.present += 1
        return team
    result.teams.created += 1
    details = TeamDetails(
        partner_id=partner.id, name=demo.name, timezone=demo.timezone, language=demo.language
    )
    return create_team(operator, details)


def _person(
    operator,
    result: DemoResult,
    demo: DemoPerson,
    role: str,
    *,
    domain: str,
    partner: Partner | None,
    today: date,
    teams: dict[str, Team] | None = None,
    password: bool = False,
) -> User | None:
    """Create one demo person unless their email is taken; returns the new account or None."""
    email = email_for(demo, domain)
    if db.session.scalars(select(User.id).where(User.email == email)).first() is not None:
        result.people.present += 1
        return None
    team = teams[demo.team] if teams and demo.team else None
    hire_date = None
    if demo.hired_days_ago is not None:
        hire_date = today - timedelta(days=demo.hired_days_ago)
    details = PersonDetails(
        email=email,
        name=demo.name,
        role=role,
        partner_id=partner.id if partner else None,
        team_id=team.id if team else None,
        language=demo.language,
        hire_date=hire_date,
    )
    person = invite_person(operator, details, send=False)
    if password:
        # Every demo account shares one password: hash it once, not once per person.
        person.password_hash = _demo_password_hash(current_app.config["PASSWORD_HASH_METHOD"])
    result.people.created += 1
    return person

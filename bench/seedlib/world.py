"""The generated world kept in memory while seeding: partners, teams, people and audiences.

Only the small things live here (at full size: 20 partners, ~200 teams, 50,000 people, a few
thousand audiences); the millions of records are generated person by person in ``records``
and written as they are made. Ids are assigned here, starting at 1 in an empty database.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from seedlib import words

DAY = timedelta(days=1)
PORTAL_AGE_DAYS = 420  # the portal went live this long before "today"
HIRE_SPAN_DAYS = 3 * 365
RECENT_HIRE_DAYS = 90


@dataclass(slots=True)
class Spec:
    """An audience's rules, to decide in Python who is in it (the same rule as the portal's)."""

    partners: frozenset = frozenset()
    teams: frozenset = frozenset()
    roles: frozenset = frozenset()
    languages: frozenset = frozenset()

    def includes(self, person) -> bool:
        if (self.partners or self.teams) and not (
            person.partner_id in self.partners or person.team_id in self.teams
        ):
            return False
        if self.roles and person.role not in self.roles:
            return False
        return not self.languages or person.language in self.languages


@dataclass(slots=True)
class Person:
    id: int
    partner_id: int
    team_id: int
    role: str
    language: str
    name: str
    active: bool
    created_at: datetime
    hire_date: date
    ends_at: datetime  # now, or when a deactivated person left
    diligence: float  # >1: quicker than most; <1: slower
    never: float  # chance of never getting round to an item


@dataclass
class Team:
    id: int
    name: str
    timezone: str
    language: str


@dataclass
class PartnerInfo:
    id: int
    slug: str
    name: str
    timezone: str
    diligence: float
    teams: list[Team] = field(default_factory=list)
    trainer_ids: list[int] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)


class World:
    """Everything generated so far, the id counters and the clock of the generated data."""

    def __init__(self, writer, rng, *, today: date, now: datetime, password_hash: str):
        self.writer = writer
        self.rng = rng
        self.today = today
        self.now = now
        self.launch = now - PORTAL_AGE_DAYS * DAY
        self.password_hash = password_hash
        self._ids = defaultdict(int)
        self.partners: list[PartnerInfo] = []
        self.staff_ids: list[int] = []
        self.audiences: dict[int, Spec] = {}
        self.documents = []
        self.courses = []
        self.requirements = []
        self.announcements = []
        self.path = None

    def next_id(self, table: str) -> int:
        self._ids[table] += 1
        return self._ids[table]

    def last_ids(self) -> dict[str, int]:
        return dict(self._ids)

    def set_last_id(self, table: str, last: int) -> None:
        self._ids[table] = last

    def when(self, start: datetime, end: datetime) -> datetime:
        """A uniformly random moment between ``start`` and ``end``."""
        span = (end - start).total_seconds()
        return start + timedelta(seconds=self.rng.random() * max(span, 0))

    # --- audiences ---------------------------------------------------------------------------

    def audience(self, spec: Spec | None = None, created_at: datetime | None = None) -> int:
        """Write an audience with ``spec``'s rules; returns its id."""
        spec = spec or Spec()
        audience_id = self.next_id("audience")
        w = self.writer
        w.add("audience", (audience_id, created_at or self.launch))
        for partner_id in sorted(spec.partners):
            w.add("audience_partner", (audience_id, partner_id))
        for team_id in sorted(spec.teams):
            w.add("audience_team", (audience_id, team_id))
        for role in sorted(spec.roles):
            w.add("audience_role", (audience_id, role))
        for language in sorted(spec.languages):
            w.add("audience_language", (audience_id, language))
        self.audiences[audience_id] = spec
        return audience_id

    def random_spec(self, *, everyone=0.75, partner=None) -> Spec:
        """Mostly everyone; else some partners, some teams, one role or some languages.

        With ``partner`` (partner-local content) only that partner's teams may be named.
        """
        rng = self.rng
        if rng.random() < everyone:
            return Spec()
        if partner is not None:
            teams = rng.sample(partner.teams, rng.randint(1, min(3, len(partner.teams))))
            return Spec(teams=frozenset(t.id for t in teams))
        shape = rng.choices(["partners", "teams", "role", "languages"], [35, 25, 25, 15])[0]
        if shape == "partners":
            chosen = rng.sample(self.partners, rng.randint(1, max(1, len(self.partners) // 4)))
            return Spec(partners=frozenset(p.id for p in chosen))
        if shape == "teams":
            owner = rng.choice(self.partners)
            teams = rng.sample(owner.teams, rng.randint(1, min(4, len(owner.teams))))
            return Spec(teams=frozenset(t.id for t in teams))
        if shape == "role":
            return Spec(roles=frozenset([rng.choices(["agent", "trainer"], [80, 20])[0]]))
        languages = {t.language for p in self.partners for t in p.teams}
        picked = rng.sample(sorted(languages), min(len(languages), rng.randint(1, 2)))
        return Spec(languages=frozenset(picked))


def declare_people(writer) -> None:
    writer.declare("partner", ("id", "slug", "name", "country", "timezone", "active", "created_at"))
    writer.declare(
        "team", ("id", "partner_id", "name", "timezone", "language", "created_at")
    )  # fmt: skip
    writer.declare(
        "user",
        ("id", "email", "name", "role", "partner_id", "team_id", "language", "timezone",
         "hire_date", "active", "password_hash", "auth_version", "invited_at", "last_sign_in_at",
         "created_at"),
    )  # fmt: skip
    writer.declare("audience", ("id", "created_at"))
    writer.declare("audience_partner", ("audience_id", "partner_id"))
    writer.declare("audience_team", ("audience_id", "team_id"))
    writer.declare("audience_role", ("audience_id", "role"))
    writer.declare("audience_language", ("audience_id", "language"))


def make_partners(world: World, count: int) -> None:
    """Partners with one to three sites and 5-15 teams (site × queue) each."""
    rng, w = world.rng, world.writer
    for index in range(count):
        word = words.PARTNER_WORDS[index % len(words.PARTNER_WORDS)]
        suffix = rng.choice(words.PARTNER_SUFFIXES)
        round_ = index // len(words.PARTNER_WORDS)
        name = f"{word} {suffix}" + (f" {round_ + 1}" if round_ else "")
        slug = "-".join(name.lower().replace("&", "and").split())
        sites = rng.sample(words.SITES, rng.randint(1, 3))
        partner = PartnerInfo(
            id=world.next_id("partner"),
            slug=slug,
            name=name,
            timezone=sites[0][1],
            diligence=rng.uniform(0.6, 1.3),
        )
        created = world.launch - rng.randint(5, 60) * DAY
        w.add("partner", (partner.id, slug, name, sites[0][0], partner.timezone, True, created))
        places = [(site, queue) for site in sites for queue in words.QUEUES]
        for site, queue in rng.sample(places, rng.randint(5, 15)):
            _country, tz, city, languages = site
            language = languages[0] if rng.random() < 0.7 else rng.choice(languages)
            team = Team(world.next_id("team"), f"{city} – {queue}", tz, language)
            partner.teams.append(team)
            w.add("team", (team.id, partner.id, team.name, tz, language, created))
        world.partners.append(partner)


def make_staff(world: World, prms: int = 3) -> None:
    """One admin and a few PRMs (company staff: no partner, no team)."""
    created = world.launch - 30 * DAY
    for role, number in [("admin", 1)] + [("prm", n) for n in range(1, prms + 1)]:
        user_id = world.next_id("user")
        email = f"{role}{'' if role == 'admin' else number}@bench.example"
        name = f"{'Portal Admin' if role == 'admin' else f'PRM {number}'}"
        world.writer.add(
            "user",
            (user_id, email, name, role, None, None, "en", "UTC", None, True,
             world.password_hash, 1, created, world.now - DAY, created),
        )  # fmt: skip
        world.staff_ids.append(user_id)


def _allocate(total: int, weights: list[float], minimum: int) -> list[int]:
    """``total`` split in proportion to ``weights``, each at least ``minimum``."""
    spare = total - minimum * len(weights)
    scale = sum(weights)
    counts = [minimum + int(spare * wt / scale) for wt in weights]
    for i in range(total - sum(counts)):
        counts[i % len(counts)] += 1
    return counts


def make_people(world: World, total: int) -> None:
    """``total`` partner people (about 2% trainers, 3% deactivated) with hire dates over
    three years, about 8% hired within the last 90 days."""
    rng, w = world.rng, world.writer
    if total < 2 * len(world.partners):
        raise SystemExit(f"--agents must be at least twice --partners ({2 * len(world.partners)}).")
    sizes = _allocate(total, [rng.uniform(0.4, 2.0) for _ in world.partners], 2)
    for partner, size in zip(world.partners, sizes, strict=True):
        trainers = max(1, round(size * 0.02))
        team_weights = [rng.uniform(0.5, 2.0) for _ in partner.teams]
        domain = f"{partner.slug}.example"
        for n in range(size):
            role = "trainer" if n < trainers else "agent"
            team = (
                rng.choices(partner.teams, team_weights)[0]
                if n >= len(partner.teams)
                else (partner.teams[n])
            )
            person = _person(world, partner, team, role)
            first, last = person.name.split(" ", 1)
            email = f"{first}.{last}.{person.id}@{domain}".lower()
            signed_in = None
            if person.active and rng.random() < 0.9:
                signed_in = world.when(max(person.created_at, world.now - 30 * DAY), world.now)
            w.add(
                "user",
                (person.id, email, person.name, role, partner.id, team.id, person.language,
                 team.timezone, person.hire_date, person.active, world.password_hash, 1,
                 person.created_at, signed_in, person.created_at),
            )  # fmt: skip
            partner.people.append(person)
            if role == "trainer":
                partner.trainer_ids.append(person.id)


def _person(world: World, partner: PartnerInfo, team: Team, role: str) -> Person:
    rng, now = world.rng, world.now
    if rng.random() < 0.08:
        hire = world.today - rng.randrange(RECENT_HIRE_DAYS) * DAY
    else:
        hire = world.today - rng.randrange(RECENT_HIRE_DAYS, HIRE_SPAN_DAYS) * DAY
    hired_at = datetime.combine(hire, time(8), UTC)
    if hired_at < world.launch:  # imported from the roster when the portal went live
        created = world.when(world.launch, world.launch + 20 * DAY)
    else:  # invited a few days before their first day
        created = world.when(hired_at - 10 * DAY, hired_at)
    created = min(created, now - timedelta(hours=1))
    active = rng.random() >= 0.03 or role == "trainer"
    ends = now if active else world.when(min(created + 14 * DAY, now), now)
    language = team.language if rng.random() < 0.88 else "en"
    return Person(
        id=world.next_id("user"),
        partner_id=partner.id,
        team_id=team.id,
        role=role,
        language=language,
        name=f"{rng.choice(words.FIRST_NAMES)} {rng.choice(words.LAST_NAMES)}",
        active=active,
        created_at=created,
        hire_date=hire,
        ends_at=ends,
        diligence=partner.diligence * rng.lognormvariate(0, 0.45),
        never=min(0.6, rng.betavariate(1.2, 30) / partner.diligence),
    )

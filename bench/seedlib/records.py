"""The millions: acknowledgements, completions, read receipts, enrolments and sign-offs.

Generated person by person (one partner at a time, each with its own seeded random stream)
and handed to the writer as they are made, so memory holds one batch, not the whole set.

Shapes that make reports mean something:
- acknowledgement lag after a material version is log-normal (median about a day, a tail of
  weeks), scaled by each person's and each partner's diligence; some people never get to some
  items; a new material version asks everyone again, and people acknowledge whichever version
  is current when they get round to it;
- courses are mostly completed before the due date, some late, some never; a completion of a
  course with a validity period expires, and most people recertify around the expiry, some
  not (so "expiring" and "overdue again" both exist);
- announcements are read within hours (urgent ones more often), process changes that ask for
  acknowledgement also acknowledge the document version they announce, as the portal does.
"""

import itertools
import math
import random
from datetime import UTC, datetime, time, timedelta
from math import exp

from seedlib.training import Req
from seedlib.world import DAY, PartnerInfo, World

ACK_MEDIAN_HOURS = 22
READ_MEDIAN_HOURS = 5
READ_CHANCE = {"info": 0.7, "important": 0.82, "urgent": 0.94}
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # portal.training.certificates
CODE_SPACE = len(CODE_ALPHABET) ** 12
CODE_MULTIPLIER = 7_777_777_777_777  # coprime with 31**12: distinct ids give distinct codes
HOUR = timedelta(hours=1)
RECORDS = (
    "acknowledgement",
    "completion",
    "announcement_read",
    "announcement_ack",
    "onboarding_enrolment",
    "onboarding_sign_off",
)


def declare_records(writer) -> None:
    writer.declare(
        "acknowledgement",
        ("id", "user_id", "document_id", "version_id", "version_number", "acknowledged_at",
         "method", "typed_name"),
    )  # fmt: skip
    writer.declare(
        "completion",
        ("id", "user_id", "course_id", "sequence", "course_version", "score", "pass_mark",
         "completed_at", "expires_at", "verification_code"),
    )  # fmt: skip
    writer.declare("announcement_read", ("id", "user_id", "announcement_id", "read_at"))
    writer.declare("announcement_ack", ("id", "user_id", "announcement_id", "acknowledged_at"))
    writer.declare(
        "onboarding_enrolment",
        ("id", "user_id", "path_id", "version_id", "start_date", "how", "reason", "enrolled_at"),
    )  # fmt: skip
    writer.declare(
        "onboarding_sign_off",
        ("id", "enrolment_id", "step_id", "sequence", "signed", "comment", "by_id", "at"),
    )  # fmt: skip


_TRIPLES = [a + b + c for a in CODE_ALPHABET for b in CODE_ALPHABET for c in CODE_ALPHABET]
_BASE3 = len(_TRIPLES)  # 31**3


def verification_code(completion_id: int) -> str:
    """A code shaped like the portal's (XXXX-XXXX-XXXX), unique per completion id."""
    n = (completion_id * CODE_MULTIPLIER + 982_451_653) % CODE_SPACE
    n, a = divmod(n, _BASE3)
    n, b = divmod(n, _BASE3)
    d, c = divmod(n, _BASE3)
    code = _TRIPLES[a] + _TRIPLES[b] + _TRIPLES[c] + _TRIPLES[d]
    return f"{code[:4]}-{code[4:8]}-{code[8:]}"


def _reaches(spec, partner: PartnerInfo, team_ids: set) -> bool:
    """Whether an audience can include anyone of ``partner`` (a cheap filter per partner)."""
    return (
        not (spec.partners or spec.teams)
        or partner.id in spec.partners
        or bool(spec.teams & team_ids)
    )


class RecordMaker:
    def __init__(self, world: World, seed: int):
        self.world = world
        self.seed = seed
        self.w = world.writer
        self.ack_docs = [(d, d.epochs()) for d in world.documents if d.requires_ack and d.versions]
        self.course_reqs = [r for r in world.requirements if r.course is not None]
        self.ack_log = math.log(ACK_MEDIAN_HOURS)
        self.read_log = math.log(READ_MEDIAN_HOURS)
        self.ids = {t: itertools.count(world.last_ids().get(t, 0) + 1) for t in RECORDS}
        self.out = {t: world.writer.buffer(t) for t in RECORDS}

    def run(self) -> None:
        for partner in self.world.partners:
            self.rng = random.Random(self.seed * 1_000_003 + partner.id)
            teams = {t.id for t in partner.teams}
            docs = [
                (d, epochs)
                for d, epochs in self.ack_docs
                if d.partner_id in (None, partner.id) and _reaches(d.spec, partner, teams)
            ]
            reqs = [r for r in self.course_reqs if _reaches(r.spec, partner, teams)]
            anns = [a for a in self.world.announcements if _reaches(a.spec, partner, teams)]
            for person in partner.people:
                acks = self._acknowledgements(person, docs)
                self._announcements(person, anns, acks, partner)
                self._write_acks(person, acks)
                self._completions(person, reqs)
                self._onboarding(person, partner)
                self.w.maybe_flush()
        for table, ids in self.ids.items():
            self.world.set_last_id(table, next(ids) - 1)

    # --- documents -------------------------------------------------------------------------

    def _acknowledgements(self, person, docs) -> dict:
        rng, now = self.rng, self.world.now
        acks = {}  # version id -> (time, doc, version)
        random_, gauss, mu = rng.random, rng.gauss, self.ack_log
        for doc, epochs in docs:
            if not doc.spec.includes(person):
                continue
            never = person.never + (0.0 if doc.required else 0.05)
            for versions, until in epochs:
                start = max(versions[0].published_at, person.created_at)
                end = min(until or now, person.ends_at)
                if start >= end or random_() < never:
                    continue
                at = start + HOUR * (exp(mu + 1.3 * gauss()) / person.diligence)
                if at >= end:
                    continue
                version = versions[0]
                for later in versions[1:]:
                    if later.published_at <= at:
                        version = later
                acks[version.id] = (at, doc, version)
        return acks

    def _write_acks(self, person, acks: dict) -> None:
        out, ids = self.out["acknowledgement"], self.ids["acknowledgement"]
        for at, doc, version in acks.values():
            typed = person.name if doc.attestation else None
            out.append(
                (next(ids), person.id, doc.id, version.id, version.number, at,
                 "attestation" if doc.attestation else "button", typed),
            )  # fmt: skip

    # --- announcements ---------------------------------------------------------------------

    def _announcements(self, person, anns, acks: dict, partner) -> None:
        rng, out, ids = self.rng, self.out, self.ids
        for ann in anns:
            if not ann.spec.includes(person):
                continue
            start = max(ann.publish_at, person.created_at)
            end = min(ann.ends_at, person.ends_at)
            if start >= end or rng.random() > READ_CHANCE[ann.priority] * min(
                1.0, person.diligence
            ):
                continue
            read_at = start + HOUR * (exp(self.read_log + 1.2 * rng.gauss()) / person.diligence)
            if read_at >= end:
                continue
            read = (next(ids["announcement_read"]), person.id, ann.id, read_at)
            out["announcement_read"].append(read)
            if not ann.requires_ack or rng.random() > 0.9:
                continue
            ack_at = read_at + timedelta(minutes=rng.uniform(0.5, 30))
            if ack_at >= end:
                continue
            ack = (next(ids["announcement_ack"]), person.id, ann.id, ack_at)
            out["announcement_ack"].append(ack)
            version, doc = ann.version, ann.doc
            if (
                version is not None
                and doc.spec.includes(person)
                and (version.superseded_at is None or ack_at < version.superseded_at)
            ):
                # Acknowledging a process change acknowledges the version it announces.
                earlier = acks.get(version.id)
                if earlier is None or earlier[0] > ack_at:
                    acks[version.id] = (ack_at, doc, version)

    # --- courses ---------------------------------------------------------------------------

    def _completions(self, person, reqs: list[Req]) -> None:
        rng, now = self.rng, self.world.now
        out, ids = self.out["completion"], self.ids["completion"]
        for req in reqs:
            if not req.spec.includes(person):
                continue
            course = req.course
            available = max(course.published_at, req.created_at, person.created_at)
            end = person.ends_at
            if available >= end or rng.random() < person.never * 1.5:
                continue
            due_at = datetime.combine(req.due(person), time(17), UTC)
            if rng.random() < min(0.95, 0.8 * person.diligence) and due_at > available:
                at = available + (due_at - available) * rng.random()
            else:
                at = max(due_at, available) + DAY * rng.lognormvariate(1.5, 1.0)
            sequence = 0
            while at < end:
                sequence += 1
                completion_id = next(ids)
                expires = at + DAY * course.validity_days if course.validity_days else None
                republished = course.republished_at
                score = rng.randint(course.pass_mark, 100) if course.has_quiz else None
                out.append(
                    (completion_id, person.id, course.id, sequence,
                     2 if republished and at >= republished else 1, score, course.pass_mark, at,
                     expires, verification_code(completion_id)),
                )  # fmt: skip
                if expires is None or expires >= now or rng.random() < 0.2:
                    break  # valid, or (20%) let it lapse: overdue again
                renewed = expires - DAY * rng.uniform(0, 30)
                if rng.random() < 0.25:
                    renewed = expires + DAY * rng.lognormvariate(1.5, 1.0)
                at = max(renewed, at + DAY)

    # --- onboarding ------------------------------------------------------------------------

    def _onboarding(self, person, partner: PartnerInfo) -> None:
        world, rng = self.world, self.rng
        path = world.path
        recent = world.today - timedelta(days=89)
        if (
            path is None
            or not person.active
            or person.hire_date < recent
            or not path.spec.includes(person)
        ):
            return
        enrolment_id = next(self.ids["onboarding_enrolment"])
        enrolled = max(person.created_at, path.published_at)
        self.out["onboarding_enrolment"].append(
            (enrolment_id, person.id, path.id, path.version_id, person.hire_date, "automatic", "",
             enrolled),
        )  # fmt: skip
        day_one = datetime.combine(person.hire_date, time(9), UTC)
        for step_id, due_day in path.tasks:
            if rng.random() > 0.85 * min(1.0, person.diligence):
                continue
            at = day_one + DAY * (due_day - 1 + rng.uniform(-3, 5))
            at = max(at, enrolled + HOUR)
            if at >= world.now:
                continue
            trainer = rng.choice(partner.trainer_ids)
            self.out["onboarding_sign_off"].append(
                (next(self.ids["onboarding_sign_off"]), enrolment_id, step_id, 1, True, "",
                 trainer, at),
            )  # fmt: skip
            undo = at + DAY * rng.uniform(0.1, 2)
            if rng.random() < 0.02 and undo < world.now:
                self.out["onboarding_sign_off"].append(
                    (next(self.ids["onboarding_sign_off"]), enrolment_id, step_id, 2, False,
                     "Signed off by mistake: not observed yet.", trainer, undo),
                )  # fmt: skip

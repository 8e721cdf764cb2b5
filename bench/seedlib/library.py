"""Documents with their versions and tags, and announcements (some of them process changes).

Versions follow the portal's publish rule (portal/library/services.py ``publish``): version 1 is
material; ``ack_from_number`` is the number of the latest published material version and
``current_version_id`` the latest published version; a draft next version is unpublished.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from seedlib import words
from seedlib.world import DAY, Spec, World

from portal.library.rendering import render

KINDS = {"playbook": 30, "policy": 20, "product_update": 25, "brand": 10, "onboarding": 15}
# How likely each kind is to ask for acknowledgement, relative to the others.
ACK_WEIGHT = {"policy": 4, "playbook": 3, "onboarding": 3, "brand": 1, "product_update": 0.5}


@dataclass(slots=True)
class Version:
    id: int
    number: int
    material: bool
    published_at: datetime
    superseded_at: datetime | None = None  # when the next version was published


@dataclass
class Doc:
    id: int
    title: str
    kind: str
    partner_id: int | None
    owner_id: int
    spec: Spec
    status: str
    created_at: datetime
    versions: list[Version] = field(default_factory=list)  # published, oldest first
    requires_ack: bool = False
    attestation: bool = False
    required: bool = False  # a training requirement names it

    def epochs(self) -> list:
        """[(versions from a material one up to the next material one, that one's publish
        time or None)]: one acknowledgement is asked for in each."""
        material = [i for i, v in enumerate(self.versions) if v.material]
        epochs = []
        for n, start in enumerate(material):
            end = material[n + 1] if n + 1 < len(material) else len(self.versions)
            until = self.versions[end].published_at if end < len(self.versions) else None
            epochs.append((self.versions[start:end], until))
        return epochs


class Bodies:
    """Markdown bodies built from support sentences, rendered once each by the portal."""

    def __init__(self):
        self._cache = {}

    def get(self, topic: str, number: int, variant: int):
        key = (topic, number, variant)
        if key not in self._cache:
            lines = [f"This page explains how we handle {topic}.", ""]
            for h, heading in enumerate(words.HEADINGS[: 3 + variant % 3]):
                lines += [f"## {heading}", ""]
                for s in range(3):
                    sentence = words.SENTENCES[
                        (h * 3 + s + variant + number) % len(words.SENTENCES)
                    ]
                    lines.append("- " + sentence.format(topic=topic))
                lines.append("")
            if number > 1:
                lines.append(f"_Changed in version {number}: the steps for {topic} were updated._")
            body = "\n".join(lines)
            rendered = render(body)
            self._cache[key] = (body, rendered.html, rendered.toc_html)
        return self._cache[key]

    def get_html(self, body: str) -> str:
        """The portal's sanitized render of ``body`` (cached: announcements repeat)."""
        if body not in self._cache:
            self._cache[body] = render(body).html
        return self._cache[body]


def declare_library(writer) -> None:
    writer.declare(
        "document",
        ("id", "slug", "title", "kind", "status", "owner_id", "partner_id", "audience_id",
         "requires_ack", "attestation", "review_by", "ack_from_number", "created_at",
         "first_published_at", "changed_at", "archived_at"),
    )  # fmt: skip
    writer.declare("document_tag", ("document_id", "tag"))
    writer.declare(
        "document_version",
        ("id", "document_id", "number", "title", "body", "html", "toc_html", "summary",
         "change_level", "created_by_id", "created_at", "published_at", "published_by_id"),
    )  # fmt: skip
    writer.declare(
        "announcement",
        ("id", "title", "body", "html", "priority", "audience_id", "partner_id", "author_id",
         "status", "publish_at", "expires_at", "pinned", "requires_ack", "document_id",
         "document_version_id", "effective_on", "created_at", "updated_at", "published_at",
         "withdrawn_at", "released_at"),
    )  # fmt: skip


def _title(rng, kind: str, topic: str) -> str:
    if kind == "playbook":
        return f"Playbook: {topic}"
    if kind == "policy":
        return f"{topic.capitalize()} policy"
    if kind == "product_update":
        return f"{rng.choice(words.PRODUCTS)} {rng.randint(2, 9)}.{rng.randint(0, 9)}: {topic}"
    if kind == "brand":
        return f"Brand voice: {topic}"
    return f"New hire guide: {topic}"


def _plan_document(world: World, index: int) -> Doc:
    rng = world.rng
    kind = rng.choices(list(KINDS), list(KINDS.values()))[0]
    topic = words.TOPICS[index % len(words.TOPICS)]
    local = world.partners and rng.random() < 0.08
    partner = rng.choice(world.partners) if local else None
    owner = rng.choice(partner.trainer_ids) if partner else rng.choice(world.staff_ids[1:])
    roll = rng.random()
    status = "draft" if roll < 0.02 else "archived" if roll < 0.05 else "published"
    doc = Doc(
        id=world.next_id("document"),
        title=_title(rng, kind, topic),
        kind=kind,
        partner_id=partner.id if partner else None,
        owner_id=owner,
        spec=world.random_spec(everyone=0.6, partner=partner) if partner else world.random_spec(),
        status=status,
        created_at=world.when(world.launch - 60 * DAY, world.now - 3 * DAY),
    )
    if status == "draft":
        return doc
    at = doc.created_at + timedelta(hours=rng.uniform(1, 72))
    for number in range(1, rng.choices([1, 2, 3, 4], [45, 30, 15, 10])[0] + 1):
        if at > world.now - timedelta(hours=2):
            break
        material = number == 1 or rng.random() < 0.45
        if doc.versions:
            doc.versions[-1].superseded_at = at
        doc.versions.append(Version(world.next_id("document_version"), number, material, at))
        at += timedelta(days=1 + rng.expovariate(1 / 40))
    return doc


def make_documents(world: World, count: int, ack_count: int, company: int, bodies: Bodies):
    """``count`` documents of the five kinds; ``ack_count`` of the published ones ask for
    acknowledgement (weighted towards policies, playbooks and onboarding), at least
    ``company`` of them company-wide (training requirements can name those)."""
    rng, w = world.rng, world.writer
    docs = [_plan_document(world, i) for i in range(count)]
    published = [d for d in docs if d.status == "published"]
    # Weighted sample without replacement: the largest random()**(1/weight) keys.
    keyed = sorted(published, key=lambda d: rng.random() ** (1 / ACK_WEIGHT[d.kind]), reverse=True)
    chosen = [d for d in keyed if d.partner_id is None][:company]
    taken = {d.id for d in chosen}
    chosen += [d for d in keyed if d.id not in taken][: max(0, ack_count - len(chosen))]
    for doc in chosen:
        doc.requires_ack = True
        doc.attestation = rng.random() < 0.2
    for doc in docs:
        _write_document(world, doc, bodies)
    world.documents = docs
    w.update(
        "document",
        "id",
        "current_version_id",
        {d.id: d.versions[-1].id for d in docs if d.versions},
    )


def _write_document(world: World, doc: Doc, bodies: Bodies) -> None:
    rng, w = world.rng, world.writer
    topic = doc.title.split(": ", 1)[-1].removesuffix(" policy").lower()
    variant = doc.id % 3
    last = doc.versions[-1] if doc.versions else None
    ack_from = max((v.number for v in doc.versions if v.material), default=None)
    archived_at = world.when(last.published_at, world.now) if doc.status == "archived" else None
    review_by = None
    if last is not None and rng.random() < 0.6:
        review_by = (last.published_at + rng.choice([180, 365]) * DAY).date()
    slug = "-".join("".join(c if c.isalnum() else " " for c in doc.title.lower()).split())
    w.add(
        "document",
        (doc.id, f"{slug[:70]}-{doc.id}", doc.title, doc.kind, doc.status, doc.owner_id,
         doc.partner_id, world.audience(doc.spec, doc.created_at), doc.requires_ack,
         doc.attestation, review_by, ack_from, doc.created_at,
         doc.versions[0].published_at if doc.versions else None,
         last.published_at if last else None, archived_at),
    )  # fmt: skip
    for tag in rng.sample(words.TAGS, rng.randint(1, 3)):
        w.add("document_tag", (doc.id, tag))
    for v in doc.versions:
        body, html, toc = bodies.get(topic, v.number, variant)
        summary = "First version" if v.number == 1 else (
            f"{'Changed' if v.material else 'Clarified'} the steps for {topic}"
        )  # fmt: skip
        created = v.published_at - timedelta(hours=rng.uniform(0.5, 48))
        w.add(
            "document_version",
            (v.id, doc.id, v.number, doc.title, body, html, toc, summary,
             "material" if v.material else "minor", doc.owner_id, created, v.published_at,
             doc.owner_id),
        )  # fmt: skip
    if doc.status == "draft" or (doc.status == "published" and rng.random() < 0.06):
        number = len(doc.versions) + 1
        body, _, _ = bodies.get(topic, number, variant)
        w.add(
            "document_version",
            (world.next_id("document_version"), doc.id, number, doc.title, body, None, None,
             "" if number == 1 else "Work in progress", "material", doc.owner_id,
             world.when(last.published_at if last else doc.created_at, world.now), None, None),
        )  # fmt: skip


@dataclass
class Ann:
    id: int
    spec: Spec
    priority: str
    publish_at: datetime
    ends_at: datetime  # expiry, withdrawal or now
    requires_ack: bool
    doc: Doc | None = None
    version: Version | None = None


def make_announcements(world: World, count: int, bodies: Bodies) -> None:
    """``count`` announcements over the portal's life; about 30% announce a document version
    (process changes, most asking for acknowledgement); one draft and one withdrawn."""
    rng, w = world.rng, world.writer
    changes = [
        (d, v)
        for d in world.documents
        if d.status == "published" and d.partner_id is None
        for v in d.versions
        if v.material and v.number > 1 and v.published_at < world.now - DAY
    ]
    for n in range(count):
        ann_id = world.next_id("announcement")
        doc = version = None
        if changes and rng.random() < 0.3:
            doc, version = rng.choice(changes)
            publish = version.published_at + timedelta(hours=rng.uniform(1, 48))
            title = f"Process change: {doc.title}"
            requires_ack = rng.random() < 0.8
            spec = doc.spec
        else:
            publish = world.when(world.launch, world.now - DAY)
            title = words.ANNOUNCEMENT_TITLES[n % len(words.ANNOUNCEMENT_TITLES)]
            requires_ack = rng.random() < 0.1
            spec = world.random_spec(everyone=0.8)
        publish = min(publish, world.now - timedelta(hours=1))
        priority = rng.choices(["info", "important", "urgent"], [60, 30, 10])[0]
        expires = publish + 30 * DAY if rng.random() < 0.4 else None
        status = "draft" if n == count - 1 and count > 2 else "published"
        withdrawn = None
        if n == count - 2 and count > 2:
            status, withdrawn = "withdrawn", world.when(publish, world.now)
        body = f"{title}.\n\nRead this before your next shift. Ask your team lead if unsure."
        author = rng.choice(world.staff_ids[1:])
        created = publish - timedelta(hours=rng.uniform(1, 72))
        live = status != "draft"
        html = bodies.get_html(body)
        w.add(
            "announcement",
            (ann_id, title, body, html, priority, world.audience(spec, created), None,
             author, status, publish if live else None, expires, priority == "urgent" and
             rng.random() < 0.5, requires_ack, doc.id if doc else None,
             version.id if version else None,
             (publish + rng.randint(1, 14) * DAY).date() if version else None, created, created,
             publish if live else None, withdrawn, publish if live else None),
        )  # fmt: skip
        if live:
            ends = min(t for t in (expires, withdrawn, world.now) if t is not None)
            world.announcements.append(
                Ann(ann_id, spec, priority, publish, ends, requires_ack, doc, version)
            )

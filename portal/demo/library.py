"""The demo library: Lumen's starter documents from ``content/``, with some history.

After the demo partners and people exist, the demo

1. publishes *earlier* versions of two documents (the refund playbook with a $100 limit, the
   escalation playbook with a typo) and lets demo people acknowledge them;
2. syncs ``content/``, which creates every other document and publishes the current text of
   those two as version 2: material for refunds (so people who acknowledged version 1 see
   "changed since you acknowledged"), minor for escalations (their acknowledgements stay valid);
3. lets demo people acknowledge some documents, so every home page has a mix of done and to do;
4. has the Atlas trainer publish a partner-local document for her partner.

Idempotent like the rest of the demo: history is written only for documents that do not exist
yet, people acknowledge a document only if they have never acknowledged it, and the local
document is written once.
"""

from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy import select

from portal.acknowledgements.services import acknowledge
from portal.audiences.services import AudienceSpec, people_in_audience
from portal.demo.services import COMPANY_DOMAIN, NEW_HIRE_DAYS, PARTNERS, STAFF, email_for
from portal.extensions import db
from portal.library import content_files, sync
from portal.library import services as library
from portal.library.models import Acknowledgement, Document, DocumentStatus
from portal.partners.models import Partner, Team
from portal.people.models import User

# Earlier text of a content file: the file's body with these replacements.
EARLIER_VERSIONS = {
    "refund-requests": (("$150", "$100"), ("€140, £120, ₡77,000", "€95, £80, ₡51,000")),
    "escalation-playbook": (
        ("## Writing the escalation note", "## Notes"),
        ("The receiving team reads", "The recieving team reads"),
    ),
}
# The demo agent shown first in the README acknowledges only these, so they have plenty to do.
FIRST_AGENT_ACKS = {"brand-voice-and-values", "escalation-playbook", "refund-requests"}
NEW_HIRE_ACKS = {"brand-voice-and-values", "security-awareness", "data-privacy-policy"}
LOCAL_DOCUMENT = {
    "partner": "atlas",
    "team": "Manila Billing",
    "slug": "atlas-manila-shift-handover",
    "title": "Manila Billing shift handover checklist",
    "file": Path(__file__).with_name("atlas-shift-handover.md"),
}


@dataclass
class LibraryResult:
    """What loading the demo library did."""

    sync_results: list = field(default_factory=list)
    acknowledgements: int = 0
    local_documents: int = 0

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.sync_results if r.outcome == outcome)

    @property
    def errors(self) -> list:
        return [r for r in self.sync_results if r.failed]

    @property
    def created_anything(self) -> bool:
        changed = len(self.sync_results) - self.count(sync.UNCHANGED)
        return bool(changed or self.acknowledgements or self.local_documents)


def load_library(folder: Path | None = None) -> LibraryResult:
    """Sync the starter content and add the demo's history, acknowledgements and local document.

    Call it once the demo people exist; the caller commits. A content file that fails is
    reported in the result and the rest is loaded all the same.
    """
    folder = folder or sync.default_folder()
    owner = _user(email_for(dict(STAFF)["prm"], COMPANY_DOMAIN))
    result = LibraryResult()
    people = _demo_people()

    earlier = []
    for slug, replacements in EARLIER_VERSIONS.items():
        path = folder / f"{slug}.md"
        if _document(slug) is not None or not path.is_file():
            continue
        content = content_files.read_content_file(path)
        body = content.body
        for old, new in replacements:
            body = body.replace(old, new)
        outcome = sync.sync_file(replace(content, body=body, summary="First version"), owner=owner)
        result.sync_results.append(outcome)
        if not outcome.failed:
            earlier.append(slug)
    result.acknowledgements += _acknowledge(people, earlier)

    result.sync_results += sync.sync_folder(folder, owner=owner)
    result.local_documents += _local_document()
    slugs = [r.slug for r in result.sync_results if not r.failed] + [LOCAL_DOCUMENT["slug"]]
    result.acknowledgements += _acknowledge(people, slugs)
    return result


def _user(email: str) -> User | None:
    return db.session.scalars(select(User).where(User.email == email)).first()


def _document(slug: str) -> Document | None:
    return db.session.scalars(select(Document).where(Document.slug == slug)).first()


@dataclass
class _DemoReader:
    user: User
    kind: str  # trainer | first agent | agent | new hire | newest hire
    index: int  # position among the partner's seasoned agents


def _demo_people() -> list[_DemoReader]:
    """Demo trainers and active agents who can sign in, with what kind of reader each is."""
    wanted = {}
    for demo in PARTNERS:
        wanted[email_for(demo.trainer, demo.domain)] = ("trainer", 0)
        seasoned = [a for a in demo.agents if a.hired_days_ago > NEW_HIRE_DAYS]
        for index, agent in enumerate(seasoned):
            wanted[email_for(agent, demo.domain)] = (
                "first agent" if index == 0 else "agent",
                index,
            )
        # The newest hire (shown in the README) has not acknowledged anything yet.
        newest = min(demo.agents, key=lambda a: a.hired_days_ago)
        for agent in demo.agents:
            if agent.hired_days_ago <= NEW_HIRE_DAYS:
                kind = "newest hire" if agent is newest else "new hire"
                wanted[email_for(agent, demo.domain)] = (kind, 0)
    users = db.session.scalars(
        select(User).where(User.email.in_(wanted), User.active, User.password_hash.is_not(None))
    ).all()
    return [_DemoReader(u, *wanted[u.email]) for u in sorted(users, key=lambda u: u.id)]


def _wants(reader: _DemoReader, slug: str, position: int) -> bool:
    """Whether this demo person has acknowledged the document (a fixed, varied pattern)."""
    if reader.kind == "trainer":
        return slug in FIRST_AGENT_ACKS | NEW_HIRE_ACKS
    if reader.kind == "first agent":
        return slug in FIRST_AGENT_ACKS
    if reader.kind == "new hire":
        return slug in NEW_HIRE_ACKS
    if reader.kind == "agent":
        return (position + reader.index) % 3 == 0
    return False


def _acknowledge(people: list[_DemoReader], slugs: list[str]) -> int:
    """Acknowledge the current versions of ``slugs`` as planned; returns how many were written."""
    documents = db.session.scalars(
        select(Document).where(
            Document.slug.in_(slugs),
            Document.requires_ack,
            Document.status == DocumentStatus.PUBLISHED,
        )
    ).all()
    documents.sort(key=lambda d: d.slug)
    done = set(
        db.session.execute(
            select(Acknowledgement.user_id, Acknowledgement.document_id).where(
                Acknowledgement.document_id.in_([d.id for d in documents])
            )
        ).all()
    )
    required = {
        d.id: set(
            db.session.scalars(
                people_in_audience(d.audience_id, partner_id=d.partner_id).with_only_columns(
                    User.id
                )
            )
        )
        for d in documents
    }
    written = 0
    for position, document in enumerate(documents):
        for reader in people:
            person = reader.user
            if (person.id, document.id) in done or not _wants(reader, document.slug, position):
                continue
            if person.id not in required[document.id]:
                continue
            typed_name = person.name if document.attestation else None
            _ack, created = acknowledge(
                person, document, document.current_version_id, typed_name=typed_name
            )
            written += created
    return written


def _local_document() -> int:
    """The Atlas trainer's partner-local checklist for one of her teams (written once)."""
    spec = LOCAL_DOCUMENT
    if _document(spec["slug"]) is not None:
        return 0
    partner = db.session.scalars(select(Partner).where(Partner.slug == spec["partner"])).first()
    trainer = partner and _user(f"trainer@{partner.slug}.example")
    team = (
        partner
        and db.session.scalars(
            select(Team).where(Team.partner_id == partner.id, Team.name == spec["team"])
        ).first()
    )
    if trainer is None or team is None:
        return 0
    details = library.DocumentDetails(
        title=spec["title"],
        kind="playbook",
        slug=spec["slug"],
        tags=["handover", "shifts", "billing"],
        audience=AudienceSpec(team_ids=[team.id]),
        requires_ack=True,
    )
    document = library.create_document(
        trainer, details, body=spec["file"].read_text(encoding="utf-8").strip()
    )
    library.publish(trainer, document)
    return 1

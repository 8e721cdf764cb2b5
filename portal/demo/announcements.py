"""Demo announcements: a process change (the $150 refund limit), an urgent notice, news, a
trainer's local announcement and a scheduled one.

Created through the real services, as their authors would. Idempotent: an announcement whose
title already exists is left alone. Call after the demo library is loaded; the caller commits.
"""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from portal.announcements import services
from portal.announcements.models import Announcement
from portal.core.clock import utcnow
from portal.demo.library import _document, _user
from portal.demo.services import COMPANY_DOMAIN, PARTNERS, STAFF, email_for
from portal.extensions import db


@dataclass(frozen=True)
class DemoAnnouncement:
    title: str
    body: str
    priority: str = "info"
    pinned: bool = False
    requires_ack: bool = False
    expires_in: timedelta | None = None
    scheduled_in: timedelta | None = None  # None: published now
    process_change_of: str | None = None  # slug of the document whose current version it is
    trainer_of: str | None = None  # partner slug: written by that partner's trainer


ANNOUNCEMENTS = (
    DemoAnnouncement(
        "From Monday: refunds up to $150 need no approval",
        "The refund limit you may approve on your own goes up from **$100 to $150** "
        "(and the same in euros, pounds and colones). Above it, ask your team lead as "
        "before.\n\nThe refund playbook is updated: the changes are below.",
        priority="important",
        pinned=True,
        requires_ack=True,
        process_change_of="refund-requests",
    ),
    DemoAnnouncement(
        "Billing system maintenance tonight, 22:00-23:00 UTC",
        "The billing system is read-only during maintenance. Take customers' details and "
        "promise a call back; do **not** issue refunds by hand.",
        priority="urgent",
        expires_in=timedelta(days=2),
    ),
    DemoAnnouncement(
        "Lumen App 5 is out",
        "Lumen App 5 reached every customer today. Read the release notes in the library "
        "before your next shift: the settings screen moved.",
    ),
    DemoAnnouncement(
        "Holiday returns window opens next week",
        "The extended holiday returns window starts next week. The holiday returns policy in "
        "the library has the dates.",
        scheduled_in=timedelta(days=3),
    ),
    DemoAnnouncement(
        "Manila Billing: new break rota from next week",
        "Breaks move to a fixed rota so the queue is never short. Check the rota on the team "
        "board and tell me by Friday if your slot does not work.",
        trainer_of="atlas",
        requires_ack=True,
    ),
)


def _author(demo: DemoAnnouncement):
    if demo.trainer_of is None:
        return _user(email_for(dict(STAFF)["prm"], COMPANY_DOMAIN))
    partner = next(p for p in PARTNERS if p.slug == demo.trainer_of)
    return _user(email_for(partner.trainer, partner.domain))


def load_announcements() -> int:
    """Create the demo announcements that are missing; how many were created."""
    existing = set(db.session.scalars(select(Announcement.title)))
    now = utcnow()
    created = 0
    for demo in ANNOUNCEMENTS:
        if demo.title in existing:
            continue
        version_id = effective_on = None
        if demo.process_change_of:
            document = _document(demo.process_change_of)
            if document is None or document.current_version_id is None:
                continue
            version_id = document.current_version_id
            effective_on = (now + timedelta(days=7 - now.weekday())).date()  # next Monday
        author = _author(demo)
        announcement = services.create_announcement(
            author,
            services.AnnouncementDetails(
                title=demo.title,
                body=demo.body,
                priority=demo.priority,
                pinned=demo.pinned,
                requires_ack=demo.requires_ack,
                expires_at=now + demo.expires_in if demo.expires_in else None,
                document_version_id=version_id,
                effective_on=effective_on,
            ),
            now=now,
        )
        publish_at = now + demo.scheduled_in if demo.scheduled_in else None
        services.publish(author, announcement, publish_at=publish_at, now=now)
        created += 1
    return created

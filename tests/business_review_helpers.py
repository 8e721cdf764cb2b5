"""Shared by the business-review tests: a hand-built quarter at two partners and its helpers."""

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.announcements.models import (
    Announcement,
    AnnouncementAck,
    AnnouncementRead,
    AnnouncementStatus,
)
from portal.audiences.models import Audience, AudiencePartner
from portal.compliance import review, review_routes
from portal.extensions import db
from portal.library.models import Acknowledgement, Document, DocumentVersion
from portal.people.models import User
from portal.training.models import Completion, Course, Requirement

NOW = datetime(2026, 4, 15, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
Q1 = review.Period(date(2026, 1, 1), date(2026, 3, 31))
URL = "/reports/review"
JOINED = datetime(2025, 12, 1, tzinfo=UTC)
_codes = itertools.count(1)


def at(month, day, hour=9):
    return datetime(2026, month, day, hour, tzinfo=UTC)


def _document(title, versions, *, requires_ack=True):
    """A company-wide document for everyone; ``versions`` are (published_at, material)."""
    document = Document(
        slug=title.lower().replace(" ", "-"),
        title=title,
        kind="policy",
        status="published",
        audience=Audience(),
        requires_ack=requires_ack,
    )
    db.session.add(document)
    db.session.flush()
    for number, (published_at, material) in enumerate(versions, start=1):
        version = DocumentVersion(
            document_id=document.id,
            number=number,
            title=title,
            body="Text",
            html="<p>Text</p>",
            summary="Change",
            change_level="material" if material else "minor",
            published_at=published_at,
        )
        db.session.add(version)
        db.session.flush()
        document.current_version_id = version.id
        if material:
            document.ack_from_number = number
    db.session.flush()
    return document


def _ack(person_id, document, number, when):
    version_id = db.session.scalar(
        select(DocumentVersion.id).where(
            DocumentVersion.document_id == document.id, DocumentVersion.number == number
        )
    )
    db.session.add(
        Acknowledgement(
            user_id=person_id,
            document_id=document.id,
            version_id=version_id,
            version_number=number,
            acknowledged_at=when,
        )
    )


def _complete(person_id, course, when):
    db.session.add(
        Completion(
            user_id=person_id,
            course_id=course.id,
            sequence=1,
            course_version=1,
            completed_at=when,
            verification_code=f"CODE{next(_codes)}",
        )
    )


def _announcement(title, published_at, *, requires_ack=False, partner_ids=(), **extra):
    audience = Audience(partner_links=[AudiencePartner(partner_id=p) for p in partner_ids])
    announcement = Announcement(
        title=title,
        body="News",
        html="<p>News</p>",
        audience=audience,
        status=extra.pop("status", AnnouncementStatus.PUBLISHED),
        publish_at=published_at,
        published_at=published_at,
        requires_ack=requires_ack,
        **extra,
    )
    db.session.add(announcement)
    db.session.flush()
    return announcement


def _receipts(announcement, read=(), acked=()):
    for person_id in read:
        db.session.add(
            AnnouncementRead(
                user_id=person_id, announcement_id=announcement.id, read_at=announcement.publish_at
            )
        )
    for person_id in acked:
        db.session.add(
            AnnouncementAck(
                user_id=person_id,
                announcement_id=announcement.id,
                acknowledged_at=announcement.publish_at + timedelta(days=1),
            )
        )


@pytest.fixture
def world(app, make_user, make_partner, monkeypatch):
    """Atlas (trainer and three agents, one more deactivated) and Costa, over Q1 2026.

    Refund policy: material v2 on 5 Jan and v4 on 2 Feb (v3 minor). Lags (hours): v2 a1 2,
    a2 30, a3 363 (acked v3), trainer 722 (acked v4); v4 a1 4, trainer 50, a3 100, a2 never.
    Data privacy course due 1 March: a1 and a2 complete it late, a3 and the trainer never.
    Refund change announcement (acknowledge by 19 Jan): read by a1-a3, acknowledged by a1, a2.
    """
    monkeypatch.setattr(review_routes, "_now", lambda: NOW)
    atlas, costa = make_partner(name="Atlas"), make_partner(name="Costa")
    people = {"prm": make_user("prm"), "admin": make_user("admin")}
    for key, partner in (("atlas", atlas), ("costa", costa)):
        people[f"{key} trainer"] = make_user("trainer", partner=partner, created_at=JOINED)
        people[f"{key} agent"] = make_user("agent", partner=partner, created_at=JOINED)
    for key in ("a2", "a3", "gone"):
        people[key] = make_user("agent", partner=atlas, created_at=JOINED)
    people["a1"] = people["atlas agent"]
    people["c1"] = people["costa agent"]
    ids = {key: person.id for key, person in people.items()}
    t, a1, a2, a3 = ids["atlas trainer"], ids["a1"], ids["a2"], ids["a3"]
    with app.app_context():
        policy = _document(
            "Refund policy",
            [(datetime(2025, 11, 1, tzinfo=UTC), True), (at(1, 5), True), (at(1, 20), False)]
            + [(at(2, 2), True)],
        )
        _document("Brand guide", [(at(1, 10), True)], requires_ack=False)
        _ack(a1, policy, 1, datetime(2025, 11, 2, tzinfo=UTC))
        _ack(a1, policy, 2, at(1, 5, 11))
        _ack(a2, policy, 2, at(1, 6, 15))
        _ack(a3, policy, 3, at(1, 20, 12))
        _ack(a1, policy, 4, at(2, 2, 13))
        _ack(t, policy, 4, at(2, 4, 11))
        _ack(a3, policy, 4, at(2, 6, 13))
        _ack(ids["gone"], policy, 4, at(2, 3))
        _ack(ids["c1"], policy, 2, at(1, 5, 10))
        course = Course(slug="data-privacy", title="Data privacy", status="published")
        course.audience = Audience()
        db.session.add(course)
        db.session.flush()
        db.session.add(
            Requirement(
                kind="course",
                course_id=course.id,
                audience=Audience(),
                due_rule="fixed_date",
                due_on=date(2026, 3, 1),
                created_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
        )
        _complete(a1, course, at(3, 10))
        _complete(a2, course, at(3, 11))
        _complete(ids["gone"], course, at(3, 10))
        _complete(ids["c1"], course, at(3, 12))
        change = _announcement(
            "Refund change", at(1, 12), requires_ack=True, effective_on=date(2026, 1, 19)
        )
        _receipts(change, read=(a1, a2, a3), acked=(a1, a2))
        _announcement("Team lunch", at(2, 20), partner_ids=[costa.id])
        hours = _announcement("Holiday hours", at(3, 2))
        _receipts(hours, read=(t,))
        _announcement("Old news", datetime(2025, 12, 15, tzinfo=UTC))
        _announcement("Draft news", at(3, 3), status=AnnouncementStatus.DRAFT)
        db.session.get(User, ids["gone"]).active = False
        db.session.commit()
    ids.update(atlas_id=atlas.id, costa_id=costa.id, people=people)
    return ids


def _in_app(app, call, *args):
    with app.app_context():
        return call(*args)


def _get(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, url
    return response.get_data(as_text=True)

"""Building announcements for tests through the real services."""

import pytest

from portal.announcements import services
from portal.audiences.services import AudienceSpec
from portal.core.clock import utcnow
from portal.extensions import db
from portal.people.models import User


@pytest.fixture
def make_announcement(app):
    """An announcement by ``author`` (a PRM or trainer; None: operator), live unless
    ``publish=False``; ``schedule`` (a timedelta) schedules it that far ahead instead."""

    def make(
        title="Refunds change",
        body="From **Monday** refunds up to $150 need no approval.",
        *,
        author=None,
        publish=True,
        schedule=None,
        audience=None,
        **details,
    ):
        if isinstance(audience, dict):
            audience = AudienceSpec(**audience)
        with app.app_context():
            actor = db.session.get(User, author.id) if author is not None else None
            announcement = services.create_announcement(
                actor,
                services.AnnouncementDetails(
                    title=title, body=body, audience=audience or AudienceSpec(), **details
                ),
            )
            if schedule is not None:
                services.publish(actor, announcement, publish_at=utcnow() + schedule)
            elif publish:
                services.publish(actor, announcement)
            db.session.commit()
            db.session.refresh(announcement)
            db.session.expunge(announcement)
        return announcement

    return make

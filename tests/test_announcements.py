"""Announcements: writing, publishing, scheduling, expiry, withdrawal, the feed and receipts."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.access.visibility import announcements_addressed_to, visible_announcements
from portal.announcements import reading, services
from portal.announcements.models import Announcement, AnnouncementRead
from portal.audiences.services import AudienceSpec
from portal.core.clock import utcnow
from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.notifications.models import Notification
from portal.people.models import User
from tests import announcement_helpers
from tests.helpers import count_queries, login, post

make_announcement = announcement_helpers.make_announcement  # the fixture

HOUR = timedelta(hours=1)


def _count(app, model, **where):
    with app.app_context():
        stmt = select(func.count()).select_from(model)
        for name, value in where.items():
            stmt = stmt.where(getattr(model, name) == value)
        return db.session.scalar(stmt)


def _details(**kwargs):
    kwargs.setdefault("title", "Title")
    kwargs.setdefault("body", "Body")
    return services.AnnouncementDetails(**kwargs)


def _feed_ids(app, person, now=None):
    with app.app_context():
        person = db.session.get(User, person.id)
        return [a.id for a in db.session.scalars(announcements_addressed_to(person, now)).all()]


# --- bad input changes nothing --------------------------------------------------------------


@pytest.mark.parametrize(
    "details, field",
    [
        ({"title": ""}, "title"),
        ({"body": ""}, "body"),
        ({"priority": "shouting"}, "priority"),
        ({"expires_at": utcnow() - HOUR}, "expires_at"),
    ],
)
def test_bad_details_are_refused_and_nothing_is_written(app, make_user, details, field):
    """A missing title or text, an unknown priority or a past expiry gets a message; no row."""
    prm = make_user(role="prm")
    with app.app_context():
        with pytest.raises(InvalidInput) as refused:
            services.create_announcement(db.session.get(User, prm.id), _details(**details))
        db.session.rollback()
    assert field in refused.value.errors
    assert _count(app, Announcement) == 0


def test_trainer_cannot_target_another_partner(app, make_user, make_team):
    """A trainer naming another partner's team gets a clear message and nothing is saved."""
    trainer = make_user(role="trainer")
    other_team = make_team()
    with app.app_context():
        with pytest.raises(InvalidInput) as refused:
            services.create_announcement(
                db.session.get(User, trainer.id),
                _details(audience=AudienceSpec(team_ids=[other_team.id])),
            )
        db.session.rollback()
    assert "own partner" in refused.value.errors["audience_teams"]
    assert _count(app, Announcement) == 0


def test_expiry_before_the_scheduled_time_is_refused(app, make_user, make_announcement):
    """Scheduling after the expiry time is refused and the announcement stays a draft."""
    prm = make_user(role="prm")
    draft = make_announcement(author=prm, publish=False, expires_at=utcnow() + 2 * HOUR)
    with app.app_context():
        row = db.session.get(Announcement, draft.id)
        with pytest.raises(InvalidInput) as refused:
            services.publish(db.session.get(User, prm.id), row, publish_at=utcnow() + 3 * HOUR)
        db.session.rollback()
        assert db.session.get(Announcement, draft.id).status == "draft"
    assert "after the publish time" in refused.value.errors["expires_at"]


def test_scheduled_time_in_the_past_is_refused_on_the_page(
    app, client, make_user, make_announcement
):
    """Scheduling for yesterday shows a message; the announcement stays an unpublished draft."""
    prm = make_user(role="prm", timezone="Asia/Manila")
    draft = make_announcement(author=prm, publish=False)
    login(client, prm)
    url = f"/announcements/{draft.id}"
    response = post(
        client,
        f"{url}/publish",
        {"when": "later", "publish_at": "2020-01-01T09:00"},
        token_from=url,
        follow_redirects=True,
    )
    assert "The scheduled time is in the past" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Announcement, draft.id).status == "draft"
    assert _count(app, Notification) == 0


def test_expiry_before_publish_on_the_form(app, client, make_user):
    """The new-announcement form refuses an expiry that has passed, keeping what was typed."""
    prm = make_user(role="prm")
    login(client, prm)
    response = post(
        client,
        "/announcements/new",
        {
            "title": "Kept title",
            "body": "Text",
            "priority": "info",
            "expires_at": "2020-01-01T09:00",
        },
        token_from="/announcements/new",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "The expiry time has already passed" in page and "Kept title" in page
    assert _count(app, Announcement) == 0


# --- who sees what, and when ----------------------------------------------------------------


def test_drafts_are_invisible_to_agents(app, client, make_user, make_announcement):
    """An agent sees neither a draft in the feed nor its page (404)."""
    prm = make_user(role="prm")
    agent = make_user()
    draft = make_announcement("Secret plans", author=prm, publish=False)
    login(client, agent)
    assert "Secret plans" not in client.get("/announcements/").get_data(as_text=True)
    assert client.get(f"/announcements/{draft.id}").status_code == 404


def test_audience_and_tenant_isolation(
    app, client, make_user, make_partner, make_team, make_announcement
):
    """A trainer's announcement reaches only their partner; audiences narrow by team and role."""
    a, b = make_partner(), make_partner()
    team = make_team(partner=a)
    trainer_a = make_user(role="trainer", partner=a)
    in_team = make_user(partner=a, team=team)
    other_team = make_user(partner=a)
    agent_b = make_user(partner=b)
    local = make_announcement("A only", author=trainer_a)
    team_only = make_announcement(
        "Team only", author=make_user(role="prm"), audience={"team_ids": [team.id]}
    )
    assert set(_feed_ids(app, in_team)) == {local.id, team_only.id}
    assert _feed_ids(app, other_team) == [local.id]
    assert _feed_ids(app, agent_b) == []
    login(client, agent_b)
    for suffix in ("", "/acknowledge", "/receipts", "/edit"):
        method = client.post if suffix == "/acknowledge" else client.get
        assert method(f"/announcements/{local.id}{suffix}").status_code in (404, 400)
    assert client.get(f"/announcements/{local.id}").status_code == 404


def test_scheduled_announcements_appear_at_their_time(app, make_user, make_announcement):
    """A scheduled announcement is not in the feed before its time and is after it."""
    agent = make_user()
    scheduled = make_announcement(author=make_user(role="prm"), schedule=2 * HOUR)
    assert _feed_ids(app, agent) == []
    assert _feed_ids(app, agent, utcnow() + 3 * HOUR) == [scheduled.id]


def test_expired_announcements_leave_the_feed(app, make_user, make_announcement):
    """After its expiry time an announcement is no longer in the feed."""
    agent = make_user()
    shown = make_announcement(author=make_user(role="prm"), expires_at=utcnow() + HOUR)
    assert _feed_ids(app, agent) == [shown.id]
    assert _feed_ids(app, agent, utcnow() + 2 * HOUR) == []


def test_trainer_sees_company_announcements_only_once_published(app, make_user, make_announcement):
    """A trainer may open company announcements reaching their partner, never drafts."""
    prm, trainer = make_user(role="prm"), make_user(role="trainer")
    draft = make_announcement("Draft", author=prm, publish=False)
    live = make_announcement("Live", author=prm)
    with app.app_context():
        viewer = db.session.get(User, trainer.id)
        ids = set(
            db.session.scalars(visible_announcements(viewer).with_only_columns(Announcement.id))
        )
    assert live.id in ids and draft.id not in ids


# --- going live notifies once ---------------------------------------------------------------


def test_publishing_now_notifies_the_audience_once(app, make_user, make_announcement):
    """Publishing notifies each person in the audience; releasing again notifies no one."""
    agents = [make_user() for _ in range(3)]
    make_user(role="agent", active=False)
    make_announcement(author=make_user(role="prm"), priority="urgent")
    assert _count(app, Notification) == len(agents)
    with app.app_context():
        assert services.release_due(utcnow() + HOUR) == 0
    assert _count(app, Notification) == len(agents)


def test_release_due_releases_scheduled_announcements_once(app, make_user, make_announcement):
    """The worker releases a scheduled announcement after its time, once, however often run."""
    agent = make_user()
    scheduled = make_announcement(author=make_user(role="prm"), schedule=HOUR)
    with app.app_context():
        assert services.release_due() == 0
        assert services.release_due(utcnow() + 2 * HOUR) == 1
        assert services.release_due(utcnow() + 3 * HOUR) == 0
        db.session.commit()
        assert db.session.get(Announcement, scheduled.id).released_at is not None
    assert _count(app, Notification, user_id=agent.id) == 1


def test_withdraw_hides_and_keeps_receipts(app, client, make_user, make_announcement):
    """A withdrawn announcement leaves the feed; its read receipts stay."""
    prm, agent = make_user(role="prm"), make_user()
    shown = make_announcement(author=prm)
    login(client, agent)
    assert client.get(f"/announcements/{shown.id}").status_code == 200
    post(client, "/logout")
    login(client, prm)
    url = f"/announcements/{shown.id}"
    post(client, f"{url}/withdraw", token_from=url)
    with app.app_context():
        assert db.session.get(Announcement, shown.id).status == "withdrawn"
    assert _feed_ids(app, agent) == []
    assert _count(app, AnnouncementRead) == 1
    page = client.get(f"{url}/receipts?show=all").get_data(as_text=True)
    assert "Withdrawn; its receipts are kept" in page and agent.name in page


def test_only_drafts_and_scheduled_can_be_edited(app, make_user, make_announcement):
    """Editing a live announcement is refused with a message."""
    prm = make_user(role="prm")
    live = make_announcement(author=prm)
    with app.app_context(), pytest.raises(InvalidInput, match="Only drafts and scheduled"):
        services.update_announcement(
            db.session.get(User, prm.id),
            db.session.get(Announcement, live.id),
            _details(title="Changed"),
        )


def test_author_edits_a_draft_through_the_form(app, client, make_user, make_announcement):
    """A trainer edits their draft's title and the body is rendered sanitized."""
    trainer = make_user(role="trainer")
    draft = make_announcement(author=trainer, publish=False)
    login(client, trainer)
    url = f"/announcements/{draft.id}/edit"
    assert client.get(url).status_code == 200
    response = post(
        client,
        url,
        {
            "title": "New title",
            "priority": "important",
            "body": "Hi <script>alert(1)</script> **there**",
        },
        token_from=url,
    )
    assert response.status_code == 302
    with app.app_context():
        row = db.session.get(Announcement, draft.id)
        assert row.title == "New title"
        assert "<script>" not in row.html and "<strong>there</strong>" in row.html


# --- reading: receipts, badge, banner -------------------------------------------------------


def test_opening_records_one_read_receipt_and_clears_the_badge(
    app, client, make_user, make_announcement
):
    """The nav shows one unread; opening twice writes one receipt and the badge goes."""
    agent = make_user()
    shown = make_announcement(author=make_user(role="prm"))
    login(client, agent)
    home = client.get("/").get_data(as_text=True)
    assert '1<span class="visually-hidden"> unread</span>' in home
    client.get(f"/announcements/{shown.id}")
    client.get(f"/announcements/{shown.id}")
    assert _count(app, AnnouncementRead) == 1
    assert (
        '<span class="visually-hidden"> unread</span>'
        not in client.get("/").get_data(as_text=True).split("Notifications")[0]
    )


def test_urgent_banner_stays_until_acknowledged(app, client, make_user, make_announcement):
    """An urgent announcement asking for acknowledgement shows on every page until acked."""
    agent = make_user()
    urgent = make_announcement(
        "Outage now", author=make_user(role="prm"), priority="urgent", requires_ack=True
    )
    login(client, agent)
    assert "Outage now" in client.get("/library/").get_data(as_text=True)
    client.get(f"/announcements/{urgent.id}")
    assert "urgent-banner" in client.get("/library/").get_data(as_text=True)
    url = f"/announcements/{urgent.id}"
    post(client, f"{url}/acknowledge", token_from=url)
    post(client, f"{url}/acknowledge", token_from=url)
    assert "urgent-banner" not in client.get("/library/").get_data(as_text=True)
    with app.app_context():
        from portal.announcements.models import AnnouncementAck

        assert db.session.scalar(select(func.count()).select_from(AnnouncementAck)) == 1


def test_urgent_banner_without_ack_goes_once_read(client, make_user, make_announcement):
    """An urgent announcement that asks no acknowledgement leaves the banner once opened."""
    agent = make_user()
    urgent = make_announcement("Read me", author=make_user(role="prm"), priority="urgent")
    login(client, agent)
    assert "urgent-banner" in client.get("/profile").get_data(as_text=True)
    client.get(f"/announcements/{urgent.id}")
    assert "urgent-banner" not in client.get("/profile").get_data(as_text=True)


def test_acknowledging_what_asks_no_ack_is_refused(app, make_user, make_announcement):
    """Acknowledging an announcement that asks for none gets a message and writes nothing."""
    agent = make_user()
    shown = make_announcement(author=make_user(role="prm"))
    with app.app_context(), pytest.raises(InvalidInput, match="does not ask"):
        reading.acknowledge(db.session.get(User, agent.id), db.session.get(Announcement, shown.id))


def test_feed_pins_on_top_and_its_query_count_is_flat(app, client, make_user, make_announcement):
    """Pinned first, then newest; the feed page costs the same queries for 2 or 12 items."""
    agent = make_user()
    prm = make_user(role="prm")
    pinned = make_announcement("Pinned one", author=prm, pinned=True)
    make_announcement("Newer one", author=prm, priority="urgent")
    login(client, agent)
    page = client.get("/announcements/").get_data(as_text=True).split("announcement-feed")[1]
    assert page.index("Pinned one") < page.index("Newer one")
    assert pinned.id
    with count_queries(app) as few:
        client.get("/announcements/")
    for n in range(10):
        make_announcement(f"More {n}", author=prm, priority="urgent", pinned=n % 2 == 0)
    with count_queries(app) as many:
        client.get("/announcements/")
    assert few() == many()

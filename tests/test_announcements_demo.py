"""The demo data includes announcements and one process change, loaded once."""

from sqlalchemy import select

from portal.announcements.models import Announcement
from portal.core.clock import utcnow
from portal.extensions import db


def test_demo_load_adds_announcements_and_a_process_change_once(app, runner):
    """`demo load` adds five announcements (one a process change); running it again adds none."""
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "Announcements: 5 created" in first.output
    second = runner.invoke(args=["demo", "load"])
    assert "Announcements: 0 created" in second.output
    with app.app_context():
        rows = db.session.scalars(select(Announcement)).all()
        states = sorted(a.state(utcnow()) for a in rows)
        changes = [a for a in rows if a.is_process_change]
        assert len(rows) == 5 and states.count("scheduled") == 1
        assert len(changes) == 1 and changes[0].requires_ack and changes[0].effective_on
        assert sum(a.partner_id is not None for a in rows) == 1

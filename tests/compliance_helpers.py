"""A compliance world other compliance tests may reuse: two partners, one item of each kind.

Built through the services (acknowledgements, completions, enrolments), with publication
times moved back where a due date must have passed. Today is the real today.

Alpha BPO (teams Alpha Billing, Alpha Sales) and Bravo BPO (team Bravo Desk, and Nia of no
team). Hired 200 days ago unless "new" (hired 5 days ago). Charlie BPO is deactivated (Carl
appears nowhere), Gil is deactivated (nowhere either).

| person (partner, team)       | document   | course     | announcement | path    |
|------------------------------|------------|------------|--------------|---------|
| Tess Trainer (A, Billing)    | done       | —          | done         | —       |
| Ada Done (A, Billing)        | done       | done       | done         | —       |
| Otto Overdue (A, Billing)    | overdue    | overdue    | overdue      | —       |
| Pia Pending (A, Sales), new  | pending    | pending    | pending      | pending |
| Rex Late (A, Sales)          | done       | overdue    | overdue      | overdue |
| Bea Bravo (B, Desk)          | done       | overdue    | overdue      | —       |
| Ben Bravo (B, Desk)          | done       | expiring   | done         | done    |
| Nia Newhire (B, none), new   | pending    | pending    | pending      | pending |

The document "Refund playbook" (everyone, published 30 days ago), the course "Data privacy"
(required of agents, 14 days after hire; valid a year, expiring within 30 days), the
announcement "New refund limit" (published 30 days ago, acknowledge within 14 days), the path
"Agent 90-day path" (complete "Data privacy" by day 10).
"""

from types import SimpleNamespace

import pytest
from sqlalchemy import update

from portal.acknowledgements.services import acknowledge
from portal.announcements import reading
from portal.announcements import services as announcements
from portal.audiences.services import AudienceSpec
from portal.extensions import db
from portal.library.models import Document, DocumentVersion
from portal.onboarding.enrolment import enrol_by_hand
from portal.partners.models import Partner
from portal.people.models import User
from tests.onboarding_helpers import path_with_steps
from tests.training_report_helpers import ago, make_course, require, set_active, take

# (kind, partner) -> (people, complete, overdue) on the PRM's dashboard.
EXPECTED = {
    ("document", "alpha"): (5, 3, 1),
    ("document", "bravo"): (3, 2, 0),
    ("course", "alpha"): (4, 1, 2),
    ("course", "bravo"): (3, 1, 1),
    ("announcement", "alpha"): (5, 2, 2),
    ("announcement", "bravo"): (3, 1, 1),
    ("path", "alpha"): (2, 0, 1),
    ("path", "bravo"): (2, 1, 0),
}
TITLES = {
    "document": "Refund playbook",
    "course": "Data privacy",
    "announcement": "New refund limit",
    "path": "Agent 90-day path",
}


def _get(user):
    return db.session.get(User, user.id)


def build_world(app, make_partner, make_team, make_user, make_document):
    """The world of the module docstring; returns a namespace of its objects and ids."""
    w = SimpleNamespace()
    w.alpha = make_partner(name="Alpha BPO")
    w.bravo = make_partner(name="Bravo BPO")
    w.charlie = make_partner(name="Charlie BPO")
    w.billing = make_team(partner=w.alpha, name="Alpha Billing")
    w.sales = make_team(partner=w.alpha, name="Alpha Sales")
    w.desk = make_team(partner=w.bravo, name="Bravo Desk")
    w.prm = make_user("prm", name="Pam Prm")
    w.admin = make_user("admin", name="Ann Admin")

    def person(name, partner, team, *, new=False, role="agent"):
        hired = ago(5 if new else 200)
        return make_user(
            role=role,
            partner=partner,
            team=team,
            name=name,
            created_at=hired,
            hire_date=hired.date(),
        )

    w.tess = person("Tess Trainer", w.alpha, w.billing, role="trainer")
    w.ada = person("Ada Done", w.alpha, w.billing)
    w.otto = person("Otto Overdue", w.alpha, w.billing)
    w.pia = person("Pia Pending", w.alpha, w.sales, new=True)
    w.rex = person("Rex Late", w.alpha, w.sales)
    w.gil = person("Gil Gone", w.alpha, w.sales)
    w.bea = person("Bea Bravo", w.bravo, w.desk)
    w.ben = person("Ben Bravo", w.bravo, w.desk)
    w.nia = person("Nia Newhire", w.bravo, None, new=True)
    w.carl = person("Carl Charlie", w.charlie, None)
    w.trainer, w.agent = w.tess, w.ada

    w.document = make_document(TITLES["document"], requires_ack=True).id
    w.course = make_course(app, None, TITLES["course"], validity_days=365)
    w.requirement = require(
        app, w.prm, w.course, audience=AudienceSpec(roles=["agent"]), warning_days=30
    )
    for who, days in ((w.ada, 100), (w.ben, 340)):
        take(app, who, w.course, days)
    with app.app_context():
        db.session.execute(
            update(DocumentVersion)
            .where(DocumentVersion.document_id == w.document)
            .values(published_at=ago(30))
        )
        document = db.session.get(Document, w.document)
        for who in (w.tess, w.ada, w.rex, w.bea, w.ben):
            acknowledge(_get(who), document, document.current_version_id)
        note = announcements.create_announcement(
            _get(w.prm),
            announcements.AnnouncementDetails(
                title=TITLES["announcement"],
                body="Refunds up to 150 USD need no approval.",
                requires_ack=True,
            ),
            now=ago(30),
        )
        announcements.publish(_get(w.prm), note, now=ago(30))
        db.session.flush()
        for who in (w.tess, w.ada, w.ben):
            reading.acknowledge(_get(who), note)
        w.announcement = note.id
        db.session.commit()
        # New hires (Pia, Nia) are enrolled on publishing; Rex and Ben by hand.
        path = path_with_steps(
            None,
            [{"kind": "course", "course": w.course, "title": "Data privacy", "due_day": 10}],
            title=TITLES["path"],
        )
        w.path = path.id
        for who in (w.rex, w.ben):
            enrol_by_hand(
                _get(w.prm), _get(who), path, start=ago(30).date(), reason="Moved to the floor"
            )
        db.session.commit()
    set_active(app, User, w.gil.id, False)
    set_active(app, Partner, w.charlie.id, False)
    w.items = {
        "document": w.document,
        "course": w.course,
        "announcement": w.announcement,
        "path": w.path,
    }
    return w


@pytest.fixture(name="compliance_world")
def compliance_world_fixture(app, make_partner, make_team, make_user, make_document):
    return build_world(app, make_partner, make_team, make_user, make_document)

"""Requirement pages: the list, requiring a course or a document, one requirement's people."""

import csv
import io
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.audiences.services import AudienceSpec
from portal.extensions import db
from portal.mail.models import OutboxMessage
from portal.notifications.models import Notification
from portal.training.models import Requirement
from tests.helpers import count_queries, login, post
from tests.training_report_helpers import (
    ago,
    make_course,
    require,
    rows,
    stat,
    switch,
    world_fixture,  # noqa: F401 - the world fixture
)

NEW = "/training/requirements/new"


def page(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, url
    return response.get_data(as_text=True)


def counted(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def notifications(app):
    with app.app_context():
        return db.session.execute(
            select(Notification.user_id, Notification.title, Notification.url).order_by(
                Notification.user_id
            )
        ).all()


def submit(client, data):
    fields = {"due_days": "", "due_on": "", "warning_days": "30", **data}
    return post(client, NEW, fields, token_from=NEW)


# --- the list -------------------------------------------------------------------------------


def test_prm_sees_each_requirement_with_its_rule_and_figures(client, world, app, make_document):
    """The list gives the target, audience, due rule in words and everyone's figures."""
    doc = make_document("Refund policy", requires_ack=True)
    require(
        app, world.prm, doc.id, kind="document", due_rule="fixed_date", due_on=date(2027, 1, 31)
    )
    escalations = make_course(app, world.prm, "Escalations")
    require(app, world.prm, escalations, due_rule="after_required", due_days=30, days_ago=0)
    login(client, world.prm)
    listed = rows(page(client, "/training/requirements"))
    assert len(listed) == 3
    privacy = next(r for r in listed if r.startswith("Data privacy"))
    assert "Agents" in privacy and "Within 14 days of hire" in privacy
    assert privacy.split("Renewal warning 30 days before expiry ")[1].split()[:5] == [
        "3", "/", "8", "1", "2",
    ]  # fmt: skip
    assert "By 31 Jan 2027" in next(r for r in listed if r.startswith("Refund policy"))
    today = ago(0).date()
    assert f"Within 30 days of {today.day} {today:%b %Y}" in listed[0]
    assert all("Withdraw" in r for r in listed)


def test_trainer_sees_company_requirements_read_only(client, world, app, make_user):
    """A trainer sees company-wide requirements reaching their partner (figures for their own
    people, no withdraw button) and their own; another partner's answer 404."""
    own_course = make_course(app, world.trainer, "Alpha floor basics")
    own = require(app, world.trainer, own_course, days_ago=1)
    bravo_trainer = make_user(role="trainer", partner=world.bravo)
    bravo = require(app, bravo_trainer, make_course(app, bravo_trainer, "Bravo basics"))
    login(client, world.trainer)
    listed = rows(page(client, "/training/requirements"))
    assert [r.split(" Complete")[0] for r in listed] == ["Alpha floor basics", "Data privacy"]
    assert "Withdraw" in listed[0] and "Withdraw" not in listed[1]
    assert "company-wide" in listed[1] and "2 / 6" in listed[1]
    page(client, f"/training/requirements/{bravo}", 404)
    page(client, f"/training/requirements/{own}")
    response = post(client, f"/training/requirements/{world.requirement}/withdraw")
    assert response.status_code == 302
    assert "responsible for" in page(client, f"/training/requirements/{world.requirement}")
    with app.app_context():
        assert db.session.get(Requirement, world.requirement).withdrawn_at is None


def test_withdrawing_moves_it_to_the_withdrawn_list(client, world, app):
    """Withdrawn requirements leave the active list, show under 'Withdrawn', apply to nobody."""
    login(client, world.prm)
    response = post(client, f"/training/requirements/{world.requirement}/withdraw")
    assert response.headers["Location"].endswith(f"/training/requirements/{world.requirement}")
    html = page(client, f"/training/requirements/{world.requirement}")
    assert "Withdrawn:" in html and "applies to nobody now" in html
    assert rows(page(client, "/training/requirements")) == []
    assert "Data privacy" in page(client, "/training/requirements?state=withdrawn")
    assert "Data privacy" not in page(
        client, "/training/requirements?state=withdrawn&kind=document"
    )


def test_agents_may_not_see_requirement_pages(client, world):
    """Agents get 403 on the list and the form, 404 on a requirement and its actions."""
    login(client, world.agent)
    page(client, "/training/requirements", 403)
    page(client, NEW, 403)
    page(client, f"/training/requirements/{world.requirement}", 404)
    page(client, f"/training/requirements/{world.requirement}.csv", 404)


# --- requiring ------------------------------------------------------------------------------


def test_the_form_offers_what_the_author_may_require(client, world, app, make_user, make_document):
    """Targets are published courses and acknowledgement documents the author sees."""
    make_course(app, world.prm, "Draft course", publish=False)
    bravo_trainer = make_user(role="trainer", partner=world.bravo)
    make_course(app, bravo_trainer, "Bravo basics")
    own = make_course(app, world.trainer, "Alpha floor basics")
    make_document("Refund policy", requires_ack=True)
    make_document("Style guide", requires_ack=False)
    login(client, world.trainer)
    html = page(client, f"{NEW}?course_id={own}")
    assert "Data privacy" in html and "Refund policy" in html
    for hidden in ("Draft course", "Bravo basics", "Style guide", "Bravo Desk"):
        assert hidden not in html
    assert f'<option selected value="course:{own}">' in html
    assert "Alpha Sales" in html and 'name="audience_partners"' not in html


def test_requiring_notifies_the_people_now_pending(client, world, app):
    """A new requirement notifies those who have not done it, naming the common due date."""
    before = counted(app, Notification)
    login(client, world.prm)
    response = submit(
        client,
        {
            "target": f"course:{world.course}",
            "due_rule": "fixed_date",
            "due_on": "2027-01-31",
            "audience_teams": [str(world.billing.id)],
        },
    )
    assert response.status_code == 302
    requirement_id = int(response.headers["Location"].rsplit("/", 1)[1])
    html = page(client, response.headers["Location"])
    assert "1 person has been told it applies to them" in html
    assert "Everyone at Alpha Billing team, by 31 Jan 2027" in html
    # Ada and Tess completed, Eve's is still valid: only Otto is told.
    new = notifications(app)[before:]
    assert new == [(world.otto.id, "Required: Data privacy by 31 Jan 2027", "/training/courses/1")]
    with app.app_context():
        mail = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
        assert (mail.user_id, mail.template) == (world.otto.id, "requirement")
        assert db.session.get(Requirement, requirement_id).created_by_id == world.prm.id


def test_a_due_date_that_differs_per_person_is_left_out_of_the_title(client, world, app):
    """Under an after-hire rule each person has their own date; the title names none."""
    escalations = make_course(app, world.prm, "Escalations")
    login(client, world.prm)
    response = submit(
        client,
        {
            "target": f"course:{escalations}",
            "due_rule": "after_hire",
            "due_days": "14",
            "audience_teams": [str(world.sales.id)],
        },
    )
    assert response.status_code == 302
    titles = {(user_id, title) for user_id, title, _ in notifications(app)}
    assert titles == {(p.id, "Required: Escalations") for p in (world.ivan, world.pia, world.rex)}


def test_requiring_a_document_links_to_the_library(client, world, app, make_document):
    """A document requirement sends people to the document, and its page says acknowledged."""
    doc = make_document("Refund policy", requires_ack=True)
    login(client, world.prm)
    response = submit(
        client,
        {"target": f"document:{doc.id}", "due_rule": "after_required", "due_days": "7"},
    )
    assert response.status_code == 302
    urls = {url for _, _, url in notifications(app)}
    assert urls == {f"/library/{doc.id}"}
    html = page(client, response.headers["Location"])
    assert "Acknowledge “Refund policy”" in html and "acknowledged" in html


BAD = [
    ("no rule", {}, "Choose when it is due"),
    ("no date", {"due_rule": "fixed_date"}, "Give the date it is due on"),
    ("negative", {"due_rule": "after_hire", "due_days": "-3"}, "0 or more"),
    ("not a number", {"due_rule": "after_hire", "due_days": "two"}, "whole number"),
    ("no target", {"target": "", "due_rule": "after_hire", "due_days": "3"}, "Choose a course"),
    ("draft", {"target": "draft", "due_rule": "after_hire", "due_days": "3"}, "not published"),
    ("other partner", {"target": "bravo", "due_rule": "after_hire", "due_days": "3"}, "can see"),
    (
        "other team",
        {"due_rule": "after_hire", "due_days": "3", "audience_teams": "desk"},
        "can only name its own partner",
    ),
]


@pytest.mark.parametrize(("case", "data", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_gets_a_message_and_writes_nothing(
    client, world, app, make_user, case, data, message
):
    """Each mistake is explained on the form, what was typed stays, and nothing is saved."""
    bravo_trainer = make_user(role="trainer", partner=world.bravo)
    targets = {
        "draft": f"course:{make_course(app, world.trainer, 'Draft', publish=False)}",
        "bravo": f"course:{make_course(app, bravo_trainer, 'Bravo basics')}",
    }
    data = {"target": f"course:{world.course}", "warning_days": "45", **data}
    data["target"] = targets.get(data["target"], data["target"])
    if data.get("audience_teams") == "desk":
        data["audience_teams"] = [str(world.desk.id)]
    before = (counted(app, Requirement), counted(app, Notification), counted(app, OutboxMessage))
    login(client, world.trainer)
    response = submit(client, data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message in html
    assert 'value="45"' in html  # the warning days typed are kept
    after = (counted(app, Requirement), counted(app, Notification), counted(app, OutboxMessage))
    assert after == before


# --- one requirement ------------------------------------------------------------------------


def test_requirement_page_lists_people_with_due_dates(client, world):
    """Each person in scope with their due date and status; filters and figures follow."""
    login(client, world.prm)
    url = f"/training/requirements/{world.requirement}"
    html = page(client, url)
    assert (stat(html, "overdue"), stat(html, "pending"), stat(html, "expiring soon")) == (
        "3",
        "2",
        "1",
    )
    assert stat(html, "completed") == "2" and stat(html, "of 8 done") == "38%"
    listed = rows(html)
    assert [" ".join(r.split()[:2]) for r in listed] == [
        "Bea Bravo", "Otto Overdue", "Rex Recert", "Ivan Inprogress", "Pia Pending",
        "Eve Expiring", "Ada Done", "Ben Bravo",
    ]  # fmt: skip
    assert ago(-9).strftime("%d %b %Y") in listed[3]  # 14 days after a hire 5 days ago
    team = rows(page(client, f"{url}?team={world.sales.id}&status=overdue"))
    assert [" ".join(r.split()[:2]) for r in team] == ["Rex Recert"]
    switch(client, world.trainer)
    assert "Bravo" not in page(client, url)
    page(client, f"{url}?partner={world.bravo.id}", 404)
    page(client, f"{url}.csv?team={world.desk.id}", 404)


def test_requirement_csv(client, world):
    """The CSV lists the filtered people with ISO dates."""
    login(client, world.prm)
    response = client.get(f"/training/requirements/{world.requirement}.csv?status=expiring")
    assert response.mimetype == "text/csv"
    table = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert table[0] == [
        "Name", "Email", "Partner", "Team", "Status", "Due on", "Completed at (UTC)",
        "Completion expires on",
    ]  # fmt: skip
    (eve,) = table[1:]
    assert eve[0] == "Eve Expiring" and eve[4] == "Expiring soon"
    assert eve[5] == eve[7] == ago(-10).date().isoformat()
    assert eve[6].startswith(ago(355).date().isoformat())


def test_statement_counts_do_not_grow(client, world, app, make_user):
    """The list and a requirement's page cost the same statements for more rows."""
    login(client, world.prm)
    urls = ["/training/requirements", f"/training/requirements/{world.requirement}"]

    def counts():
        found = {}
        for url in urls:
            with count_queries(app) as n:
                assert client.get(url).status_code == 200
            found[url] = n()
        return found

    def grow(count):
        for n in range(count):
            make_user(partner=world.alpha, team=world.sales, created_at=ago(100))
            course = make_course(app, world.prm, f"Course {n} {counted(app, Requirement)}")
            require(app, world.prm, course, audience=AudienceSpec(team_ids=[world.sales.id]))

    grow(2)
    small = counts()
    grow(10)
    assert counts() == small

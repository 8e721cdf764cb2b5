"""The onboarding pages: the new hire's own path, a person's path with sign-offs and start
dates, enrolling by hand, and who may do what."""

from datetime import timedelta

import pytest
from flask import render_template_string
from sqlalchemy import select

from portal.extensions import db
from portal.onboarding.models import Enrolment, SignOff
from portal.training.services import active_lessons
from portal.training.taking import complete_lesson
from tests.helpers import login, post
from tests.onboarding_page_helpers import (  # noqa: F401 - fixtures
    TODAY,
    frozen_noon_fixture,
    later,
    page,
    records,
    switch,
    text_of,
    words,
    world_fixture,
)


def test_the_new_hire_sees_day_phases_next_overdue_and_links(client, world):
    """Day 23 of 90, the three phases, the overdue document, what is next, and the links."""
    login(client, world.agent)
    html = text_of(page(client, "/onboarding/"))
    assert "Day 23 of 90" in html
    for phase in ("Days 1-30", "Days 31-60", "Days 61-90"):
        assert phase in html
    assert "0 of 5 steps done" in html
    overdue = html.split(">Overdue</h3>")[1].split(">Next</h3>")[0]
    for title in ("Read the escalation playbook", "Brand basics course", "Shadow five live calls"):
        assert title in overdue
    upcoming = html.split(">Next</h3>")[1].split(">Done</h3>")[0]
    assert "First QA calibration" in upcoming
    assert f'href="/library/{world.document.id}"' in html
    assert f'href="/training/courses/{world.course_id}"' in html
    assert "Your trainer signs this off" in html
    assert "Onboarding board" not in html  # agents do not follow others


def test_acknowledging_in_the_library_marks_the_step_done(client, world, app):
    """The acknowledgement made on the document's page is what makes the step done."""
    login(client, world.agent)
    with app.app_context():
        from portal.library.models import Document

        version_id = db.session.get(Document, world.document.id).current_version_id
    response = post(
        client,
        f"/library/{world.document.id}/acknowledge",
        {"version_id": version_id},
        token_from=f"/library/{world.document.id}",
    )
    assert response.status_code == 302
    html = text_of(page(client, "/onboarding/"))
    assert "1 of 5 steps done" in html
    done = html.split(">Done</h3>")[1]
    assert "Read the escalation playbook" in done
    overdue = html.split(">Overdue</h3>")[1].split(">Next</h3>")[0]
    assert "Read the escalation playbook" not in overdue


def test_before_day_one_and_with_no_path(client, world, make_user, app):
    """A start ahead reads "Starts in N days"; someone on no path gets an explanation."""
    with app.app_context():
        enrolment = db.session.get(Enrolment, world.enrolment_id)
        enrolment.start_date = later(5)
        db.session.commit()
    login(client, world.agent)
    assert "Starts in 5 days" in text_of(page(client, "/onboarding/"))
    veteran = make_user("agent", partner=world.partner, hire_date=TODAY - timedelta(days=400))
    switch(client, veteran)
    assert "You are not on an onboarding path" in page(client, "/onboarding/")


def _sign(client, world, title, comment, action="sign-off"):
    url = f"/onboarding/enrolments/{world.enrolment_id}/steps/{world.steps[title]}/{action}"
    return post(
        client,
        url,
        {"comment": comment},
        token_from=f"/onboarding/enrolments/{world.enrolment_id}",
    )


def test_trainer_signs_off_reverses_and_the_person_becomes_production_ready(client, world, app):
    """Sign-off with a comment, reversal with a reason (both kept), then production-ready."""
    login(client, world.trainer)
    response = _sign(client, world, "Shadow five live calls", "Shadowed five calls with Jo.")
    assert response.status_code == 302
    html = text_of(page(client, response.headers["Location"]))
    assert "Signed off “Shadow five live calls”" in html
    assert "Signed off by Tess Trainer" in html and "Shadowed five calls with Jo." in html
    assert "Reverse this sign-off" in html

    refused = _sign(client, world, "Shadow five live calls", "  ", action="reverse")
    assert refused.status_code == 422
    assert "Say why the sign-off is reversed" in refused.get_data(as_text=True)
    assert records(app)[0] == 1
    response = _sign(client, world, "Shadow five live calls", "Wrong person.", action="reverse")
    html = text_of(page(client, response.headers["Location"]))
    assert "Sign-off reversed by Tess Trainer" in html and "Wrong person." in html
    assert records(app)[0] == 2

    with app.app_context():
        from portal.acknowledgements.services import acknowledge
        from portal.library.models import Document
        from portal.people.models import User
        from portal.training.models import Course

        agent = db.session.get(User, world.agent.id)
        document = db.session.get(Document, world.document.id)
        acknowledge(agent, document, document.current_version_id)
        course = db.session.get(Course, world.course_id)
        complete_lesson(agent, course, active_lessons(course)[0])
        db.session.commit()
    _sign(client, world, "Shadow five live calls", "Did it again, properly.")
    assert "Production-ready" not in page(client, f"/onboarding/enrolments/{world.enrolment_id}")
    _sign(client, world, "First QA calibration", "")
    html = words(page(client, f"/onboarding/enrolments/{world.enrolment_id}"))
    assert f"Production-ready since {TODAY.strftime('%-d %b %Y')}" in html
    board = words(page(client, "/onboarding/board?status=ready"))
    assert "Ana Reyes" in board and f"since {TODAY.strftime('%-d %b %Y')}" in board
    switch(client, world.agent)
    mine = text_of(page(client, "/onboarding/"))
    assert "Production-ready" in mine and "Did it again, properly." in mine


@pytest.mark.parametrize("who", ["prm", "stranger", "agent"])
def test_sign_off_by_anyone_but_that_partners_trainer_writes_nothing(client, world, app, who):
    """A PRM sees no button and is refused; another partner's trainer and agents get 404."""
    login(client, getattr(world, who))
    before = records(app)
    url = f"/onboarding/enrolments/{world.enrolment_id}"
    if who == "prm":
        html = page(client, url)
        assert "Ana Reyes" in html and "Sign off</button>" not in html
        response = _sign(client, world, "Shadow five live calls", "Looks fine.")
        assert response.status_code == 422
        assert "Only a trainer of this person&#39;s partner" in response.get_data(as_text=True)
    else:
        page(client, url, 404)
        response = post(
            client,
            f"{url}/steps/{world.steps['Shadow five live calls']}/sign-off",
            {"comment": "x"},
            token_from="/onboarding/",
        )
        assert response.status_code == 404
    assert records(app) == before


def test_access_matrix(client, world):
    """Agents: 403 on the board and enrol, 404 on enrolments; other partners' ids answer 404."""
    login(client, world.agent)
    page(client, "/onboarding/board", 403)
    page(client, "/onboarding/enrol", 403)
    page(client, f"/onboarding/enrolments/{world.enrolment_id}", 404)
    switch(client, world.stranger)
    page(client, f"/onboarding/enrolments/{world.enrolment_id}", 404)
    page(client, f"/onboarding/board?team={world.team.id}", 404)
    page(client, f"/onboarding/board?partner={world.partner.id}", 404)
    assert "Ana Reyes" not in page(client, "/onboarding/board")
    switch(client, world.prm)
    assert "Ana Reyes" in page(client, f"/onboarding/board?partner={world.partner.id}")
    page(client, "/onboarding/enrolments/999999", 404)


@pytest.mark.parametrize(
    "start, reason, message",
    [
        ("", "Sick leave", "Give a start date"),
        ("not a date", "Sick leave", "Enter a date such as"),
        (later(40).isoformat(), "Sick leave", "at most 30 days ahead"),
        (later(-30).isoformat(), "Sick leave", "before their hire date"),
        (later(3).isoformat(), "   ", "Say why, for the record"),
    ],
)
def test_bad_start_dates_and_missing_reasons_write_nothing(
    client, world, app, start, reason, message
):
    """Moving a start date with bad input re-shows the page with the message."""
    login(client, world.trainer)
    before = records(app)
    url = f"/onboarding/enrolments/{world.enrolment_id}"
    response = post(client, f"{url}/start", {"start_date": start, "reason": reason}, token_from=url)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert records(app) == before


def test_moving_the_start_date_is_recorded_with_who_and_why(client, world, app):
    """The new day 1 shows at once, with the change and its reason in the history."""
    login(client, world.trainer)
    url = f"/onboarding/enrolments/{world.enrolment_id}"
    response = post(
        client,
        f"{url}/start",
        {"start_date": later(-2).isoformat(), "reason": "Sick leave in week one"},
        token_from=url,
    )
    assert response.status_code == 302
    html = text_of(page(client, url))
    assert "Day 3 of 90" in html
    assert "Sick leave in week one" in html and "by Tess Trainer" in html
    with app.app_context():
        assert db.session.get(Enrolment, world.enrolment_id).start_date == later(-2)


def test_enrol_by_hand(client, world, make_user, app):
    """A trainer enrols a transferred agent with a reason; bad input writes nothing."""
    moved = make_user(
        "agent", partner=world.partner, hire_date=TODAY - timedelta(days=300), name="Mo Moved"
    )
    other = make_user("agent", hire_date=TODAY, name="Not Ours")
    login(client, world.trainer)
    form = page(client, "/onboarding/enrol")
    assert "Mo Moved" in form and "Not Ours" not in form
    before = records(app)
    data = {"person": moved.id, "path": world.path_id, "start_date": TODAY.isoformat()}
    refused = post(
        client, "/onboarding/enrol", {**data, "reason": ""}, token_from="/onboarding/enrol"
    )
    assert refused.status_code == 422 and "Say why, for the record" in refused.get_data(
        as_text=True
    )
    stranger = post(
        client,
        "/onboarding/enrol",
        {**data, "person": other.id, "reason": "x"},
        token_from="/onboarding/enrol",
    )
    assert "Choose one of the people in the list" in stranger.get_data(as_text=True)
    again = post(
        client,
        "/onboarding/enrol",
        {**data, "person": world.agent.id, "reason": "x"},
        token_from="/onboarding/enrol",
    )
    assert "already on this path" in again.get_data(as_text=True)
    assert records(app) == before
    done = post(
        client,
        "/onboarding/enrol",
        {**data, "reason": "Moved to the billing queue"},
        token_from="/onboarding/enrol",
    )
    assert done.status_code == 302
    html = text_of(page(client, done.headers["Location"]))
    assert "Mo Moved" in html and "Day 1 of 90" in html and "Moved to the billing queue" in html
    with app.app_context():
        enrolment = db.session.scalars(select(Enrolment).where(Enrolment.user_id == moved.id)).one()
        assert (enrolment.how, enrolment.enrolled_by_id) == ("manual", world.trainer.id)


def test_a_prm_chooses_the_partner_first(client, world):
    """PRMs pick a partner, then its people; an unknown partner answers 404."""
    login(client, world.prm)
    assert "Choose a partner" in page(client, "/onboarding/enrol")
    assert "Ana Reyes" in page(client, f"/onboarding/enrol?partner={world.partner.id}")
    page(client, "/onboarding/enrol?partner=999999", 404)


def test_the_home_card_summary(app, world):
    """home_summary gives day N, the path and the next step in a fixed number of queries."""
    from portal.onboarding.board import home_summary
    from portal.people.models import User
    from tests.helpers import count_queries

    with app.app_context():
        agent = db.session.get(User, world.agent.id)
        with count_queries(app) as n:
            (card,) = home_summary(agent, TODAY)
        assert n() == 2
        assert (card.day, card.path_title, card.overdue) == (23, "Agent 90-day path", 3)
        assert card.next_title == "Read the escalation playbook"
        assert db.session.scalar(select(SignOff.id)) is None
        trainer = db.session.get(User, world.trainer.id)
        assert home_summary(trainer, TODAY) == []
    with app.test_request_context("/"):
        html = render_template_string(
            '{% from "onboarding/_home_card.html" import onboarding_card %}'
            "{{ onboarding_card(cards) }}",
            cards=[card],
        )
    assert "Day 23 of 90" in words(html) and "next: Read the escalation playbook" in html
    assert 'href="/onboarding/"' in html

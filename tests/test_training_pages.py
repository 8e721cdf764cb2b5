"""The learner's training pages: My training, a course, its lessons, completions, verification."""

import re

import pytest

from portal.extensions import db
from portal.people.models import User
from portal.training import routes
from portal.training.models import Course, Lesson
from portal.training.services import archive_course, remove_lesson
from tests.helpers import count_queries, csrf_token, login
from tests.training_page_helpers import (
    LONG_AGO,
    answers,
    attempt_id_of,
    completion_of,
    counts,
    publish,
    require,
    snapshot,
)


@pytest.fixture
def people(make_partner, make_user):
    partner = make_partner(name="Alpha BPO")
    elsewhere = make_partner(name="Bravo BPO")
    return {
        "partner": partner,
        "prm": make_user(role="prm", name="Pia Prm"),
        "agent": make_user(role="agent", partner=partner, name="Ana Agent", created_at=LONG_AGO),
        "colleague": make_user(role="agent", partner=partner, name="Carl Colleague"),
        "trainer": make_user(role="trainer", partner=partner, name="Tess Trainer"),
        "stranger": make_user(role="trainer", partner=elsewhere, name="Sam Stranger"),
        "outsider": make_user(role="agent", partner=elsewhere, name="Olga Outsider"),
    }


def sign_in(client, user) -> str:
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert login(client, user).status_code == 302
    return csrf_token(client, "/training/")


def send(client, token, url, data=None):
    return client.post(url, data={**(data or {}), "csrf_token": token})


def text_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def lesson_url(course, n) -> str:
    return f"/training/courses/{course.course_id}/lessons/{course.lesson_ids[n]}"


def complete(client, token, app, course):
    """Read every lesson and, when there is a quiz, pass it."""
    for n in range(len(course.lesson_ids)):
        send(client, token, lesson_url(course, n))
    response = send(client, token, f"/training/courses/{course.course_id}/quiz")
    if response.location.endswith(f"/training/courses/{course.course_id}"):
        client.get("/training/")  # no quiz; shows, and so clears, the messages
        return
    attempt_id = attempt_id_of(response)
    send(client, token, f"/training/attempts/{attempt_id}", answers(snapshot(app, attempt_id)))
    client.get("/training/")  # shows, and so clears, the messages


def section(page, heading) -> str:
    """The part of My training under one status heading."""
    start = page.index(f">{heading}</h2>")
    end = page.find("</section>", start)
    return page[start:end]


def test_my_training_groups_courses_by_status_with_due_dates(app, client, people):
    """Overdue, expiring, in progress, not started and completed, each with what to do next."""
    prm = people["prm"]
    overdue = publish(app, prm, "Handling escalations", questions=0, estimated_minutes=25)
    soon = publish(app, prm, "Refunds 101", questions=0)
    expiring = publish(app, prm, "Data privacy", questions=0, validity_days=20)
    started = publish(app, prm, "Product tour", questions=0)
    publish(app, prm, "Brand voice basics")
    finished = publish(app, prm, "Welcome", questions=0, lessons=1)
    require(app, prm, overdue.course_id, days_ago=10, due_days=7)
    require(app, prm, soon.course_id, days_ago=0, due_days=5)
    require(app, prm, expiring.course_id, days_ago=0, due_days=5)
    token = sign_in(client, people["agent"])
    complete(client, token, app, expiring)
    complete(client, token, app, finished)
    send(client, token, lesson_url(started, 0))

    page = text_of(client.get("/training/"))
    late = section(page, "Overdue")
    assert "Handling escalations" in late and "3 days overdue" in late
    assert "Required" in late and "about 25 min" in late and ">Start</a>" in late
    renew = section(page, "Expiring soon")
    assert "Data privacy" in renew and "renew it before then" in renew and "Certificate" in renew
    going = section(page, "In progress")
    assert "Product tour" in going and "1 of 2 lessons" in going and "Resume" in going
    todo = section(page, "Not started")
    assert "Refunds 101" in todo and "due in 5 days" in todo
    assert "Brand voice basics" in todo and "Optional" in todo
    done = section(page, "Completed")
    welcome = completion_of(app, people["agent"].id, finished.course_id)
    assert "Welcome" in done and f"/training/completions/{welcome.id}/certificate" in done
    assert (
        page.index("Overdue</h2>")
        < page.index("Expiring soon</h2>")
        < page.index("In progress</h2>")
    )


def test_my_training_keeps_archived_completions_and_pages(app, client, people, monkeypatch):
    """A completion of an archived course stays listed (no course link); long lists page."""
    archived = publish(app, people["prm"], "Old course", questions=0, lessons=1)
    for n in range(3):
        publish(app, people["prm"], f"Course {n}", questions=0, lessons=1)
    token = sign_in(client, people["agent"])
    complete(client, token, app, archived)
    with app.app_context():
        archive_course(
            db.session.get(User, people["prm"].id), db.session.get(Course, archived.course_id)
        )
        db.session.commit()
    monkeypatch.setattr(routes, "PER_PAGE", 3)
    first = text_of(client.get("/training/"))
    assert "1–3 of 4" in first and "Old course" not in first
    second = text_of(client.get("/training/?page=2"))
    assert "Old course" in second and "no longer offered" in second
    assert f'/training/courses/{archived.course_id}"' not in second
    assert "Certificate" in second


def _my_training_queries(app, client, prm, first, count):
    """Add ``count`` required courses, then count the statements of My training."""
    for n in range(first, first + count):
        course = publish(app, prm, f"Course {n}", questions=1, lessons=2)
        require(app, prm, course.course_id, days_ago=n, due_days=3)
    client.get("/training/")
    with count_queries(app) as queries:
        assert client.get("/training/").status_code == 200
    return queries()


def test_my_training_query_count_does_not_grow_with_courses(app, client, people):
    """My training runs as many statements for 2 courses as for 12."""
    sign_in(client, people["agent"])
    few = _my_training_queries(app, client, people["prm"], 0, 2)
    many = _my_training_queries(app, client, people["prm"], 2, 10)
    assert few == many


def test_staff_get_pointers_instead_of_my_training(app, client, people):
    """Staff take no courses: their training page leads to the builder and the reports."""
    sign_in(client, people["prm"])
    page = text_of(client.get("/training/"))
    assert "/training/manage/" in page and "/training/reports" in page
    assert "/training/verify" in page


def test_the_course_page_for_learners_trainers_and_staff(app, client, people):
    """Learners get their progress and actions; trainers may take it; staff see a preview."""
    course = publish(app, people["prm"], description="Line one.\nLine two.", max_attempts=2)
    require(app, people["prm"], course.course_id, days_ago=0, due_days=5)
    url = f"/training/courses/{course.course_id}"
    sign_in(client, people["agent"])
    page = text_of(client.get(url))
    assert "Required of you, due in 5 days" in page and "Line one.\nLine two." in page
    assert "2 questions · pass mark 100 %" in page and "2 attempts" in page
    token = sign_in(client, people["trainer"])
    page = text_of(client.get(url))
    assert "You see this course as a trainer: you can take it yourself too" in page
    assert "Start: lesson 1" in page
    assert send(client, token, lesson_url(course, 0)).status_code == 302
    token = sign_in(client, people["prm"])
    page = text_of(client.get(url))
    assert "Preview." in page and "Start the quiz" not in page and "Start: lesson 1" not in page
    assert f"/training/manage/{course.course_id}" in page
    lesson = text_of(client.get(lesson_url(course, 0)))
    assert "Preview" in lesson and "Mark as done" not in lesson
    before = counts(app)
    refused = send(client, token, lesson_url(course, 0))
    assert "preview courses but not take them" in text_of(client.get(refused.location))
    assert counts(app) == before
    local = publish(app, people["trainer"], "Alpha floor rules", questions=0, lessons=1)
    sign_in(client, people["outsider"])
    assert client.get(f"/training/courses/{local.course_id}").status_code == 404
    assert client.get(lesson_url(local, 0)).status_code == 404


def test_lessons_one_at_a_time(app, client, people, make_document):
    """Lesson N of M with previous and next; a library document is shown in place."""
    document = make_document("Refund policy", body="Refund **within 14 days**.")
    course = publish(app, people["prm"], questions=0, documents=[document.id])
    other = publish(app, people["prm"], "Other", questions=0, lessons=1)
    token = sign_in(client, people["agent"])
    first = text_of(client.get(lesson_url(course, 0)))
    assert "Lesson 1 of 3" in first and "Mark as done and continue" in first
    assert "Previous" not in first and "Next: Lesson 2" in first
    assert send(client, token, lesson_url(course, 0)).location.endswith(lesson_url(course, 1))
    again = text_of(client.get(lesson_url(course, 0)))
    assert "done ✓" in again and "Next lesson" in again and "Mark as done" not in again
    shown = text_of(client.get(lesson_url(course, 2)))
    assert "Lesson 3 of 3" in shown and "Refund <strong>within 14 days</strong>" in shown
    assert f"/library/{document.id}" in shown and "Mark as done and finish" in shown
    # Another course's lesson, or a removed one, is not part of this course.
    foreign = f"/training/courses/{course.course_id}/lessons/{other.lesson_ids[0]}"
    assert client.get(foreign).status_code == 404
    assert send(client, token, foreign).status_code == 404
    with app.app_context():
        remove_lesson(
            db.session.get(User, people["prm"].id), db.session.get(Lesson, course.lesson_ids[1])
        )
        db.session.commit()
    assert client.get(lesson_url(course, 1)).status_code == 404
    finished = send(client, token, lesson_url(course, 2))
    completion = completion_of(app, people["agent"].id, course.course_id)
    assert finished.location.endswith(f"/training/completions/{completion.id}")
    page = text_of(client.get(finished.location))
    assert "Well done: you completed" in page and "does not expire" in page


@pytest.mark.parametrize(
    ("who", "status"),
    [("agent", 200), ("trainer", 200), ("prm", 200), ("colleague", 404), ("stranger", 404)],
)
def test_who_may_open_a_completion(app, client, people, who, status):
    """The person, their partner's trainers and staff; nobody else, even by guessing ids."""
    course = publish(app, people["prm"], questions=0, lessons=1)
    token = sign_in(client, people["agent"])
    complete(client, token, app, course)
    completion = completion_of(app, people["agent"].id, course.course_id)
    sign_in(client, people[who])
    for url in (
        f"/training/completions/{completion.id}",
        f"/training/completions/{completion.id}/certificate",
    ):
        assert client.get(url).status_code == status


def test_certificates_outlive_archiving_and_deactivation(app, client, people):
    """Archive the course and deactivate the person: the certificate still opens for staff."""
    course = publish(app, people["prm"], validity_days=365)
    token = sign_in(client, people["agent"])
    complete(client, token, app, course)
    completion = completion_of(app, people["agent"].id, course.course_id)
    with app.app_context():
        prm = db.session.get(User, people["prm"].id)
        archive_course(prm, db.session.get(Course, course.course_id))
        db.session.get(User, people["agent"].id).active = False
        db.session.commit()
    for viewer in ("prm", "trainer"):
        sign_in(client, people[viewer])
        page = text_of(client.get(f"/training/completions/{completion.id}/certificate"))
        assert "Ana Agent" in page and "Brand voice basics" in page and "Valid until" in page
        assert completion.verification_code in page and "100 %" in page
    details = text_of(client.get(f"/training/completions/{completion.id}"))
    assert "deactivated" in details and "archived" in details


def test_verifying_codes(app, client, people):
    """Any case, hyphens or not; a malformed code gets help; agents may not check codes."""
    course = publish(app, people["prm"], questions=0, lessons=1)
    token = sign_in(client, people["agent"])
    complete(client, token, app, course)
    assert client.get("/training/verify").status_code == 403
    code = completion_of(app, people["agent"].id, course.course_id).verification_code
    sign_in(client, people["prm"])
    assert "No certificate" not in text_of(client.get("/training/verify"))
    found = text_of(client.get(f"/training/verify?code={code.lower().replace('-', ' ')}"))
    assert "Valid" in found and "Ana Agent" in found and "Alpha BPO" in found
    assert "Does not expire" in found
    typo = text_of(client.get("/training/verify?code=K7QF-3M9X"))
    assert "three groups of four" in typo and "No certificate" not in typo
    missing = text_of(client.get("/training/verify?code=AAAA-BBBB-CCCC"))
    assert "No certificate with the code AAAA-BBBB-CCCC that you can see" in missing
    assert re.search(r'name="code"[^>]*value="AAAA-BBBB-CCCC"', missing)

"""The quiz as a learner takes it through the pages: the journey, feedback, refusals."""

import re
from datetime import timedelta

import pytest

from portal.extensions import db
from portal.people.models import User
from portal.training.models import Course, QuizAttempt
from portal.training.services import archive_course
from tests.helpers import count_queries, csrf_token, login
from tests.training_page_helpers import (
    QUESTIONS,
    answers,
    attempt_id_of,
    completion_of,
    counts,
    publish,
    snapshot,
)


@pytest.fixture
def people(make_partner, make_user):
    partner = make_partner(name="Alpha BPO")
    elsewhere = make_partner(name="Bravo BPO")
    return {
        "partner": partner,
        "prm": make_user(role="prm", name="Pia Prm"),
        "agent": make_user(role="agent", partner=partner, name="Ana Agent"),
        "colleague": make_user(role="agent", partner=partner, name="Carl Colleague"),
        "trainer": make_user(role="trainer", partner=partner, name="Tess Trainer"),
        "stranger": make_user(role="trainer", partner=elsewhere, name="Sam Stranger"),
    }


def sign_in(client, user) -> str:
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert login(client, user).status_code == 302
    return csrf_token(client, "/training/")


def send(client, token, url, data=None):
    return client.post(url, data={**(data or {}), "csrf_token": token})


def read_lessons(client, token, course):
    for lesson_id in course.lesson_ids:
        url = f"/training/courses/{course.course_id}/lessons/{lesson_id}"
        assert send(client, token, url).status_code == 302


def start(client, token, course) -> int:
    return attempt_id_of(send(client, token, f"/training/courses/{course.course_id}/quiz"))


def text_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_the_whole_journey(app, client, people):
    """Read, leave and resume, fail with feedback, retry, pass, print; trainers verify."""
    course = publish(app, people["prm"], lessons=3, max_attempts=3, validity_days=365)
    base = f"/training/courses/{course.course_id}"
    token = sign_in(client, people["agent"])
    page = text_of(client.get(base))
    assert "Start: lesson 1" in page and "The quiz opens when you have read every lesson" in page

    first = send(client, token, f"{base}/lessons/{course.lesson_ids[0]}")
    assert first.location.endswith(f"{base}/lessons/{course.lesson_ids[1]}")
    # Leaving and coming back: the course page resumes at lesson 2.
    page = text_of(client.get(base))
    assert "Resume: lesson 2, Lesson 2" in page
    assert f'lessons/{course.lesson_ids[1]}">' in page
    lesson = text_of(client.get(first.location))
    assert "Lesson 2 of 3" in lesson and "Step <strong>2</strong>" in lesson
    send(client, token, f"{base}/lessons/{course.lesson_ids[1]}")
    last = send(client, token, f"{base}/lessons/{course.lesson_ids[2]}")
    assert last.location.endswith(base)
    assert "The quiz is next" in text_of(client.get(base))

    attempt_id = start(client, token, course)
    quiz = text_of(client.get(f"/training/attempts/{attempt_id}"))
    assert "Attempt 1 of 3" in quiz and "data-submit-once" in quiz
    questions = snapshot(app, attempt_id)
    failed = send(client, token, f"/training/attempts/{attempt_id}", answers(questions, wrong=[1]))
    assert failed.location.endswith(f"/training/attempts/{attempt_id}")
    result = text_of(client.get(failed.location))
    assert "Not passed this time" in result and "50 %" in result and "Wrong" in result
    assert "Try the quiz again" in result and "2 attempts left" in result
    assert counts(app)[3] == 0

    retry = start(client, token, course)
    assert retry != attempt_id
    questions = snapshot(app, retry)
    passed = send(client, token, f"/training/attempts/{retry}", answers(questions))
    result = text_of(client.get(passed.location))
    assert "You passed" in result and "100 %" in result and "See your certificate" in result
    completion = completion_of(app, people["agent"].id, course.course_id)
    assert (completion.score, completion.attempt_id) == (100, retry)

    certificate = text_of(client.get(f"/training/completions/{completion.id}/certificate"))
    assert "Ana Agent" in certificate and course.title in certificate
    assert completion.verification_code in certificate and "data-print" in certificate
    assert f"/training/verify?code={completion.verification_code}" in certificate
    mine = text_of(client.get("/training/"))
    assert f"/training/completions/{completion.id}/certificate" in mine
    assert client.get(f"/training/verify?code={completion.verification_code}").status_code == 403

    typed = completion.verification_code.replace("-", "").lower()
    sign_in(client, people["trainer"])
    verified = text_of(client.get(f"/training/verify?code={typed}"))
    assert "Valid" in verified and "Ana Agent" in verified and "Alpha BPO" in verified
    assert course.title in verified
    sign_in(client, people["stranger"])
    hidden = text_of(client.get(f"/training/verify?code={typed}"))
    assert "No certificate with the code" in hidden and "Ana Agent" not in hidden
    assert client.get(f"/training/completions/{completion.id}/certificate").status_code == 404


def test_the_open_quiz_never_shows_the_answers(app, client, people):
    """The quiz page carries keys only: no right-answer flags, no explanations, no ids."""
    course = publish(app, people["prm"], lessons=1)
    token = sign_in(client, people["agent"])
    read_lessons(client, token, course)
    attempt_id = start(client, token, course)
    page = text_of(client.get(f"/training/attempts/{attempt_id}"))
    form = page[page.index('<form method="post" action="/training/attempts/') :]
    for _text, _kind, choices, explanation in QUESTIONS:
        assert explanation not in page
        for choice, _right in choices:
            assert choice in form
    assert "correct" not in form.lower() and "right answer" not in page
    for question in snapshot(app, attempt_id):
        assert f'name="{question["key"]}"' in form
        assert f'value="{question["id"]}"' not in form
        assert 'type="radio"' in form and 'type="checkbox"' in form


def test_missing_answers_keep_the_chosen_ones_and_write_nothing(app, client, people):
    """A partly answered quiz comes back with the message and every chosen answer still chosen."""
    course = publish(app, people["prm"], lessons=1)
    token = sign_in(client, people["agent"])
    read_lessons(client, token, course)
    attempt_id = start(client, token, course)
    questions = snapshot(app, attempt_id)
    data = answers(questions)
    unanswered = data.pop(questions[1]["key"])
    before = counts(app)
    response = send(client, token, f"/training/attempts/{attempt_id}", data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "question 2 has no answer" in page and "Nothing was saved" in page
    assert "This question has no answer yet" in page
    chosen = data[questions[0]["key"]][0]
    assert re.search(rf'value="{chosen}"\s+checked', page)
    assert not any(re.search(rf'value="{key}"\s+checked', page) for key in unanswered)
    assert counts(app) == before
    with app.app_context():
        assert db.session.get(QuizAttempt, attempt_id).answers is None


def test_answers_to_another_attempts_keys_are_refused(app, client, people):
    """Keys of an earlier attempt do not fit a new one: refused, nothing written."""
    course = publish(app, people["prm"], lessons=1)
    token = sign_in(client, people["agent"])
    read_lessons(client, token, course)
    first = start(client, token, course)
    old = answers(snapshot(app, first))
    send(client, token, f"/training/attempts/{first}", answers(snapshot(app, first), wrong=[1]))
    second = start(client, token, course)
    before = counts(app)
    response = send(client, token, f"/training/attempts/{second}", old)
    assert response.status_code == 422
    assert "not part of this attempt" in response.get_data(as_text=True)
    assert counts(app) == before


def test_the_attempt_limit_is_kept(app, client, people):
    """After the last allowed attempt there is no button, and posting anyway is refused."""
    course = publish(app, people["prm"], lessons=1, max_attempts=1)
    token = sign_in(client, people["agent"])
    read_lessons(client, token, course)
    attempt_id = start(client, token, course)
    send(
        client,
        token,
        f"/training/attempts/{attempt_id}",
        answers(snapshot(app, attempt_id), wrong=[2]),
    )
    result = text_of(client.get(f"/training/attempts/{attempt_id}"))
    assert "You have used all 1 attempts" in result and "Try the quiz again" not in result
    # No attempts left: the right answers are shown now.
    assert "right answer" in result and QUESTIONS[1][3] in result
    before = counts(app)
    refused = send(client, token, f"/training/courses/{course.course_id}/quiz")
    assert refused.location.endswith(f"/training/courses/{course.course_id}")
    assert "used all 1 attempts" in text_of(client.get(refused.location))
    assert counts(app) == before


def test_wrong_answers_are_marked_without_revealing_them(app, client, people):
    """With attempts left, feedback says which were wrong but not what was right."""
    course = publish(app, people["prm"], lessons=1)
    token = sign_in(client, people["agent"])
    read_lessons(client, token, course)
    attempt_id = start(client, token, course)
    questions = snapshot(app, attempt_id)
    send(client, token, f"/training/attempts/{attempt_id}", answers(questions, wrong=[1]))
    result = text_of(client.get(f"/training/attempts/{attempt_id}"))
    wrong_explanation = next(q["explanation"] for q in questions[:1])
    right_explanation = questions[1]["explanation"]
    assert "Wrong" in result and "Right" in result and "your answer" in result
    assert "right answer</span>" not in result and wrong_explanation not in result
    assert right_explanation in result


def test_a_second_post_shows_the_result_and_completes_once(app, client, people):
    """Submitting the same attempt again (a double click, the back button) changes nothing."""
    course = publish(app, people["prm"], lessons=1)
    token = sign_in(client, people["agent"])
    read_lessons(client, token, course)
    attempt_id = start(client, token, course)
    data = answers(snapshot(app, attempt_id))
    assert send(client, token, f"/training/attempts/{attempt_id}", data).status_code == 302
    before = counts(app)
    again = send(client, token, f"/training/attempts/{attempt_id}", data)
    assert again.location.endswith(f"/training/attempts/{attempt_id}")
    page = text_of(client.get(again.location))
    assert "already been submitted" in page and "You passed" in page
    assert counts(app) == before and before[3] == 1


def test_an_expired_form_keeps_the_answers(app, client, people):
    """A stale security token refuses the submission but keeps every answer selected."""
    course = publish(app, people["prm"], lessons=1)
    token = sign_in(client, people["agent"])
    read_lessons(client, token, course)
    attempt_id = start(client, token, course)
    data = answers(snapshot(app, attempt_id))
    response = client.post(f"/training/attempts/{attempt_id}", data={**data, "csrf_token": "x"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "submit them again" in page
    for keys in data.values():
        assert all(re.search(rf'value="{key}"\s+checked', page) for key in keys)
    assert counts(app)[2] == 0


@pytest.mark.parametrize("who", ["colleague", "trainer", "prm", "stranger"])
def test_another_persons_attempt_answers_404(app, client, people, who):
    """Only the attempt's own person opens or submits it; trainers see attempts in reports."""
    course = publish(app, people["prm"], lessons=1)
    token = sign_in(client, people["agent"])
    read_lessons(client, token, course)
    attempt_id = start(client, token, course)
    data = answers(snapshot(app, attempt_id))
    token = sign_in(client, people[who])
    assert client.get(f"/training/attempts/{attempt_id}").status_code == 404
    assert send(client, token, f"/training/attempts/{attempt_id}", data).status_code == 404
    assert counts(app)[2] == 0


def test_staff_cannot_start_a_quiz(app, client, people):
    """Staff preview courses; starting the quiz explains why not and records nothing."""
    course = publish(app, people["prm"], lessons=1)
    token = sign_in(client, people["prm"])
    response = send(client, token, f"/training/courses/{course.course_id}/quiz")
    assert "preview courses but not take them" in text_of(client.get(response.location))
    assert counts(app) == (0, 0, 0, 0)


def test_renewal_opens_near_expiry(app, client, people):
    """An expiring completion shows a renewal notice and lets the quiz be taken again."""
    course = publish(app, people["prm"], lessons=1, validity_days=20)
    token = sign_in(client, people["agent"])
    read_lessons(client, token, course)
    attempt_id = start(client, token, course)
    send(client, token, f"/training/attempts/{attempt_id}", answers(snapshot(app, attempt_id)))
    page = text_of(client.get(f"/training/courses/{course.course_id}"))
    assert "You can renew it now" in page and "Renew: take the quiz again" in page
    completion = completion_of(app, people["agent"].id, course.course_id)
    assert completion.expires_at - completion.completed_at == timedelta(days=20)


def _attempt_page_counts(app, client, token, course) -> tuple[int, int]:
    """Statements run by the open quiz page and, after submitting, by its result page."""
    read_lessons(client, token, course)
    attempt_id = start(client, token, course)
    url = f"/training/attempts/{attempt_id}"
    client.get(url)  # warm-up: first-request work is not the page's
    with count_queries(app) as open_count:
        assert client.get(url).status_code == 200
    send(client, token, url, answers(snapshot(app, attempt_id), wrong=[1]))
    with count_queries(app) as result_count:
        assert client.get(url).status_code == 200
    return open_count(), result_count()


def test_the_attempt_pages_query_count_does_not_grow_with_questions(app, client, people):
    """The quiz and its result take the same number of statements for 2 or 12 questions."""
    small = publish(app, people["prm"], "Small quiz", lessons=1, questions=2)
    large = publish(app, people["prm"], "Large quiz", lessons=1, questions=12)
    token = sign_in(client, people["agent"])
    assert _attempt_page_counts(app, client, token, small) == _attempt_page_counts(
        app, client, token, large
    )


def test_a_quiz_whose_course_was_archived_meanwhile_keeps_the_answers(app, client, people):
    """Archived while the quiz was open: refused with the reason, the answers still chosen."""
    course = publish(app, people["prm"], lessons=1)
    token = sign_in(client, people["agent"])
    read_lessons(client, token, course)
    attempt_id = start(client, token, course)
    data = answers(snapshot(app, attempt_id))
    with app.app_context():
        prm = db.session.get(User, people["prm"].id)
        archive_course(prm, db.session.get(Course, course.course_id))
        db.session.commit()
    response = send(client, token, f"/training/attempts/{attempt_id}", data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "This course is not open" in page
    assert all(
        re.search(rf'value="{key}"\s+checked', page) for keys in data.values() for key in keys
    )
    assert counts(app)[2:] == (0, 0)

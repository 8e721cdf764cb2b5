"""The course builder's forms: refusals show the service's message and change nothing."""

import re

import pytest
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.library import services as library
from portal.training import quizzes
from portal.training.models import Lesson, Question
from portal.training.services import add_lesson, archive_course
from tests.course_editor_helpers import (
    MANAGE,
    counts,
    course_form,
    course_state,
    page_text,
    part,
    question_form,
    send,
    sign_in,
)
from tests.training_helpers import course_by, ctx, quiz_course


def _checked(html, input_id) -> bool:
    return re.search(rf'<input checked [^>]*id="{input_id}"', html) is not None


# --- course details -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "field", "message"),
    [
        ({"pass_mark": "150"}, "pass_mark", "a whole number from 0 to 100"),
        ({"pass_mark": "eighty"}, "pass_mark", "The pass mark is a whole number, such as 80."),
        ({"validity_days": "-5"}, "validity_days", "validity in days must be a whole number"),
        ({"max_attempts": "0"}, "max_attempts", "maximum number of attempts must be"),
        ({"title": "  "}, "title", "Give the course a title."),
    ],
)
def test_bad_course_details_are_shown_on_their_field_and_nothing_is_written(
    app, client, make_user, typed, field, message
):
    """A new course with a bad setting comes back with the message under the field and what
    was typed kept; no course, audit event or anything else is written."""
    trainer = make_user(role="trainer")
    token = sign_in(client, trainer)
    before = counts(app)
    response = send(client, token, f"{MANAGE}/new", course_form(**typed))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'id="{field}-error"' in html and message in page_text(response)
    assert "How refunds work." in html and f'value="{typed.get(field, "").strip()}"' in html
    assert counts(app) == before


def test_bad_details_on_the_builder_change_nothing(app, client, make_user):
    """Saving the builder's details with a pass mark of 150 keeps the course as it was."""
    prm = make_user(role="prm")
    with ctx(app, prm) as actor:
        course_id = quiz_course(actor).id
    token = sign_in(client, prm)
    before, state = counts(app), course_state(app, course_id)
    data = course_form(title="Renamed", pass_mark="150")
    response = send(client, token, f"{MANAGE}/{course_id}", data)
    assert response.status_code == 200
    assert "The pass mark is a percentage" in page_text(response)
    assert 'value="Renamed"' in response.get_data(as_text=True)
    assert (counts(app), course_state(app, course_id)) == (before, state)


# --- questions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "answers", "message"),
    [
        (
            "Refund?",
            "single",
            [("Yes", True), ("Always", True), ("No", False)],
            "A single-choice question has exactly one correct answer.",
        ),
        ("Refund?", "single", [("Yes", True)], "Give 2 to 10 answers to choose from."),
        (
            "Refund?",
            "multiple",
            [("Yes", True), ("No", False), ("", True)],
            "Answer 3 is marked correct but has no text.",
        ),
        ("Refund?", "multiple", [("Yes", False), ("No", False)], "Mark at least one answer"),
        ("", "single", [("Yes", True), ("No", False)], "Write the question."),
    ],
)
def test_bad_questions_get_a_clear_message_and_write_nothing(
    app, client, make_user, text, kind, answers, message
):
    """Each mistake in a question is named; the answers typed stay on the form."""
    trainer = make_user(role="trainer")
    with ctx(app, trainer) as actor:
        course_id = quiz_course(actor).id
    token = sign_in(client, trainer)
    before = counts(app)
    data = question_form(text, kind, answers)
    response = send(client, token, f"{MANAGE}/{course_id}/questions/new", data)
    assert response.status_code == 200 and message in page_text(response)
    assert 'value="Yes"' in response.get_data(as_text=True)
    assert counts(app) == before


def test_editing_a_question_shows_its_answers_and_saves_new_ones(app, client, make_user):
    """The edit page ticks the right answers and offers spare rows; saving replaces them."""
    trainer = make_user(role="trainer")
    with ctx(app, trainer) as actor:
        course_id = quiz_course(actor).id
    question_id = course_state(app, course_id)["questions"][0]
    token = sign_in(client, trainer)
    url = f"{MANAGE}/{course_id}/questions/{question_id}/edit"
    html = client.get(url).get_data(as_text=True)
    assert _checked(html, "answers-0-correct") and not _checked(html, "answers-1-correct")
    assert 'name="answers-5-text"' in html and 'name="answers-6-text"' not in html
    answers = [("Refund it", False), ("Escalate", True), ("Ignore it", False)]
    data = question_form("Double charge?", "single", answers, explanation="Escalate first.")
    response = send(client, token, url, data)
    assert response.location.endswith(f"#question-{question_id}")
    with app.app_context():
        question = db.session.get(Question, question_id, options=[selectinload(Question.choices)])
        assert (question.text, question.explanation) == ("Double charge?", "Escalate first.")
        choices = question.choices
        assert [(c.text, c.correct) for c in choices] == answers


def test_a_question_with_nine_answers_offers_a_tenth_row(app, client, make_user):
    """Rows grow with the answers up to ten, the most a question may have."""
    trainer = make_user(role="trainer")
    with ctx(app, trainer) as actor:
        course = quiz_course(actor)
        choices = [(f"Answer {n}", n == 1) for n in range(1, 10)]
        question = quizzes.add_question(actor, course, text="Pick", kind="single", choices=choices)
        db.session.commit()
        ids = course.id, question.id
    sign_in(client, trainer)
    html = client.get(f"{MANAGE}/{ids[0]}/questions/{ids[1]}/edit").get_data(as_text=True)
    assert 'name="answers-9-text"' in html and 'name="answers-10-text"' not in html


# --- lessons --------------------------------------------------------------------------------


def _draft_document(app, author):
    with ctx(app, author) as actor:
        document = library.create_document(
            actor, library.DocumentDetails(title="Unfinished", kind="playbook"), body="Soon."
        )
        db.session.commit()
        return document.id


@pytest.mark.parametrize(
    ("lesson", "message"),
    [
        ({"title": "Policy", "source": "document"}, "Choose the library document to show."),
        ({"title": "Policy", "source": "text", "body": " "}, "either its own text or a library"),
        ({"title": "", "source": "text", "body": "Text"}, "Give the lesson a title."),
        ({"title": "Policy", "source": "document", "document_id": "draft"}, "is not published"),
        ({"title": "Policy", "source": "document", "document_id": "foreign"}, "no such library"),
    ],
)
def test_bad_lessons_get_a_clear_message_and_write_nothing(
    app, client, make_user, make_document, lesson, message
):
    """A lesson without its text or document, or with a document the author may not use."""
    trainer = make_user(role="trainer")
    foreign = make_document("Their rules", author=make_user(role="trainer"))
    documents = {"draft": _draft_document(app, trainer), "foreign": foreign.id}
    if "document_id" in lesson:
        lesson = {**lesson, "document_id": str(documents[lesson["document_id"]])}
    with ctx(app, trainer) as actor:
        course_id = course_by(actor).id
    token = sign_in(client, trainer)
    before = counts(app)
    response = send(client, token, f"{MANAGE}/{course_id}/lessons/new", lesson)
    assert response.status_code == 200 and message in page_text(response)
    assert counts(app) == before


def test_the_lesson_preview_renders_the_text_and_saves_nothing(app, client, make_user):
    """The server-side Preview button shows the sanitized text without adding the lesson."""
    trainer = make_user(role="trainer")
    with ctx(app, trainer) as actor:
        course_id = course_by(actor).id
    token = sign_in(client, trainer)
    before = counts(app)
    data = {"title": "Tone", "source": "text", "body": "Be **warm**.<script>x()</script>"}
    response = send(client, token, f"{MANAGE}/{course_id}/lessons/new", {**data, "preview": "y"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<strong>warm</strong>" in html
    assert "<script>x()" not in html
    assert counts(app) == before


def test_a_document_lesson_whose_document_was_archived_still_shows_it(
    app, client, make_user, make_document
):
    """The edit page keeps the lesson's document selected, marked as not published."""
    trainer = make_user(role="trainer")
    document = make_document("Floor rules", author=trainer)
    with ctx(app, trainer) as actor:
        course = course_by(actor)
        lesson = add_lesson(actor, course, title="Rules", document_id=document.id)
        library.archive(actor, db.session.get(type(document), document.id))
        db.session.commit()
        ids = course.id, lesson.id
    sign_in(client, trainer)
    html = client.get(f"{MANAGE}/{ids[0]}/lessons/{ids[1]}/edit").get_data(as_text=True)
    assert f'<option selected value="{document.id}">Floor rules (not published)</option>' in html
    assert _checked(html, "source-1") and not _checked(html, "source-0")


# --- order, publishing, archived courses ----------------------------------------------------


def test_an_order_naming_another_courses_lesson_is_refused(app, client, make_user):
    """The service's message is shown and neither course changes."""
    trainer = make_user(role="trainer")
    with ctx(app, trainer) as actor:
        first_id, second_id = quiz_course(actor, "First").id, quiz_course(actor, "Second").id
    first, second = course_state(app, first_id), course_state(app, second_id)
    token = sign_in(client, trainer)
    before = counts(app)
    for posted, message in (
        (first["lessons"] + second["lessons"], "which are not in this course"),
        (second["lessons"], "which are not in this course"),
        (["one"], "The new order must list lesson(s) ids."),
        ([], "leaves out lesson(s)"),
    ):
        url = f"{MANAGE}/{first_id}/lessons/order"
        response = send(client, token, url, {"lesson_ids": posted}, follow_redirects=True)
        assert message in page_text(response)
    response = send(
        client,
        token,
        f"{MANAGE}/{first_id}/questions/order",
        {"question_ids": second["questions"]},
        follow_redirects=True,
    )
    assert "which are not in this course" in page_text(response)
    assert counts(app) == before
    assert (course_state(app, first_id), course_state(app, second_id)) == (first, second)


def test_publishing_an_incomplete_course_says_what_is_missing(app, client, make_user):
    """No lessons and no questions: the message lists both; the course stays a draft."""
    prm = make_user(role="prm")
    with ctx(app, prm) as actor:
        course_id = course_by(actor, has_quiz=True, pass_mark=80).id
    token = sign_in(client, prm)
    before = counts(app)
    response = send(client, token, f"{MANAGE}/{course_id}/publish", follow_redirects=True)
    text = page_text(response)
    assert "The course cannot be published yet: Add at least one lesson." in text
    assert "Add at least one quiz question, or turn the quiz off." in text
    assert counts(app) == before
    assert course_state(app, course_id)["status"] == "draft"


def test_an_archived_course_is_read_only_until_restored(app, client, make_user):
    """The builder offers Restore only; posting a lesson changes nothing."""
    trainer = make_user(role="trainer")
    with ctx(app, trainer) as actor:
        course = quiz_course(actor)
        archive_course(actor, course)
        db.session.commit()
        course_id = course.id
    lesson_id = course_state(app, course_id)["lessons"][0]
    token = sign_in(client, trainer)
    before = counts(app)
    page = page_text(client.get(f"{MANAGE}/{course_id}"))
    assert "Restore" in page and "Add lesson" not in page and "Archived" in page
    for url, data in (
        (f"{MANAGE}/{course_id}/lessons/new", {"title": "X", "source": "text", "body": "Y"}),
        (f"{MANAGE}/{course_id}/lessons/{lesson_id}/edit", {"title": "X", "source": "text"}),
        (f"{MANAGE}/{course_id}/questions/new", question_form("Q", "single", [("a", True)])),
    ):
        response = send(client, token, url, data, follow_redirects=True)
        assert "Restore it before editing." in page_text(response)
    url = f"{MANAGE}/{course_id}/lessons/order"
    response = send(client, token, url, {"lesson_ids": [lesson_id]}, follow_redirects=True)
    assert "Restore it before editing." in page_text(response)
    assert counts(app) == before
    assert part(app, Lesson, lesson_id).title == "Why it matters"

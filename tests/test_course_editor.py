"""The course builder's pages: the whole flow for trainers and PRMs, access, the list."""

import pytest

from portal.extensions import db
from portal.training import quizzes
from portal.training.models import Course, Lesson
from portal.training.services import add_lesson, archive_course, publish_course, remove_lesson
from tests.course_editor_helpers import (
    MANAGE,
    add_question,
    add_text_lesson,
    counts,
    course_state,
    lesson_titles,
    new_course,
    page_text,
    send,
    sign_in,
)
from tests.helpers import count_queries, login
from tests.training_helpers import SINGLE, course_by, ctx, quiz_course


@pytest.mark.parametrize("role", ["trainer", "prm"])
def test_an_author_builds_publishes_edits_archives_and_restores_a_course(
    app, client, make_user, make_document, role
):
    """Create, two lessons (one a library document), two questions, reorder, publish, edit
    (no new version until published again), archive and restore, all through the pages."""
    author = make_user(role=role)
    document = make_document("Refund policy", author=author if role == "trainer" else None)
    token = sign_in(client, author)

    course_id = new_course(client, token, title="Refunds 101", validity_days="365")
    assert course_state(app, course_id)["status"] == "draft"
    with app.app_context():
        course = db.session.get(Course, course_id)
        assert course.partner_id == (author.partner_id if role == "trainer" else None)
        assert (course.has_quiz, course.pass_mark, course.validity_days) == (True, 80, 365)

    add_text_lesson(client, token, course_id, "Why refunds matter")
    document_lesson = {
        "title": "The policy",
        "source": "document",
        "document_id": str(document.id),
        "body": "Typed before switching to the document; not kept.",
    }
    response = send(client, token, f"{MANAGE}/{course_id}/lessons/new", document_lesson)
    assert response.status_code == 302
    add_question(client, token, course_id, "Refund a double charge?", "single", SINGLE)
    add_question(
        client,
        token,
        course_id,
        "Which need approval?",
        "multiple",
        [("Over $150", True), ("Under $20", False), ("Chargebacks", True)],
        explanation="Anything over $150 and every chargeback.",
    )
    state = course_state(app, course_id)
    with app.app_context():
        lesson = db.session.get(Lesson, state["lessons"][1])
        assert (lesson.document_id, lesson.body) == (document.id, None)

    page = page_text(client.get(f"{MANAGE}/{course_id}"))
    assert "Draft." in page and "Library document: Refund policy" in page
    assert "✓ Over $150 (correct)" in page and "Multiple choice" in page

    response = send(
        client,
        token,
        f"{MANAGE}/{course_id}/lessons/order",
        {"lesson_ids": list(reversed(state["lessons"])), "moved": state["lessons"][1]},
    )
    assert response.location.endswith(f"/training/manage/{course_id}#lesson-{state['lessons'][1]}")
    assert lesson_titles(app, course_id) == ["The policy", "Why refunds matter"]
    send(
        client,
        token,
        f"{MANAGE}/{course_id}/questions/order",
        {"question_ids": list(reversed(state["questions"]))},
    )
    assert course_state(app, course_id)["questions"] == list(reversed(state["questions"]))

    response = send(client, token, f"{MANAGE}/{course_id}/publish", follow_redirects=True)
    assert "Version 1 of “Refunds 101” is published" in page_text(response)
    assert course_state(app, course_id)["status"] == "published"
    assert "Published version 1" in page_text(client.get(f"{MANAGE}/{course_id}"))

    lesson_id = state["lessons"][0]
    edit = {"title": "Why refunds matter to customers", "source": "text", "body": "Trust."}
    send(client, token, f"{MANAGE}/{course_id}/lessons/{lesson_id}/edit", edit)
    send(client, token, f"{MANAGE}/{course_id}", {"title": "Refunds 101 (2027)", **_kept()})
    state = course_state(app, course_id)
    assert (state["title"], state["version"], state["status"]) == (
        "Refunds 101 (2027)",
        1,
        "published",
    )
    assert "Why refunds matter to customers" in lesson_titles(app, course_id)

    send(client, token, f"{MANAGE}/{course_id}/publish")
    assert course_state(app, course_id)["version"] == 2

    response = send(client, token, f"{MANAGE}/{course_id}/archive", follow_redirects=True)
    assert "is archived: nobody can start it" in page_text(response)
    assert course_state(app, course_id)["status"] == "archived"
    response = client.get(f"{MANAGE}/{course_id}/lessons/new", follow_redirects=True)
    assert "Restore it before editing." in page_text(response)

    response = send(client, token, f"{MANAGE}/{course_id}/restore", follow_redirects=True)
    assert "restored and published again" in page_text(response)
    assert course_state(app, course_id) | {"lessons": None, "questions": None} == {
        "status": "published",
        "version": 2,
        "title": "Refunds 101 (2027)",
        "pass_mark": 80,
        "validity_days": 365,
        "lessons": None,
        "questions": None,
    }


def _kept():
    """The rest of the details form as the course was created by the flow test."""
    return {
        "description": "How refunds work.",
        "estimated_minutes": "20",
        "has_quiz": "y",
        "pass_mark": "80",
        "validity_days": "365",
    }


def test_removing_lessons_and_questions_keeps_the_rest_in_order(app, client, make_user):
    """Remove takes the item out of the builder; the others keep their numbers' order."""
    trainer = make_user(role="trainer")
    with ctx(app, trainer) as actor:
        course = quiz_course(actor)
        add_lesson(actor, course, title="Second", body="Two")
        quizzes.add_question(actor, course, text="Second?", kind="single", choices=SINGLE)
        db.session.commit()
        course_id = course.id
    state = course_state(app, course_id)
    token = sign_in(client, trainer)
    response = send(
        client,
        token,
        f"{MANAGE}/{course_id}/lessons/{state['lessons'][0]}/remove",
        follow_redirects=True,
    )
    assert "The lesson “Why it matters” is removed" in page_text(response)
    response = send(
        client,
        token,
        f"{MANAGE}/{course_id}/questions/{state['questions'][1]}/remove",
        follow_redirects=True,
    )
    assert "The question is removed from the quiz" in page_text(response)
    after = course_state(app, course_id)
    assert (after["lessons"], after["questions"]) == (
        state["lessons"][1:],
        state["questions"][:1],
    )
    # Gone from the builder, so its pages answer 404.
    assert client.get(f"{MANAGE}/{course_id}/lessons/{state['lessons'][0]}/edit").status_code == 404


# --- who may use the builder -----------------------------------------------------------------


def test_agents_are_refused_the_builder(app, client, make_user):
    """Agents get 403 on the list and the new-course page, and 404 on a course's pages."""
    prm = make_user(role="prm")
    with ctx(app, prm) as actor:
        course_id = quiz_course(actor).id
        publish_course(actor, db.session.get(Course, course_id))
        db.session.commit()
    agent = make_user(role="agent")
    token = sign_in(client, agent)
    assert client.get(f"{MANAGE}/").status_code == 403
    assert client.get(f"{MANAGE}/new").status_code == 403
    assert send(client, token, f"{MANAGE}/new", {"title": "Mine"}).status_code == 403
    assert client.get(f"{MANAGE}/{course_id}").status_code == 404
    assert send(client, token, f"{MANAGE}/{course_id}/archive").status_code == 404
    assert course_state(app, course_id)["status"] == "published"


def test_another_partners_trainer_gets_404_and_changes_nothing(
    app, client, make_user, make_partner
):
    """Every page and action of a partner's course answers 404 to another partner's trainer,
    and a trainer cannot edit a company course they can see."""
    owner = make_user(role="trainer")
    prm = make_user(role="prm")
    with ctx(app, owner) as actor:
        local_id = quiz_course(actor).id
    with ctx(app, prm) as actor:
        company = quiz_course(actor, "Company course")
        publish_course(actor, company)
        db.session.commit()
        company_id = company.id
    ids = course_state(app, local_id)
    lesson_id, question_id = ids["lessons"][0], ids["questions"][0]
    base = f"{MANAGE}/{local_id}"
    stranger = make_user(role="trainer")
    token = sign_in(client, stranger)
    before = counts(app)
    for url in (
        base,
        f"{base}/lessons/new",
        f"{base}/lessons/{lesson_id}/edit",
        f"{base}/questions/new",
        f"{base}/questions/{question_id}/edit",
        f"{MANAGE}/{company_id}",
        f"{MANAGE}/{company_id}/lessons/new",
    ):
        assert client.get(url).status_code == 404, url
    for url in (
        base,
        f"{base}/publish",
        f"{base}/archive",
        f"{base}/restore",
        f"{base}/lessons/order",
        f"{base}/questions/order",
        f"{base}/lessons/new",
        f"{base}/lessons/{lesson_id}/edit",
        f"{base}/lessons/{lesson_id}/remove",
        f"{base}/questions/{question_id}/remove",
        f"{MANAGE}/{company_id}/publish",
    ):
        assert send(client, token, url, {"title": "Hijacked"}).status_code == 404, url
    assert counts(app) == before
    assert course_state(app, local_id) == ids
    listed = page_text(client.get(f"{MANAGE}/"))
    assert "Data privacy" not in listed and "Company course" not in listed


def test_a_lesson_or_question_of_another_course_answers_404(app, client, make_user):
    """Ids must belong to the course in the URL, even when both courses are the author's."""
    trainer = make_user(role="trainer")
    with ctx(app, trainer) as actor:
        first_id, second_id = quiz_course(actor, "First").id, quiz_course(actor, "Second").id
    other = course_state(app, second_id)
    token = sign_in(client, trainer)
    lesson, question = other["lessons"][0], other["questions"][0]
    base = f"{MANAGE}/{first_id}"
    assert client.get(f"{base}/lessons/{lesson}/edit").status_code == 404
    assert client.get(f"{base}/questions/{question}/edit").status_code == 404
    assert send(client, token, f"{base}/lessons/{lesson}/remove").status_code == 404
    assert send(client, token, f"{base}/questions/{question}/remove").status_code == 404
    assert course_state(app, second_id) == other


# --- the list --------------------------------------------------------------------------------


def _courses(app, author, count, start=0):
    with ctx(app, author) as actor:
        for n in range(start, start + count):
            course = course_by(actor, f"Course {n:03}", has_quiz=True, pass_mark=70)
            add_lesson(actor, course, title="One", body="Text")
            add_lesson(actor, course, title="Two", body="Text")
            quizzes.add_question(actor, course, text="Why?", kind="single", choices=SINGLE)
            if n % 3 == 0:
                publish_course(actor, course)
            if n % 5 == 0:
                archive_course(actor, course)
        db.session.commit()


def test_the_list_shows_counts_filters_by_status_and_pages(app, client, make_user):
    """Each course with its status, version and counts; removed lessons are not counted."""
    trainer = make_user(role="trainer")
    _courses(app, trainer, 3)  # 0: published then archived, 1 and 2: drafts
    with ctx(app, trainer) as actor:
        lesson = db.session.scalars(db.select(Lesson).order_by(Lesson.id.desc())).first()
        remove_lesson(actor, lesson)
        db.session.commit()
    login(client, trainer)
    page = page_text(client.get(f"{MANAGE}/"))
    assert "Course 000 Archived 1 2 1" in page
    assert "Course 002 Draft — 1 1" in page
    drafts = page_text(client.get(f"{MANAGE}/?status=draft"))
    assert "Course 001" in drafts and "Course 000" not in drafts
    assert "No published courses." in page_text(client.get(f"{MANAGE}/?status=published"))
    _courses(app, trainer, 25, start=3)
    second = page_text(client.get(f"{MANAGE}/?page=2"))
    assert "26–28 of 28" in second and "Course 027" in second and "Course 000" not in second


def test_the_list_runs_the_same_number_of_statements_for_more_courses(app, client, make_user):
    """The list's SQL statement count does not grow with the courses shown."""
    prm = make_user(role="prm")
    trainer = make_user(role="trainer")
    _courses(app, prm, 2)
    _courses(app, trainer, 1, start=2)
    login(client, prm)

    def statements():
        with count_queries(app) as n:
            assert client.get(f"{MANAGE}/").status_code == 200
        return n()

    few = statements()
    _courses(app, prm, 12, start=3)
    _courses(app, trainer, 5, start=15)
    assert "20 in all" in page_text(client.get(f"{MANAGE}/"))
    assert statements() == few


def test_a_trainers_list_holds_only_their_partners_courses(app, client, make_user):
    """Company courses (even published ones a trainer may take) are not in their builder."""
    trainer = make_user(role="trainer")
    prm = make_user(role="prm")
    _courses(app, prm, 1, start=1)  # a draft, published below
    _courses(app, trainer, 1, start=2)
    with ctx(app, prm) as actor:
        publish_course(actor, db.session.scalars(db.select(Course)).first())
        db.session.commit()
    login(client, trainer)
    page = page_text(client.get(f"{MANAGE}/"))
    assert "Course 002" in page and "Course 001" not in page

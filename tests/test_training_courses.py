"""Writing courses: details, lessons, questions, publishing; refusals change nothing."""

from contextlib import contextmanager

import pytest
from sqlalchemy import func, select

from portal.audiences.services import AudienceSpec
from portal.audit.models import AuditEvent
from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.people.models import User
from portal.training import quizzes
from portal.training.models import (
    Choice,
    Completion,
    Course,
    CourseStatus,
    Lesson,
    Question,
    QuizAttempt,
)
from portal.training.services import (
    CourseDetails,
    active_lessons,
    add_lesson,
    archive_course,
    can_edit_course,
    create_course,
    publish_course,
    remove_lesson,
    reorder_lessons,
    restore_course,
    update_course,
    update_lesson,
)

SINGLE = [("Refund it", True), ("Ignore it", False)]


@contextmanager
def _ctx(app, user=None):
    with app.app_context():
        yield db.session.get(User, user.id) if user is not None else None


def _rows():
    """How many rows the services could have written."""
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Course, Lesson, Question, Choice, AuditEvent)
    )


def _refused(call, field=""):
    """Run ``call``, expect InvalidInput, check nothing was written; return the message."""
    before = _rows()
    with pytest.raises(InvalidInput) as refusal:
        call()
    assert not (db.session.new or db.session.dirty or db.session.deleted)
    assert _rows() == before
    db.session.rollback()
    return refusal.value.errors[field]


def _course(actor, title="Refunds 101", **kw):
    course = create_course(actor, CourseDetails(title=title, **kw))
    db.session.commit()
    return course


def _quiz_course(actor, title="Data privacy"):
    course = _course(actor, title, has_quiz=True, pass_mark=80)
    add_lesson(actor, course, title="Why it matters", body="Personal data is **precious**.")
    quizzes.add_question(
        actor, course, text="A customer asks for a refund.", kind="single", choices=SINGLE
    )
    db.session.commit()
    return course


def test_staff_create_company_courses_with_a_slug_and_an_audit_record(app, make_user):
    """A PRM's course is a company-wide draft, slugged from its title, and audited."""
    prm = make_user(role="prm")
    with _ctx(app, prm) as actor:
        course = _course(actor, "Refunds 101 (2027)", estimated_minutes=20, validity_days=365)
        assert (course.slug, course.status, course.partner_id) == (
            "refunds-101-2027",
            CourseStatus.DRAFT,
            None,
        )
        assert course.version == 0 and course.owner_id == prm.id
        event = db.session.scalars(select(AuditEvent)).one()
        assert (event.action, event.target_id) == ("training.course_created", course.id)


@pytest.mark.parametrize(
    ("details", "field", "words"),
    [
        ({"title": "  "}, "title", "Give the course a title."),
        ({"pass_mark": 120}, "pass_mark", "from 0 to 100"),
        ({"pass_mark": -1}, "pass_mark", "from 0 to 100"),
        ({"max_attempts": 0}, "max_attempts", "above zero"),
        ({"max_attempts": -3}, "max_attempts", "above zero"),
        ({"validity_days": 0}, "validity_days", "above zero"),
        ({"estimated_minutes": -5}, "estimated_minutes", "above zero"),
        ({"slug": "Not a slug!"}, "slug", "lower-case letters"),
    ],
)
def test_bad_course_details_get_a_clear_message_and_write_nothing(
    app, make_user, details, field, words
):
    """Each bad course setting is refused with its own message, before anything is written."""
    prm = make_user(role="prm")
    with _ctx(app, prm) as actor:
        details = {"title": "Refunds 101", **details}
        message = _refused(lambda: create_course(actor, CourseDetails(**details)), field)
        assert words in message


def test_a_duplicate_slug_is_refused_on_create_and_update(app, make_user):
    """Two courses cannot share a slug; the message names it."""
    prm = make_user(role="prm")
    with _ctx(app, prm) as actor:
        _course(actor, "Refunds 101")
        other = _course(actor, "Escalations")
        message = _refused(lambda: create_course(actor, CourseDetails(title="Refunds 101")), "slug")
        assert message == "Another course already uses the slug “refunds-101”."
        _refused(
            lambda: update_course(actor, other, CourseDetails(title="X", slug="refunds-101")),
            "slug",
        )
        assert db.session.get(Course, other.id).title == "Escalations"


def test_agents_cannot_write_courses(app, make_user):
    """An agent's attempt to create a course is refused."""
    agent = make_user(role="agent")
    with _ctx(app, agent) as actor:
        assert _refused(lambda: create_course(actor, CourseDetails(title="Mine"))) == (
            "You cannot edit this course."
        )


def test_a_trainers_course_is_local_to_their_partner(app, make_partner, make_team, make_user):
    """A trainer's course belongs to their partner, addresses only it, and others can't edit it."""
    alpha, bravo = make_partner(), make_partner()
    bravo_team = make_team(partner=bravo)
    trainer = make_user(role="trainer", partner=alpha)
    rival = make_user(role="trainer", partner=bravo)
    prm = make_user(role="prm")
    with _ctx(app, trainer) as actor:
        message = _refused(
            lambda: create_course(
                actor, CourseDetails(title="Ours", audience=AudienceSpec(partner_ids=[bravo.id]))
            ),
            "audience_partners",
        )
        assert message == "Partner-local content can only be addressed to its own partner."
        _refused(
            lambda: create_course(
                actor, CourseDetails(title="Ours", audience=AudienceSpec(team_ids=[bravo_team.id]))
            ),
            "audience_teams",
        )
        course = _course(actor, "Ours", audience=AudienceSpec(partner_ids=[alpha.id]))
        assert course.partner_id == alpha.id
        assert can_edit_course(actor, course)
        rival_user = db.session.get(User, rival.id)
        assert not can_edit_course(rival_user, course)
        assert can_edit_course(db.session.get(User, prm.id), course)
        assert _refused(lambda: add_lesson(rival_user, course, title="Hijack", body="x")) == (
            "You cannot edit this course."
        )
        company = _course(db.session.get(User, prm.id), "Company wide")
        assert not can_edit_course(actor, company)


def test_a_lesson_is_text_rendered_safely_or_a_visible_published_document(
    app, make_partner, make_user, make_document
):
    """Lessons take Markdown (sanitized) or a published library document the author can see."""
    alpha, bravo = make_partner(), make_partner()
    trainer = make_user(role="trainer", partner=alpha)
    bravo_trainer = make_user(role="trainer", partner=bravo)
    handbook = make_document("Refund handbook")
    bravo_doc = make_document("Bravo secrets", author=bravo_trainer)
    alpha_draft = make_document("Alpha draft", author=trainer, publish=False)
    with _ctx(app, trainer) as actor:
        course = _course(actor)
        text = add_lesson(actor, course, title="Intro", body="Hi <script>alert(1)</script> **you**")
        assert "<strong>you</strong>" in text.html and "<script" not in text.html
        doc_lesson = add_lesson(actor, course, title="Read", document_id=handbook.id)
        assert (doc_lesson.body, doc_lesson.document_id, doc_lesson.position) == (
            None,
            handbook.id,
            2,
        )
        db.session.commit()
        both = _refused(
            lambda: add_lesson(actor, course, title="X", body="y", document_id=handbook.id), "body"
        )
        assert both == "A lesson is either its own text or a library document: give one of them."
        _refused(lambda: add_lesson(actor, course, title="X", body="  "), "body")
        _refused(lambda: add_lesson(actor, course, title=" ", body="y"), "title")
        hidden = _refused(
            lambda: add_lesson(actor, course, title="X", document_id=bravo_doc.id), "document_id"
        )
        assert hidden == "There is no such library document, or you cannot see it."
        draft = _refused(
            lambda: add_lesson(actor, course, title="X", document_id=alpha_draft.id),
            "document_id",
        )
        assert draft == "“Alpha draft” is not published; publish it first."
        update_lesson(actor, doc_lesson, title="Now text", body="# Plain")
        assert doc_lesson.document_id is None and "<h1" in doc_lesson.html


def _lessons(actor, course, count):
    lessons = [add_lesson(actor, course, title=f"L{n}", body=f"Lesson {n}") for n in range(count)]
    db.session.commit()
    return [lesson.id for lesson in lessons]


def _order(course):
    return [lesson.id for lesson in active_lessons(course)]


def test_lessons_are_reordered_and_removed(app, make_user):
    """Lessons follow the posted order; a removed lesson leaves the order but stays stored."""
    prm = make_user(role="prm")
    with _ctx(app, prm) as actor:
        course = _course(actor)
        a, b, c = _lessons(actor, course, 3)
        reorder_lessons(actor, course, [c, a, b])
        db.session.commit()
        assert _order(course) == [c, a, b]
        remove_lesson(actor, db.session.get(Lesson, a))
        db.session.commit()
        assert _order(course) == [c, b]
        assert db.session.get(Lesson, a).removed_at is not None
        assert _refused(lambda: remove_lesson(actor, db.session.get(Lesson, a))) == (
            "This lesson is not part of the course any more."
        )
        reorder_lessons(actor, course, [b, c])
        assert _order(course) == [b, c]


def test_a_lesson_order_naming_other_lessons_is_refused(app, make_user):
    """Another course's lessons, a missing lesson or a repeated one: refused, order unchanged."""
    prm = make_user(role="prm")
    with _ctx(app, prm) as actor:
        course, other = _course(actor), _course(actor, "Other")
        a, b = _lessons(actor, course, 2)
        (foreign,) = _lessons(actor, other, 1)
        message = _refused(lambda: reorder_lessons(actor, course, [b, a, foreign]))
        assert message == f"The new order names lesson(s) {foreign}, which are not in this course."
        missing = _refused(lambda: reorder_lessons(actor, course, [b]))
        assert missing == f"The new order leaves out lesson(s) {a}; list every one."
        twice = _refused(lambda: reorder_lessons(actor, course, [b, a, b]))
        assert twice == f"The new order lists lesson(s) {b} more than once."
        _refused(lambda: reorder_lessons(actor, course, ["x", a]))
        assert _order(course) == [a, b]


@pytest.mark.parametrize(
    ("text", "kind", "choices", "field", "words"),
    [
        (" ", "single", SINGLE, "text", "Write the question."),
        ("Q?", "essay", SINGLE, "kind", "not a kind of question"),
        ("Q?", "single", [("Only", True)], "choices", "2 to 10 answers"),
        ("Q?", "single", [(f"A{n}", n == 0) for n in range(11)], "choices", "2 to 10 answers"),
        ("Q?", "single", [("A", True), ("B", True)], "choices", "exactly one correct"),
        ("Q?", "single", [("A", False), ("B", False)], "choices", "exactly one correct"),
        ("Q?", "multiple", [("A", False), ("B", False)], "choices", "at least one answer"),
        ("Q?", "multiple", [("A", True), (" ", False)], "choices", "needs its text"),
        ("Q?", "multiple", [("A", True), ("A", False)], "choices", "same text"),
    ],
)
def test_bad_questions_get_a_clear_message_and_write_nothing(
    app, make_user, text, kind, choices, field, words
):
    """Each malformed question is refused with its own message; no question or answer is stored."""
    prm = make_user(role="prm")
    with _ctx(app, prm) as actor:
        course = _course(actor, has_quiz=True, pass_mark=70)
        message = _refused(
            lambda: quizzes.add_question(actor, course, text=text, kind=kind, choices=choices),
            field,
        )
        assert words in message


def test_questions_are_added_rewritten_reordered_and_removed(app, make_user):
    """The quiz editor keeps answers in order, replaces them on edit and follows a new order."""
    prm = make_user(role="prm")
    with _ctx(app, prm) as actor:
        course = _course(actor, has_quiz=True, pass_mark=70)
        first = quizzes.add_question(
            actor,
            course,
            text="Pick the true ones",
            kind="multiple",
            choices=[("A", True), ("B", False), ("C", True)],
            explanation="A and C.",
        )
        second = quizzes.add_question(actor, course, text="Refund?", kind="single", choices=SINGLE)
        db.session.commit()
        assert [
            (c.text, c.correct)
            for c in db.session.scalars(
                select(Choice).where(Choice.question_id == first.id).order_by(Choice.position)
            )
        ] == [("A", True), ("B", False), ("C", True)]
        quizzes.update_question(
            actor, first, text="Pick one", kind="single", choices=[("Yes", False), ("No", True)]
        )
        db.session.commit()
        assert db.session.scalars(
            select(Choice.text).where(Choice.question_id == first.id).order_by(Choice.position)
        ).all() == ["Yes", "No"]
        quizzes.reorder_questions(actor, course, [second.id, first.id])
        db.session.commit()
        assert (first.position, second.position) == (2, 1)
        other = _quiz_course(actor, "Other")
        (foreign,) = db.session.scalars(select(Question.id).where(Question.course_id == other.id))
        _refused(lambda: quizzes.reorder_questions(actor, course, [first.id, foreign]))
        quizzes.remove_question(actor, first)
        db.session.commit()
        _refused(lambda: quizzes.reorder_questions(actor, course, [second.id, first.id]))
        quizzes.reorder_questions(actor, course, [second.id])


def test_publishing_needs_lessons_and_a_complete_quiz(app, make_user):
    """A course without lessons, or with a quiz lacking questions or a pass mark, stays a draft."""
    prm = make_user(role="prm")
    with _ctx(app, prm) as actor:
        course = _course(actor, has_quiz=True)
        message = _refused(lambda: publish_course(actor, course))
        assert "Add at least one lesson." in message
        assert "Set a pass mark for the quiz." in message
        assert "Add at least one quiz question" in message
        add_lesson(actor, course, title="Intro", body="Hello")
        update_course(actor, course, CourseDetails(title=course.title, has_quiz=True, pass_mark=0))
        db.session.commit()
        message = _refused(lambda: publish_course(actor, course))
        assert message == (
            "The course cannot be published yet: Add at least one quiz question, or turn the "
            "quiz off."
        )
        assert db.session.get(Course, course.id).status == CourseStatus.DRAFT
        update_course(actor, course, CourseDetails(title=course.title, has_quiz=False))
        publish_course(actor, course)
        assert course.status == CourseStatus.PUBLISHED


def test_each_publish_bumps_the_version_and_edits_between_do_not(app, make_user):
    """Version 1 on first publish, unchanged by edits, 2 on the next publish."""
    prm = make_user(role="prm")
    with _ctx(app, prm) as actor:
        course = _quiz_course(actor)
        publish_course(actor, course)
        db.session.commit()
        assert (course.version, course.status) == (1, CourseStatus.PUBLISHED)
        assert course.published_at is not None
        add_lesson(actor, course, title="More", body="More text")
        update_course(
            actor, course, CourseDetails(title="Data privacy 2", has_quiz=True, pass_mark=90)
        )
        db.session.commit()
        assert (course.version, course.status) == (1, CourseStatus.PUBLISHED)
        publish_course(actor, course)
        db.session.commit()
        assert course.version == 2
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.action == "training.course_published")
        ).all()
        assert len(actions) == 2


def test_archived_courses_are_not_edited_until_restored(app, make_user):
    """An archived course refuses edits; restoring a once-published course publishes it again."""
    prm = make_user(role="prm")
    with _ctx(app, prm) as actor:
        course = _quiz_course(actor)
        publish_course(actor, course)
        archive_course(actor, course)
        db.session.commit()
        assert _refused(lambda: add_lesson(actor, course, title="X", body="y")) == (
            "This course is archived. Restore it before editing."
        )
        assert _refused(lambda: archive_course(actor, course)) == "This course is already archived."
        restore_course(actor, course)
        db.session.commit()
        assert course.status == CourseStatus.PUBLISHED and course.archived_at is None
        draft = _course(actor, "Never published")
        archive_course(actor, draft)
        restore_course(actor, draft)
        assert draft.status == CourseStatus.DRAFT


def test_editing_a_published_course_keeps_attempts_and_completions(app, make_user):
    """Rewriting or removing questions and raising the pass mark leave earlier records alone."""
    prm, agent = make_user(role="prm"), make_user(role="agent")
    with _ctx(app, prm) as actor:
        course = _quiz_course(actor)
        publish_course(actor, course)
        question = db.session.scalars(select(Question).where(Question.course_id == course.id)).one()
        choices = db.session.scalars(
            select(Choice).where(Choice.question_id == question.id).order_by(Choice.position)
        ).all()
        snapshot = [
            {
                "id": question.id,
                "text": question.text,
                "kind": question.kind,
                "explanation": question.explanation,
                "choices": [{"id": c.id, "text": c.text, "correct": c.correct} for c in choices],
            }
        ]
        attempt = QuizAttempt(
            user_id=agent.id,
            course_id=course.id,
            number=1,
            course_version=1,
            pass_mark=80,
            questions=snapshot,
            answers={str(question.id): [choices[0].id]},
            score=100,
            passed=True,
            submitted_at=course.published_at,
        )
        db.session.add(attempt)
        db.session.flush()
        db.session.add(
            Completion(
                user_id=agent.id,
                course_id=course.id,
                sequence=1,
                course_version=1,
                attempt_id=attempt.id,
                score=100,
                pass_mark=80,
                verification_code="CODE-1",
            )
        )
        db.session.commit()
        quizzes.update_question(
            actor, question, text="Rewritten", kind="single", choices=[("P", False), ("Q", True)]
        )
        quizzes.add_question(actor, course, text="New one", kind="single", choices=SINGLE)
        quizzes.remove_question(actor, question)
        update_course(actor, course, CourseDetails(title=course.title, has_quiz=True, pass_mark=95))
        publish_course(actor, course)
        db.session.commit()
        db.session.expire_all()
        kept = db.session.get(QuizAttempt, attempt.id)
        assert (kept.questions, kept.pass_mark, kept.course_version, kept.score) == (
            snapshot,
            80,
            1,
            100,
        )
        completion = db.session.scalars(select(Completion)).one()
        assert (completion.pass_mark, completion.course_version) == (80, 1)
        assert db.session.get(Course, course.id).version == 2


def test_a_course_showing_an_archived_document_is_not_published(app, make_user, make_document):
    """Publishing names a lesson's library document that has been archived since."""
    from portal.library.models import Document
    from portal.library.services import archive

    prm = make_user(role="prm")
    handbook = make_document("Refund handbook")
    with _ctx(app, prm) as actor:
        course = _course(actor)
        add_lesson(actor, course, title="Read", document_id=handbook.id)
        archive(actor, db.session.get(Document, handbook.id))
        db.session.commit()
        message = _refused(lambda: publish_course(actor, course))
        assert message == (
            "The course cannot be published yet: The lesson document “Refund handbook” is no "
            "longer published."
        )

"""Writing quizzes, publishing, archiving; earlier records never change."""

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.training import quizzes
from portal.training.models import (
    Choice,
    Completion,
    Course,
    CourseStatus,
    Question,
    QuizAttempt,
)
from portal.training.services import (
    CourseDetails,
    add_lesson,
    archive_course,
    publish_course,
    restore_course,
    update_course,
)
from tests.training_helpers import SINGLE, course_by, ctx, quiz_course, refused


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
    with ctx(app, prm) as actor:
        course = course_by(actor, has_quiz=True, pass_mark=70)
        message = refused(
            lambda: quizzes.add_question(actor, course, text=text, kind=kind, choices=choices),
            field,
        )
        assert words in message


def test_questions_are_added_rewritten_reordered_and_removed(app, make_user):
    """The quiz editor keeps answers in order, replaces them on edit and follows a new order."""
    prm = make_user(role="prm")
    with ctx(app, prm) as actor:
        course = course_by(actor, has_quiz=True, pass_mark=70)
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
        other = quiz_course(actor, "Other")
        (foreign,) = db.session.scalars(select(Question.id).where(Question.course_id == other.id))
        refused(lambda: quizzes.reorder_questions(actor, course, [first.id, foreign]))
        quizzes.remove_question(actor, first)
        db.session.commit()
        refused(lambda: quizzes.reorder_questions(actor, course, [second.id, first.id]))
        quizzes.reorder_questions(actor, course, [second.id])


def test_publishing_needs_lessons_and_a_complete_quiz(app, make_user):
    """A course without lessons, or with a quiz lacking questions or a pass mark, stays a draft."""
    prm = make_user(role="prm")
    with ctx(app, prm) as actor:
        course = course_by(actor, has_quiz=True)
        message = refused(lambda: publish_course(actor, course))
        assert "Add at least one lesson." in message
        assert "Set a pass mark for the quiz." in message
        assert "Add at least one quiz question" in message
        add_lesson(actor, course, title="Intro", body="Hello")
        update_course(actor, course, CourseDetails(title=course.title, has_quiz=True, pass_mark=0))
        db.session.commit()
        message = refused(lambda: publish_course(actor, course))
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
    with ctx(app, prm) as actor:
        course = quiz_course(actor)
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
    with ctx(app, prm) as actor:
        course = quiz_course(actor)
        publish_course(actor, course)
        archive_course(actor, course)
        db.session.commit()
        assert refused(lambda: add_lesson(actor, course, title="X", body="y")) == (
            "This course is archived. Restore it before editing."
        )
        assert refused(lambda: archive_course(actor, course)) == "This course is already archived."
        restore_course(actor, course)
        db.session.commit()
        assert course.status == CourseStatus.PUBLISHED and course.archived_at is None
        draft = course_by(actor, "Never published")
        archive_course(actor, draft)
        restore_course(actor, draft)
        assert draft.status == CourseStatus.DRAFT


def test_editing_a_published_course_keeps_attempts_and_completions(app, make_user):
    """Rewriting or removing questions and raising the pass mark leave earlier records alone."""
    prm, agent = make_user(role="prm"), make_user(role="agent")
    with ctx(app, prm) as actor:
        course = quiz_course(actor)
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
    with ctx(app, prm) as actor:
        course = course_by(actor)
        add_lesson(actor, course, title="Read", document_id=handbook.id)
        archive(actor, db.session.get(Document, handbook.id))
        db.session.commit()
        message = refused(lambda: publish_course(actor, course))
        assert message == (
            "The course cannot be published yet: The lesson document “Refund handbook” is no "
            "longer published."
        )

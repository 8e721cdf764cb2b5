"""Taking a course: lessons, quiz attempts, completions, recertification (the services)."""

import random
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.training import certificates, overview, quizzes, taking
from portal.training.models import Completion, LessonProgress, QuizAttempt
from portal.training.services import (
    active_lessons,
    active_questions,
    add_lesson,
    archive_course,
    publish_course,
    remove_lesson,
    update_course,
)
from tests.training_helpers import SINGLE, course_by, ctx

# Well after the people are made, so requirements dated before NOW apply to them in full.
NOW = datetime.now(UTC).replace(microsecond=0) + timedelta(days=400)
MULTIPLE = [("Name", True), ("Account number", True), ("Favourite colour", False)]


@pytest.fixture
def people(make_partner, make_user):
    partner = make_partner()
    return {
        "partner": partner,
        "prm": make_user(role="prm"),
        "agent": make_user(role="agent", partner=partner),
        "other": make_user(role="agent", partner=partner),
    }


def _published(prm, *, quiz=True, lessons=2, questions=2, **kw):
    """A published course with ``lessons`` lessons and (with ``quiz``) two questions."""
    if quiz:
        kw.setdefault("pass_mark", 100)
    course = course_by(prm, "Refunds 101", has_quiz=quiz, **kw)
    for n in range(1, lessons + 1):
        add_lesson(prm, course, title=f"Lesson {n}", body=f"Step {n}.")
    if quiz:
        quizzes.add_question(prm, course, text="A refund?", kind="single", choices=SINGLE)
        if questions > 1:
            quizzes.add_question(
                prm, course, text="Which identify?", kind="multiple", choices=MULTIPLE
            )
    publish_course(prm, course)
    db.session.commit()
    return course


def _read_all(person, course, now=NOW):
    for lesson in active_lessons(course):
        taking.complete_lesson(person, course, lesson, now=now)
    db.session.commit()


def _answers(attempt, *, right=True):
    """Answers to every question of ``attempt``: all right, or the first one wrong."""
    answers = {}
    for n, question in enumerate(attempt.questions):
        good = [c["key"] for c in question["choices"] if c["correct"]]
        bad = [c["key"] for c in question["choices"] if not c["correct"]][:1]
        answers[question["key"]] = bad if (not right and n == 0) else good
    return answers


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_lessons_are_recorded_once_and_progress_resumes(app, people):
    with ctx(app, people["prm"]) as prm:
        course = _published(prm)
        agent = db.session.get(type(prm), people["agent"].id)
        first, second = active_lessons(course)
        assert taking.progress(agent, course).next_lesson.id == first.id
        assert taking.progress(agent, course).state == "not_started"
        taking.complete_lesson(agent, course, first, now=NOW)
        taking.complete_lesson(agent, course, first, now=NOW)  # a double click
        db.session.commit()
        assert _count(LessonProgress) == 1
        standing = taking.progress(agent, course)
        assert standing.next_lesson.id == second.id
        assert standing.state == "in_progress"
        assert standing.done_count == 1 and not standing.lessons_done


def test_removed_lessons_and_archived_courses_are_refused(app, people):
    with ctx(app, people["prm"]) as prm:
        course = _published(prm)
        other = _published(prm, quiz=False, lessons=1, slug="other")
        agent = db.session.get(type(prm), people["agent"].id)
        first, second = active_lessons(course)
        with pytest.raises(InvalidInput, match="not part of the course"):
            taking.complete_lesson(agent, course, active_lessons(other)[0])
        remove_lesson(prm, second)
        db.session.commit()
        with pytest.raises(InvalidInput, match="not part of the course"):
            taking.complete_lesson(agent, course, second)
        archive_course(prm, course)
        db.session.commit()
        with pytest.raises(InvalidInput, match="not open"):
            taking.complete_lesson(agent, course, first)
        assert _count(LessonProgress) == 0


def test_a_course_without_quiz_completes_with_its_last_lesson(app, people):
    with ctx(app, people["prm"]) as prm:
        course = _published(prm, quiz=False, validity_days=365)
        agent = db.session.get(type(prm), people["agent"].id)
        first, last = active_lessons(course)
        assert taking.complete_lesson(agent, course, first, now=NOW) is None
        completion = taking.complete_lesson(agent, course, last, now=NOW)
        db.session.commit()
        assert completion.sequence == 1 and completion.attempt_id is None
        assert completion.expires_at == NOW + timedelta(days=365)
        assert re.fullmatch(r"[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}", completion.verification_code)
        # Reading again while it is valid writes nothing new.
        assert taking.complete_lesson(agent, course, last, now=NOW) is None
        # Near expiry, finishing the last lesson again renews it.
        later = NOW + timedelta(days=350)
        renewal = taking.complete_lesson(agent, course, last, now=later)
        db.session.commit()
        assert renewal.sequence == 2 and renewal.expires_at == later + timedelta(days=365)


def test_the_quiz_opens_after_the_lessons_with_a_shuffled_snapshot(app, people):
    with ctx(app, people["prm"]) as prm:
        course = _published(prm)
        agent = db.session.get(type(prm), people["agent"].id)
        with pytest.raises(InvalidInput, match="Finish the lessons first: 0 of 2"):
            taking.start_attempt(agent, course)
        _read_all(agent, course)
        attempt = taking.start_attempt(agent, course, now=NOW, rng=random.Random(3))
        db.session.commit()
        authored = [(q.id, [c.id for c in q.choices]) for q in active_questions(course)]
        shown = [(q["id"], [c["id"] for c in q["choices"]]) for q in attempt.questions]
        assert sorted(shown) != shown or any(a != b for a, b in zip(authored, shown, strict=True))
        assert {q for q, _ in shown} == {q for q, _ in authored}
        assert attempt.number == 1 and attempt.pass_mark == 100
        # Opening the quiz again (a reload, a second tab) continues the same attempt.
        assert taking.start_attempt(agent, course).id == attempt.id
        assert _count(QuizAttempt) == 1


def test_shuffling_varies_between_attempts(app, people):
    orders = set()
    with ctx(app, people["prm"]) as prm:
        course = _published(prm)
        agent = db.session.get(type(prm), people["agent"].id)
        _read_all(agent, course)
        for seed in range(8):
            attempt = taking.start_attempt(agent, course, rng=random.Random(seed))
            orders.add(
                tuple((q["id"], tuple(c["id"] for c in q["choices"])) for q in attempt.questions)
            )
            taking.submit_attempt(agent, attempt, _answers(attempt, right=False))
            db.session.commit()
    assert len(orders) > 1


def test_failing_gives_feedback_and_counts_against_the_limit(app, people):
    with ctx(app, people["prm"]) as prm:
        course = _published(prm, max_attempts=2, pass_mark=50)
        agent = db.session.get(type(prm), people["agent"].id)
        _read_all(agent, course)
        for _ in range(2):
            attempt = taking.start_attempt(agent, course)
            answers = _answers(attempt, right=False)
            answers[attempt.questions[1]["key"]] = [
                c["key"] for c in attempt.questions[1]["choices"] if not c["correct"]
            ]
            taking.submit_attempt(agent, attempt, answers)
            db.session.commit()
            assert attempt.score == 0 and attempt.passed is False
            first = attempt.questions[0]
            assert not taking.is_right(first, attempt.answers[first["key"]])
        standing = taking.progress(agent, course)
        assert standing.attempts_left == 0 and not standing.can_start_quiz
        with pytest.raises(InvalidInput, match="used all 2 attempts"):
            taking.start_attempt(agent, course)
        assert _count(QuizAttempt) == 2 and _count(Completion) == 0


def test_passing_completes_with_what_it_was_measured_against(app, people):
    with ctx(app, people["prm"]) as prm:
        course = _published(prm, pass_mark=50, validity_days=365)
        agent = db.session.get(type(prm), people["agent"].id)
        _read_all(agent, course)
        attempt = taking.start_attempt(agent, course, now=NOW)
        answers = _answers(attempt, right=False)  # one of two wrong: 50 %
        taking.submit_attempt(agent, attempt, answers, now=NOW)
        db.session.commit()
        assert attempt.score == 50 and attempt.passed
        completion = db.session.scalars(select(Completion)).one()
        assert (completion.attempt_id, completion.score, completion.pass_mark) == (
            attempt.id,
            50,
            50,
        )
        assert completion.course_version == 1
        # Editing the course and its quiz afterwards changes no record.
        details = taking.progress(agent, course)
        assert details.state == "completed" and not details.renewable
        question = active_questions(course)[0]
        quizzes.update_question(
            prm, question, text="Changed", kind="single", choices=[("A", True), ("B", False)]
        )
        from portal.training.services import CourseDetails

        update_course(prm, course, CourseDetails(title="Renamed", pass_mark=90, has_quiz=True))
        publish_course(prm, course)
        db.session.commit()
        db.session.expire_all()
        kept = db.session.get(QuizAttempt, attempt.id)
        assert kept.pass_mark == 50 and "Changed" not in {q["text"] for q in kept.questions}
        assert db.session.get(Completion, completion.id).course_version == 1
        with pytest.raises(InvalidInput, match="already completed"):
            taking.start_attempt(agent, course, now=NOW)


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda a, ans: ans.pop(a.questions[0]["key"]), "question 1 has no answer"),
        (lambda a, ans: ans.update({a.questions[1]["key"]: []}), "question 2 has no answer"),
        (lambda a, ans: ans.update({"q0-1": ["c0-1-1"]}), "not part of this attempt"),
        (lambda a, ans: ans.update({a.questions[0]["key"]: ["nope"]}), "not part of this attempt"),
        (
            lambda a, ans: ans.update(
                {
                    q["key"]: [c["key"] for c in q["choices"]]
                    for q in a.questions
                    if q["kind"] == "single"
                }
            ),
            "takes one answer only",
        ),
    ],
)
def test_bad_answers_are_refused_and_change_nothing(app, people, mangle, message):
    with ctx(app, people["prm"]) as prm:
        course = _published(prm)
        agent = db.session.get(type(prm), people["agent"].id)
        _read_all(agent, course)
        attempt = taking.start_attempt(agent, course, rng=random.Random(1))
        db.session.commit()
        answers = _answers(attempt)
        mangle(attempt, answers)
        with pytest.raises(InvalidInput, match=message):
            taking.submit_attempt(agent, attempt, answers)
        db.session.rollback()
        kept = db.session.get(QuizAttempt, attempt.id)
        assert kept.submitted_at is None and kept.answers is None
        assert _count(Completion) == 0


def test_answers_of_another_attempt_are_refused(app, people):
    """Choice ids from an attempt made before the quiz was edited do not fit the new one."""
    with ctx(app, people["prm"]) as prm:
        course = _published(prm, questions=1)
        agent = db.session.get(type(prm), people["agent"].id)
        _read_all(agent, course)
        first = taking.start_attempt(agent, course)
        old_answers = _answers(first)
        taking.submit_attempt(agent, first, _answers(first, right=False))
        question = active_questions(course)[0]
        quizzes.update_question(prm, question, text="Again", kind="single", choices=SINGLE)
        db.session.commit()
        second = taking.start_attempt(agent, course)
        db.session.commit()
        with pytest.raises(InvalidInput, match="not part of this attempt"):
            taking.submit_attempt(agent, second, old_answers)


def test_a_second_submit_is_refused_even_when_racing(app, people):
    with ctx(app, people["prm"]) as prm:
        course = _published(prm)
        agent = db.session.get(type(prm), people["agent"].id)
        other = db.session.get(type(prm), people["other"].id)
        _read_all(agent, course)
        attempt = taking.start_attempt(agent, course)
        db.session.commit()
        answers = _answers(attempt)
        with pytest.raises(InvalidInput, match="not your quiz attempt"):
            taking.submit_attempt(other, attempt, answers)
        stale_id = attempt.id
    # Another request submits the same attempt while this one still holds it unsubmitted.
    with app.app_context():
        agent = db.session.get(type(prm), people["agent"].id)
        held = db.session.get(QuizAttempt, stale_id)
        assert held.submitted_at is None
        with app.app_context():
            racer = db.session.get(type(prm), people["agent"].id)
            taking.submit_attempt(racer, db.session.get(QuizAttempt, stale_id), answers)
            db.session.commit()
        with pytest.raises(InvalidInput, match="already been submitted"):
            taking.submit_attempt(agent, held, answers)
        db.session.rollback()
        assert _count(Completion) == 1
        with pytest.raises(InvalidInput, match="already been submitted"):
            taking.submit_attempt(agent, db.session.get(QuizAttempt, stale_id), answers)


def test_recertification_opens_a_new_round(app, people):
    with ctx(app, people["prm"]) as prm:
        course = _published(prm, validity_days=365, max_attempts=1, pass_mark=100)
        agent = db.session.get(type(prm), people["agent"].id)
        _read_all(agent, course)
        attempt = taking.start_attempt(agent, course, now=NOW)
        taking.submit_attempt(agent, attempt, _answers(attempt), now=NOW)
        db.session.commit()
        soon = NOW + timedelta(days=340)
        standing = taking.progress(agent, course, now=soon)
        assert standing.valid and standing.renewable and standing.attempts_left == 1
        renewal = taking.start_attempt(agent, course, now=soon)
        taking.submit_attempt(agent, renewal, _answers(renewal), now=soon)
        db.session.commit()
        completions = db.session.scalars(select(Completion).order_by(Completion.sequence)).all()
        assert [c.sequence for c in completions] == [1, 2]
        assert completions[1].expires_at == soon + timedelta(days=365)
        assert renewal.number == 2


def test_certificates_are_verified_within_what_the_viewer_sees(
    app, people, make_partner, make_user
):
    elsewhere = make_partner()
    stranger = make_user(role="trainer", partner=elsewhere)
    trainer = make_user(role="trainer", partner=people["partner"])
    with ctx(app, people["prm"]) as prm:
        course = _published(prm, quiz=False, lessons=1)
        agent = db.session.get(type(prm), people["agent"].id)
        _read_all(agent, course)
        code = db.session.scalars(select(Completion.verification_code)).one()
        typed = code.replace("-", " ").lower()
        assert certificates.find_completion(prm, typed).user.id == agent.id
        assert certificates.find_completion(agent, code) is not None
        for viewer in (trainer, stranger, people["other"]):
            viewer = db.session.get(type(prm), viewer.id)
            found = certificates.find_completion(viewer, code)
            assert (found is not None) == (viewer.id == trainer.id)
        assert certificates.find_completion(prm, "") is None
        assert certificates.find_completion(prm, "NOPE-NOPE-NOPE") is None


def test_my_training_lists_statuses_most_urgent_first(app, people):
    from portal.training.requirements import RequirementDetails, create_requirement

    with ctx(app, people["prm"]) as prm:
        overdue = _published(prm, quiz=False, lessons=1, slug="overdue")
        started = _published(prm, quiz=False, lessons=2, slug="started")
        done = _published(prm, quiz=False, lessons=1, slug="done", validity_days=365)
        untouched = _published(prm, quiz=False, lessons=1, slug="untouched")
        agent = db.session.get(type(prm), people["agent"].id)
        create_requirement(
            prm,
            RequirementDetails(
                kind="course", target_id=overdue.id, due_rule="after_required", due_days=3
            ),
            now=NOW - timedelta(days=10),
        )
        taking.complete_lesson(agent, started, active_lessons(started)[0], now=NOW)
        _read_all(agent, done, now=NOW - timedelta(days=350))
        create_requirement(
            prm,
            RequirementDetails(
                kind="course", target_id=done.id, due_rule="after_required", due_days=30
            ),
            now=NOW - timedelta(days=360),
        )
        db.session.commit()
        rows = overview.my_training(agent, now=NOW)
        by_course = {r.course.id: r for r in rows}
        assert by_course[overdue.id].status == "overdue" and by_course[overdue.id].required
        assert by_course[started.id].status == "in_progress" and not by_course[started.id].required
        assert by_course[done.id].status == "expiring" and by_course[done.id].completion
        assert by_course[untouched.id].status == "not_started"
        assert [r.course.id for r in rows][:2] == [overdue.id, done.id]

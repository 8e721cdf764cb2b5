"""Taking a course: lessons, the quiz, and the completion with its verification code.

Every record here is written once and guarded by the database, not by a check-then-write in
Python, so double clicks, two tabs and two workers make one record:

- lesson progress is an insert that does nothing when the (person, lesson) row exists;
- an attempt is numbered per person and course under a unique key, and only one is open;
- submitting is one conditional UPDATE ``WHERE submitted_at IS NULL``: the second submit of
  the same attempt finds no row to update and is refused;
- a completion is unique per attempt and per (person, course, sequence).

A *round* is what someone does towards their next completion: the attempts since their
latest completion count against the course's attempt limit. When a completion nears its
expiry (recertification) a new round opens; lessons already read stay read.
"""

import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from portal.core.clock import utcnow
from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.training.certificates import new_code
from portal.training.models import (
    Completion,
    Course,
    CourseStatus,
    Lesson,
    LessonProgress,
    QuestionKind,
    QuizAttempt,
    Requirement,
    RequirementKind,
)
from portal.training.services import active_lessons, active_questions

# A completion that expires within this many days may be renewed, unless a requirement of the
# course asks for a longer warning.
RENEWAL_DAYS = 30


@dataclass
class CourseProgress:
    """One person's standing in one course."""

    course: Course
    lessons: list[Lesson]
    done_lesson_ids: set[int]
    attempts: list[QuizAttempt]  # submitted attempts of the current round, oldest first
    open_attempt: QuizAttempt | None
    completion: Completion | None  # the latest
    now: datetime
    renewal_days: int = RENEWAL_DAYS

    @property
    def next_lesson(self) -> Lesson | None:
        """The first lesson not done yet: where to resume."""
        return next((x for x in self.lessons if x.id not in self.done_lesson_ids), None)

    @property
    def lessons_done(self) -> bool:
        return self.next_lesson is None

    @property
    def done_count(self) -> int:
        return sum(1 for x in self.lessons if x.id in self.done_lesson_ids)

    @property
    def valid(self) -> bool:
        """A completion exists and has not expired."""
        c = self.completion
        return c is not None and (c.expires_at is None or c.expires_at > self.now)

    @property
    def renewable(self) -> bool:
        """The person may complete the course (again): nothing valid, or it expires soon."""
        if not self.valid:
            return True
        expires = self.completion.expires_at
        return expires is not None and expires - self.now <= timedelta(days=self.renewal_days)

    @property
    def attempts_left(self) -> int | None:
        """Attempts left in this round; None when unlimited."""
        limit = self.course.max_attempts
        return None if limit is None else max(0, limit - len(self.attempts))

    @property
    def can_start_quiz(self) -> bool:
        return (
            self.course.has_quiz
            and self.course.status == CourseStatus.PUBLISHED
            and self.lessons_done
            and self.renewable
            and (self.open_attempt is not None or self.attempts_left != 0)
        )

    @property
    def state(self) -> str:
        """not_started, in_progress or completed (a valid completion)."""
        if self.valid:
            return "completed"
        started = self.attempts or self.open_attempt
        if started or (self.completion is None and self.done_lesson_ids):
            return "in_progress"
        return "not_started"


def _renewal_days(person, course: Course) -> int:
    """The longest warning any active requirement of the course gives, or RENEWAL_DAYS."""
    longest = db.session.scalar(
        select(func.max(Requirement.warning_days)).where(
            Requirement.course_id == course.id,
            Requirement.withdrawn_at.is_(None),
            Requirement.kind == RequirementKind.COURSE,
        )
    )
    return max(longest or 0, RENEWAL_DAYS)


def _round_attempts(attempts: list[QuizAttempt], completion: Completion | None):
    """The attempts after the latest completion (all of them when there is none)."""
    if completion is None:
        return attempts
    if completion.attempt_id is not None:
        passed = next((a.number for a in attempts if a.id == completion.attempt_id), 0)
        return [a for a in attempts if a.number > passed]
    return [a for a in attempts if a.started_at >= completion.completed_at]


def progress(person, course: Course, *, now=None) -> CourseProgress:
    """``person``'s standing in ``course`` (five queries, whatever the course's size)."""
    now = now or utcnow()
    done = set(
        db.session.scalars(
            select(LessonProgress.lesson_id).where(
                LessonProgress.user_id == person.id, LessonProgress.course_id == course.id
            )
        )
    )
    attempts = db.session.scalars(
        select(QuizAttempt)
        .where(QuizAttempt.user_id == person.id, QuizAttempt.course_id == course.id)
        .order_by(QuizAttempt.number)
    ).all()
    completion = db.session.scalars(
        select(Completion)
        .where(Completion.user_id == person.id, Completion.course_id == course.id)
        .order_by(Completion.sequence.desc())
        .limit(1)
    ).first()
    current = _round_attempts(attempts, completion)
    return CourseProgress(
        course=course,
        lessons=active_lessons(course),
        done_lesson_ids=done,
        attempts=[a for a in current if a.submitted_at is not None],
        open_attempt=next((a for a in attempts if a.submitted_at is None), None),
        completion=completion,
        now=now,
        renewal_days=_renewal_days(person, course),
    )


def _check_open(course: Course) -> None:
    if course.status != CourseStatus.PUBLISHED:
        raise InvalidInput("This course is not open: it has been archived or is not published.")


def complete_lesson(person, course: Course, lesson: Lesson, *, now=None) -> Completion | None:
    """Record that ``person`` finished ``lesson`` (once); complete a quiz-less course.

    A course without a quiz is completed when its last lesson is done; after a completion
    it is renewed by finishing the last lesson again once renewal has opened.
    """
    _check_open(course)
    if lesson.course_id != course.id or lesson.removed_at is not None:
        raise InvalidInput("This lesson is not part of the course any more.")
    now = now or utcnow()
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    db.session.execute(
        insert(LessonProgress)
        .values(user_id=person.id, course_id=course.id, lesson_id=lesson.id, completed_at=now)
        .on_conflict_do_nothing(index_elements=["user_id", "lesson_id"])
    )
    if course.has_quiz:
        return None
    standing = progress(person, course, now=now)
    is_last = standing.lessons and standing.lessons[-1].id == lesson.id
    if standing.lessons_done and standing.renewable and (standing.completion is None or is_last):
        return record_completion(person, course, now=now)
    return None


def _snapshot(course: Course, rng) -> list[dict]:
    """The course's questions as this attempt presents them: shuffled, answers shuffled.

    Each question and answer gets a key of its own for this attempt (a random salt and its
    place), and the form answers by key: answers meant for another attempt, or for the quiz
    before an edit, name keys this attempt does not have and are refused, even where the
    database has reused an id.
    """
    salt = secrets.token_hex(4)
    questions = [
        {
            "id": q.id,
            "text": q.text,
            "kind": q.kind,
            "explanation": q.explanation,
            "choices": [{"id": c.id, "text": c.text, "correct": c.correct} for c in q.choices],
        }
        for q in active_questions(course)
    ]
    rng.shuffle(questions)
    for n, question in enumerate(questions, 1):
        question["key"] = f"q{salt}-{n}"
        rng.shuffle(question["choices"])
        for m, choice in enumerate(question["choices"], 1):
            choice["key"] = f"c{salt}-{n}-{m}"
    return questions


def start_attempt(person, course: Course, *, now=None, rng=None) -> QuizAttempt:
    """The person's open attempt at the quiz, or a new one; InvalidInput when they may not."""
    _check_open(course)
    if not course.has_quiz:
        raise InvalidInput("This course has no quiz.")
    now = now or utcnow()
    standing = progress(person, course, now=now)
    if standing.open_attempt is not None:
        return standing.open_attempt
    if not standing.lessons_done:
        raise InvalidInput(
            f"Finish the lessons first: {standing.done_count} of {len(standing.lessons)} done."
        )
    if not standing.renewable:
        raise InvalidInput(_completed_message(standing.completion))
    if standing.attempts_left == 0:
        raise InvalidInput(
            f"You have used all {course.max_attempts} attempts at this quiz. Your trainer can "
            "tell you what happens next."
        )
    number = db.session.scalar(
        select(func.coalesce(func.max(QuizAttempt.number), 0)).where(
            QuizAttempt.user_id == person.id, QuizAttempt.course_id == course.id
        )
    )
    attempt = QuizAttempt(
        user_id=person.id,
        course_id=course.id,
        number=number + 1,
        course_version=course.version,
        pass_mark=course.pass_mark,
        questions=_snapshot(course, rng or random.SystemRandom()),
        started_at=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(attempt)
    except IntegrityError:
        # Another request opened the attempt a moment ago: carry on with that one.
        return progress(person, course, now=now).open_attempt
    return attempt


def _completed_message(completion: Completion) -> str:
    if completion.expires_at is None:
        return "You have already completed this course."
    return (
        "You have already completed this course; it is valid until "
        f"{completion.expires_at:%-d %b %Y}. You can renew it closer to that date."
    )


def _check_answers(attempt: QuizAttempt, answers: dict) -> dict[str, set[str]]:
    """The answers as {question key: {choice keys}}, or InvalidInput."""
    questions = {q["key"]: q for q in attempt.questions}
    chosen = {str(k): {str(c) for c in (v or [])} for k, v in (answers or {}).items()}
    foreign = [k for k in chosen if k not in questions] + [
        k for k, keys in chosen.items() if k in questions and not keys <= _choice_keys(questions[k])
    ]
    if foreign:
        raise InvalidInput(
            "These answers belong to questions that are not part of this attempt (another "
            "attempt's, or an older version of the quiz). Nothing was saved; reload the quiz "
            "and answer again."
        )
    missing = [n for n, q in enumerate(attempt.questions, 1) if not chosen.get(q["key"])]
    if missing:
        listed = ", ".join(map(str, missing))
        plural = len(missing) > 1
        raise InvalidInput(
            f"Answer every question before submitting: question{'s' if plural else ''} "
            f"{listed} {'have' if plural else 'has'} no answer. Nothing was saved."
        )
    several = [
        n
        for n, q in enumerate(attempt.questions, 1)
        if q["kind"] == QuestionKind.SINGLE and len(chosen[q["key"]]) > 1
    ]
    if several:
        raise InvalidInput(
            f"Question {', '.join(map(str, several))} takes one answer only. Nothing was saved."
        )
    return chosen


def _choice_keys(question: dict) -> set[str]:
    return {c["key"] for c in question["choices"]}


def is_right(question: dict, chosen) -> bool:
    """Whether ``chosen`` (choice keys) is exactly the question's right answers."""
    right = {c["key"] for c in question["choices"] if c["correct"]}
    return set(chosen or []) == right


def submit_attempt(person, attempt: QuizAttempt, answers: dict, *, now=None) -> QuizAttempt:
    """Score and close ``attempt`` once; passing completes the course.

    ``answers`` maps question keys to lists of choice keys (see ``_snapshot``). Refused
    with InvalidInput, writing nothing: someone else's attempt, one already submitted (also
    by a request racing this one), unanswered questions, keys of questions or answers this
    attempt did not present.
    """
    if attempt.user_id != person.id:
        raise InvalidInput("This is not your quiz attempt.")
    if attempt.submitted_at is not None:
        raise InvalidInput("This attempt has already been submitted; its result is below.")
    course = db.session.get(Course, attempt.course_id)
    _check_open(course)
    chosen = _check_answers(attempt, answers)
    right = sum(1 for q in attempt.questions if is_right(q, chosen[q["key"]]))
    total = len(attempt.questions)
    now = now or utcnow()
    result = db.session.execute(
        update(QuizAttempt)
        .where(QuizAttempt.id == attempt.id, QuizAttempt.submitted_at.is_(None))
        .values(
            answers={k: sorted(v) for k, v in chosen.items()},
            score=right * 100 // total,
            passed=right * 100 >= attempt.pass_mark * total,
            submitted_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.expire(attempt)
        raise InvalidInput("This attempt has already been submitted; its result is below.")
    db.session.refresh(attempt)
    if attempt.passed:
        record_completion(person, course, attempt=attempt, now=now)
    return attempt


def record_completion(person, course: Course, *, attempt=None, now=None) -> Completion:
    """Write ``person``'s next completion of ``course`` (once per attempt and sequence)."""
    now = now or utcnow()
    sequence = db.session.scalar(
        select(func.coalesce(func.max(Completion.sequence), 0)).where(
            Completion.user_id == person.id, Completion.course_id == course.id
        )
    )
    completion = Completion(
        user_id=person.id,
        course_id=course.id,
        sequence=sequence + 1,
        course_version=course.version,
        attempt_id=getattr(attempt, "id", None),
        score=getattr(attempt, "score", None),
        pass_mark=getattr(attempt, "pass_mark", None),
        completed_at=now,
        expires_at=now + timedelta(days=course.validity_days) if course.validity_days else None,
        verification_code=new_code(),
    )
    try:
        with db.session.begin_nested():
            db.session.add(completion)
    except IntegrityError:
        # A racing request recorded this completion first; that record stands.
        return db.session.scalars(
            select(Completion)
            .where(Completion.user_id == person.id, Completion.course_id == course.id)
            .order_by(Completion.sequence.desc())
            .limit(1)
        ).one()
    return completion

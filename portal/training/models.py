"""Training: courses with lessons and a quiz, requirements with due rules, and the records.

What a completion was measured against is kept on the record itself, not looked up in the
course: a quiz attempt stores the questions and choices it presented (with which were right)
and the pass mark of that day; a completion stores the score, the pass mark, the course's
version number and when it expires. Editing or archiving a course never changes a record.
Lessons, questions and choices are removed by marking them, so lesson progress keeps pointing
at something real.
"""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    inspect,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.audiences.models import Audience
from portal.audit.models import AppendOnlyError
from portal.core.clock import UTCDateTime, utcnow
from portal.extensions import db


class CourseStatus(StrEnum):
    DRAFT = "draft"  # never published
    PUBLISHED = "published"
    ARCHIVED = "archived"


class QuestionKind(StrEnum):
    SINGLE = "single"  # exactly one choice is right
    MULTIPLE = "multiple"  # every right choice and no wrong one


class Course(db.Model):
    __tablename__ = "course"
    __table_args__ = (
        CheckConstraint("pass_mark IS NULL OR (pass_mark >= 0 AND pass_mark <= 100)", "pass_mark"),
        CheckConstraint("max_attempts IS NULL OR max_attempts > 0", "max_attempts"),
        CheckConstraint("validity_days IS NULL OR validity_days > 0", "validity_days"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    estimated_minutes: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default=CourseStatus.DRAFT, index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    # Set for a trainer's course, local to their partner; empty for company-wide.
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id"), index=True)
    # Who may find and take the course (requirements say who must, and by when).
    audience_id: Mapped[int] = mapped_column(ForeignKey("audience.id"), unique=True)
    has_quiz: Mapped[bool] = mapped_column(Boolean, default=False)
    pass_mark: Mapped[int | None] = mapped_column(Integer)  # percent
    max_attempts: Mapped[int | None] = mapped_column(Integer)  # None: unlimited
    validity_days: Mapped[int | None] = mapped_column(Integer)  # None: never expires
    # Bumped at every publish; completions record the version they were measured against.
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    audience: Mapped[Audience] = relationship(lazy="joined")
    owner = relationship("User", lazy="raise")
    partner = relationship("Partner", lazy="raise")
    lessons: Mapped[list["Lesson"]] = relationship(
        lazy="raise",
        order_by="Lesson.position",
        primaryjoin="and_(Lesson.course_id == Course.id, Lesson.removed_at.is_(None))",
        viewonly=True,
    )


class Lesson(db.Model):
    """One step of a course: its own Markdown, or a library document shown in place."""

    __tablename__ = "lesson"
    __table_args__ = (
        CheckConstraint(
            "(body IS NOT NULL AND document_id IS NULL) OR "
            "(body IS NULL AND document_id IS NOT NULL)",
            "text_or_document",
        ),
        Index("ix_lesson_course_position", "course_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"))
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)  # Markdown
    html: Mapped[str | None] = mapped_column(Text)  # sanitized render of body
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"), index=True)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    course: Mapped[Course] = relationship(lazy="raise")
    document = relationship("Document", lazy="raise")


class Question(db.Model):
    __tablename__ = "question"
    __table_args__ = (Index("ix_question_course_position", "course_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"))
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(1000))
    kind: Mapped[str] = mapped_column(String(10), default=QuestionKind.SINGLE)
    explanation: Mapped[str] = mapped_column(String(1000), default="")  # shown after an attempt
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    choices: Mapped[list["Choice"]] = relationship(
        lazy="raise", order_by="Choice.position", cascade="all, delete-orphan"
    )


class Choice(db.Model):
    __tablename__ = "choice"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(500))
    correct: Mapped[bool] = mapped_column(Boolean, default=False)


class DueRule(StrEnum):
    FIXED_DATE = "fixed_date"  # due on ``due_on``
    AFTER_HIRE = "after_hire"  # ``due_days`` after the person's hire date
    AFTER_REQUIRED = "after_required"  # ``due_days`` after the requirement was made


class RequirementKind(StrEnum):
    COURSE = "course"  # complete the course (again when its completion expires)
    DOCUMENT = "document"  # hold a current acknowledgement of the document


class Requirement(db.Model):
    """An audience must complete a course or acknowledge a document, by a rule for the due date.

    Nobody gets a deadline that had passed before the requirement applied to them: someone who
    joins later (or a long-serving person under an after-hire rule) is due a grace period
    after they became subject to it instead (see the training services).
    """

    __tablename__ = "requirement"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'course' AND course_id IS NOT NULL AND document_id IS NULL) OR "
            "(kind = 'document' AND document_id IS NOT NULL AND course_id IS NULL)",
            "one_target",
        ),
        CheckConstraint(
            "(due_rule = 'fixed_date' AND due_on IS NOT NULL) OR "
            "(due_rule IN ('after_hire', 'after_required') AND due_days IS NOT NULL "
            "AND due_days >= 0)",
            "due_rule_complete",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    course_id: Mapped[int | None] = mapped_column(ForeignKey("course.id"), index=True)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"), index=True)
    audience_id: Mapped[int] = mapped_column(ForeignKey("audience.id"), unique=True)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id"), index=True)
    due_rule: Mapped[str] = mapped_column(String(16))
    due_on: Mapped[date | None] = mapped_column(Date)
    due_days: Mapped[int | None] = mapped_column(Integer)
    # Recertification: warn this many days before a completion expires.
    warning_days: Mapped[int] = mapped_column(Integer, default=30)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    audience: Mapped[Audience] = relationship(lazy="joined")
    course: Mapped[Course | None] = relationship(lazy="raise")
    document = relationship("Document", lazy="raise")


class LessonProgress(db.Model):
    """A person finished a lesson. Written once."""

    __tablename__ = "lesson_progress"
    __table_args__ = (
        UniqueConstraint("user_id", "lesson_id"),
        Index("ix_lesson_progress_user_course", "user_id", "course_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id"))
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QuizAttempt(db.Model):
    """One try at a course's quiz, with the questions exactly as presented.

    Created when the person opens the quiz (``questions`` is the snapshot they must answer, in
    the shuffled order shown); submitted once (``submitted_at`` goes from empty to set in one
    conditional UPDATE, so a double submit counts once); never changed afterwards.
    """

    __tablename__ = "quiz_attempt"
    __table_args__ = (
        UniqueConstraint("user_id", "course_id", "number"),
        Index("ix_quiz_attempt_course_user", "course_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"))
    number: Mapped[int] = mapped_column(Integer)  # 1 for the first attempt
    course_version: Mapped[int] = mapped_column(Integer)
    pass_mark: Mapped[int] = mapped_column(Integer)
    # [{"id", "text", "kind", "explanation", "choices": [{"id", "text", "correct"}]}]
    questions: Mapped[list] = mapped_column(JSON)
    answers: Mapped[dict | None] = mapped_column(JSON)  # {question id: [choice ids]}
    score: Mapped[int | None] = mapped_column(Integer)  # percent
    passed: Mapped[bool | None] = mapped_column(Boolean)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Completion(db.Model):
    """A person completed a course (all lessons, and the quiz when it has one). Written once.

    ``sequence`` counts a person's completions of a course (1, 2, ... as they recertify); the
    unique key makes two simultaneous completions one record.
    """

    __tablename__ = "completion"
    __table_args__ = (
        UniqueConstraint("user_id", "course_id", "sequence"),
        Index("ix_completion_course_user", "course_id", "user_id", "expires_at"),
        Index("ix_completion_completed_at", "completed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"))
    sequence: Mapped[int] = mapped_column(Integer)
    course_version: Mapped[int] = mapped_column(Integer)
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("quiz_attempt.id"), unique=True)
    score: Mapped[int | None] = mapped_column(Integer)
    pass_mark: Mapped[int | None] = mapped_column(Integer)
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Printed on the certificate; trainers and PRMs check it in the portal.
    verification_code: Mapped[str] = mapped_column(String(24), unique=True)

    user = relationship("User", lazy="raise")
    course: Mapped[Course] = relationship(lazy="raise")
    attempt: Mapped[QuizAttempt | None] = relationship(lazy="raise")


@db.event.listens_for(LessonProgress, "before_update")
@db.event.listens_for(LessonProgress, "before_delete")
@db.event.listens_for(Completion, "before_update")
@db.event.listens_for(Completion, "before_delete")
def _refuse_rewrite(_mapper, _connection, target):
    raise AppendOnlyError(f"{type(target).__name__} records are written once")


@db.event.listens_for(QuizAttempt, "before_update")
@db.event.listens_for(QuizAttempt, "before_delete")
def _freeze_submitted_attempts(_mapper, _connection, target):
    history = inspect(target).attrs.submitted_at.load_history()
    if any(value is not None for value in (*history.unchanged, *history.deleted)):
        raise AppendOnlyError("a submitted quiz attempt is never changed")

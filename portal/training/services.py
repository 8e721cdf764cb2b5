"""Writing courses: details, lessons, publishing, archiving (questions: training.quizzes).

Rules that live here: staff write company courses, trainers only courses local to their own
partner; a course is published only when it can be taken (lessons, and a complete quiz when it
has one); each publish bumps the course's version. Editing a published course is allowed and
changes nothing already recorded: attempts and completions keep their own copy of what they
were measured against. Services add to the session and flush; the caller commits once.
"""

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal.access.permissions import AUTHOR_DOCUMENTS
from portal.access.visibility import visible_documents
from portal.audiences.models import Audience
from portal.audiences.services import AudienceSpec, apply_audience, check_audience
from portal.audit.services import record
from portal.core.clock import utcnow
from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.library.models import Document, DocumentStatus
from portal.library.rendering import render
from portal.library.services import SLUG_RE, slugify
from portal.training.models import Course, CourseStatus, Lesson, Question, QuestionKind

MAX_BODY = 200_000
MAX_DESCRIPTION = 5_000


@dataclass
class CourseDetails:
    """Everything about a course except its lessons and questions."""

    title: str
    slug: str = ""
    description: str = ""
    estimated_minutes: int | None = None
    audience: AudienceSpec = field(default_factory=AudienceSpec)
    has_quiz: bool = False
    pass_mark: int | None = None  # percent
    max_attempts: int | None = None  # None: unlimited
    validity_days: int | None = None  # None: never expires


def can_edit_course(actor, course: Course) -> bool:
    """Whether ``actor`` may edit, publish or archive ``course``.

    Staff edit every course; a trainer only their own partner's local courses.
    """
    if not AUTHOR_DOCUMENTS(actor):
        return False
    return actor.is_staff or (
        course.partner_id is not None and course.partner_id == actor.partner_id
    )


def check_editor(actor, course: Course | None = None, *, editing: bool = True) -> None:
    """Refuse (InvalidInput) unless ``actor`` may write ``course``; None is an operator command.

    With ``editing``, an archived course is refused too: it has to be restored first.
    """
    if actor is not None and (
        not AUTHOR_DOCUMENTS(actor) or (course is not None and not can_edit_course(actor, course))
    ):
        raise InvalidInput("You cannot edit this course.")
    if editing and course is not None and course.status == CourseStatus.ARCHIVED:
        raise InvalidInput("This course is archived. Restore it before editing.")


def _positive(value, name: str, label: str, errors: dict) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        errors[name] = f"The {label} must be a whole number above zero (or left empty)."


def _check_details(details: CourseDetails, course: Course | None, partner_id) -> dict:
    errors = {}
    details.title = (details.title or "").strip()
    details.slug = (details.slug or "").strip().lower() or slugify(details.title)
    details.description = (details.description or "").strip()
    if not details.title:
        errors["title"] = "Give the course a title."
    elif len(details.title) > 200:
        errors["title"] = "Titles are at most 200 characters."
    if not SLUG_RE.match(details.slug):
        errors["slug"] = (
            "Use 1-80 lower-case letters, digits and hyphens, starting and ending with a "
            "letter or digit (e.g. refunds-101)."
        )
    else:
        clash = db.session.scalars(select(Course).where(Course.slug == details.slug)).first()
        if clash is not None and clash is not course:
            errors["slug"] = f"Another course already uses the slug “{details.slug}”."
    if len(details.description) > MAX_DESCRIPTION:
        errors["description"] = f"Keep the description under {MAX_DESCRIPTION:,} characters."
    _positive(details.estimated_minutes, "estimated_minutes", "estimated time in minutes", errors)
    _positive(details.max_attempts, "max_attempts", "maximum number of attempts", errors)
    _positive(details.validity_days, "validity_days", "validity in days", errors)
    mark = details.pass_mark
    if mark is not None and (
        isinstance(mark, bool) or not isinstance(mark, int) or not 0 <= mark <= 100
    ):
        errors["pass_mark"] = "The pass mark is a percentage: a whole number from 0 to 100."
    details.has_quiz = bool(details.has_quiz)
    errors.update(check_audience(details.audience, partner_id=partner_id))
    return errors


def _apply_details(course: Course, details: CourseDetails) -> None:
    course.title = details.title
    course.slug = details.slug
    course.description = details.description
    course.estimated_minutes = details.estimated_minutes
    course.has_quiz = details.has_quiz
    course.pass_mark = details.pass_mark
    course.max_attempts = details.max_attempts
    course.validity_days = details.validity_days


def record_course(action: str, actor, course: Course, summary: str, **details) -> None:
    """Audit ``training.<action>`` on ``course``."""
    record(
        f"training.{action}",
        actor=actor,
        partner_id=course.partner_id,
        target=course,
        summary=summary,
        **details,
    )


def create_course(actor, details: CourseDetails) -> Course:
    """Create a draft course; a trainer's course is local to their partner."""
    check_editor(actor)
    partner_id = actor.partner_id if actor is not None and not actor.is_staff else None
    errors = _check_details(details, None, partner_id)
    if errors:
        raise InvalidInput(errors)
    course = Course(
        status=CourseStatus.DRAFT,
        owner_id=getattr(actor, "id", None),
        partner_id=partner_id,
        audience=apply_audience(Audience(), details.audience),
        version=0,
    )
    _apply_details(course, details)
    db.session.add(course)
    db.session.flush()
    record_course("course_created", actor, course, f"Created the course “{course.title}”")
    db.session.flush()
    return course


def update_course(actor, course: Course, details: CourseDetails) -> Course:
    """Change a course's details and audience; published courses stay published."""
    check_editor(actor, course)
    errors = _check_details(details, course, course.partner_id)
    if errors:
        raise InvalidInput(errors)
    before = AudienceSpec.of(course.audience)
    _apply_details(course, details)
    apply_audience(course.audience, details.audience)
    record_course(
        "course_updated",
        actor,
        course,
        f"Changed the course “{course.title}”",
        audience_changed=before != details.audience,
    )
    db.session.flush()
    return course


def active_lessons(course: Course) -> list[Lesson]:
    """The course's lessons in order, without removed ones."""
    return db.session.scalars(
        select(Lesson)
        .where(Lesson.course_id == course.id, Lesson.removed_at.is_(None))
        .order_by(Lesson.position, Lesson.id)
    ).all()


def active_questions(course: Course) -> list[Question]:
    """The course's questions in order with their choices, without removed ones."""
    return db.session.scalars(
        select(Question)
        .options(selectinload(Question.choices))
        .where(Question.course_id == course.id, Question.removed_at.is_(None))
        .order_by(Question.position, Question.id)
    ).all()


def _publish_problems(course: Course) -> list[str]:
    problems = []
    lessons = active_lessons(course)
    if not lessons:
        problems.append("Add at least one lesson.")
    document_ids = {lesson.document_id for lesson in lessons if lesson.document_id}
    unpublished = db.session.scalars(
        select(Document.title).where(
            Document.id.in_(document_ids), Document.status != DocumentStatus.PUBLISHED
        )
    ).all()
    problems.extend(
        f"The lesson document “{title}” is no longer published." for title in unpublished
    )
    if course.has_quiz:
        if course.pass_mark is None:
            problems.append("Set a pass mark for the quiz.")
        questions = active_questions(course)
        if not questions:
            problems.append("Add at least one quiz question, or turn the quiz off.")
        for number, question in enumerate(questions, 1):
            right = sum(1 for c in question.choices if c.correct)
            if right == 0 or (question.kind == QuestionKind.SINGLE and right != 1):
                problems.append(f"Question {number} needs its correct answer marked.")
    return problems


def publish_course(actor, course: Course) -> Course:
    """Publish the course as it is now, as a new version (records keep their own version)."""
    check_editor(actor, course)
    if problems := _publish_problems(course):
        raise InvalidInput("The course cannot be published yet: " + " ".join(problems))
    course.version = (course.version or 0) + 1
    course.published_at = utcnow()
    course.status = CourseStatus.PUBLISHED
    record_course(
        "course_published",
        actor,
        course,
        f"Published version {course.version} of “{course.title}”",
        version=course.version,
    )
    db.session.flush()
    return course


def archive_course(actor, course: Course) -> None:
    """Take a course out of use; lessons, attempts and completions stay."""
    check_editor(actor, course, editing=False)
    if course.status == CourseStatus.ARCHIVED:
        raise InvalidInput("This course is already archived.")
    course.status = CourseStatus.ARCHIVED
    course.archived_at = utcnow()
    record_course("course_archived", actor, course, f"Archived the course “{course.title}”")
    db.session.flush()


def restore_course(actor, course: Course) -> None:
    """Bring an archived course back: published if it ever was, else a draft again."""
    check_editor(actor, course, editing=False)
    if course.status != CourseStatus.ARCHIVED:
        raise InvalidInput("Only archived courses can be restored.")
    course.status = CourseStatus.PUBLISHED if course.version else CourseStatus.DRAFT
    course.archived_at = None
    record_course("course_restored", actor, course, f"Restored the course “{course.title}”")
    db.session.flush()


def _check_lesson(actor, title: str, body: str | None, document_id) -> dict:
    errors = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = "Give the lesson a title."
    elif len(title) > 200:
        errors["title"] = "Titles are at most 200 characters."
    has_body = body is not None and body.strip() != ""
    if has_body == (document_id is not None):
        errors["body"] = "A lesson is either its own text or a library document: give one of them."
    elif has_body and len(body) > MAX_BODY:
        errors["body"] = f"The text is longer than {MAX_BODY:,} characters; split the lesson."
    elif document_id is not None:
        stmt = visible_documents(actor) if actor is not None else select(Document)
        document = (
            db.session.scalars(stmt.where(Document.id == document_id)).first()
            if isinstance(document_id, int) and not isinstance(document_id, bool)
            else None
        )
        if document is None:
            errors["document_id"] = "There is no such library document, or you cannot see it."
        elif document.status != DocumentStatus.PUBLISHED:
            errors["document_id"] = f"“{document.title}” is not published; publish it first."
    return errors


def _fill_lesson(lesson: Lesson, title: str, body: str | None, document_id) -> None:
    lesson.title = title.strip()
    if document_id is not None:
        lesson.body, lesson.html, lesson.document_id = None, None, document_id
    else:
        lesson.body, lesson.html, lesson.document_id = body, render(body).html, None


def next_position(model, course: Course) -> int:
    """The position after the course's last lesson or question (removed ones included)."""
    last = db.session.scalar(select(func.max(model.position)).where(model.course_id == course.id))
    return (last or 0) + 1


def add_lesson(actor, course: Course, *, title: str, body=None, document_id=None) -> Lesson:
    """Add a lesson at the end: its own Markdown ``body`` or a published library document."""
    check_editor(actor, course)
    if errors := _check_lesson(actor, title, body, document_id):
        raise InvalidInput(errors)
    lesson = Lesson(course_id=course.id, position=next_position(Lesson, course))
    _fill_lesson(lesson, title, body, document_id)
    db.session.add(lesson)
    db.session.flush()
    record_course(
        "lesson_added", actor, course, f"Added the lesson “{lesson.title}”", lesson=lesson.id
    )
    db.session.flush()
    return lesson


def check_live(item, course: Course, what: str) -> None:
    if item.course_id != course.id or item.removed_at is not None:
        raise InvalidInput(f"This {what} is not part of the course any more.")


def course_of(item) -> Course:
    """The course a lesson or question belongs to."""
    return db.session.get(Course, item.course_id)


def update_lesson(actor, lesson: Lesson, *, title: str, body=None, document_id=None) -> Lesson:
    """Change a lesson's title and its text or document."""
    course = course_of(lesson)
    check_editor(actor, course)
    check_live(lesson, course, "lesson")
    if errors := _check_lesson(actor, title, body, document_id):
        raise InvalidInput(errors)
    _fill_lesson(lesson, title, body, document_id)
    record_course(
        "lesson_updated", actor, course, f"Changed the lesson “{lesson.title}”", lesson=lesson.id
    )
    db.session.flush()
    return lesson


def remove_lesson(actor, lesson: Lesson) -> None:
    """Take a lesson out of the course; progress already recorded keeps pointing at it."""
    course = course_of(lesson)
    check_editor(actor, course)
    check_live(lesson, course, "lesson")
    lesson.removed_at = utcnow()
    record_course(
        "lesson_removed", actor, course, f"Removed the lesson “{lesson.title}”", lesson=lesson.id
    )
    db.session.flush()


def apply_order(items: list, ids: list, what: str) -> None:
    """Put ``items`` in the order of ``ids``, or refuse (nothing changed) if ids don't match."""
    if not isinstance(ids, list | tuple) or any(
        isinstance(i, bool) or not isinstance(i, int) for i in ids
    ):
        raise InvalidInput(f"The new order must list {what} ids.")
    if duplicates := sorted({i for i in ids if ids.count(i) > 1}):
        raise InvalidInput(
            f"The new order lists {what} {', '.join(map(str, duplicates))} more than once."
        )
    by_id = {item.id: item for item in items}
    if foreign := [i for i in ids if i not in by_id]:
        raise InvalidInput(
            f"The new order names {what} {', '.join(map(str, foreign))}, which are not "
            "in this course."
        )
    if missing := [i for i in by_id if i not in ids]:
        raise InvalidInput(
            f"The new order leaves out {what} {', '.join(map(str, missing))}; list every one."
        )
    for position, item_id in enumerate(ids, 1):
        by_id[item_id].position = position


def reorder_lessons(actor, course: Course, lesson_ids: list[int]) -> None:
    """Put the course's lessons in the order of ``lesson_ids`` (every lesson, once)."""
    check_editor(actor, course)
    apply_order(active_lessons(course), lesson_ids, "lesson(s)")
    record_course("lessons_reordered", actor, course, f"Reordered the lessons of “{course.title}”")
    db.session.flush()

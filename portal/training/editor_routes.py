"""The course builder: courses, their lessons in order and their quiz, for trainers and staff.

Every page is about one course the signed-in person may edit (staff: every course; a trainer:
their own partner's); anything else answers 404, like a course that does not exist. Each
action runs one training service, commits once and goes back to the builder with a message;
a refusal shows the service's message and changes nothing.
"""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal.access.permissions import AUTHOR_DOCUMENTS, requires
from portal.access.visibility import get_visible_or_404, visible_courses
from portal.acknowledgements.reporting import RowPagination
from portal.audiences.forms import prepare_audience_fields
from portal.audiences.services import describe
from portal.core.errors import InvalidInput
from portal.core.forms import apply_errors
from portal.extensions import db
from portal.library.models import Document
from portal.library.rendering import render
from portal.partners.models import Partner
from portal.training import quizzes, services
from portal.training.forms import CourseForm, LessonForm, QuestionForm, ids
from portal.training.models import Course, CourseStatus, Lesson, Question

bp = Blueprint("course_editor", __name__, url_prefix="/training/manage")

PER_PAGE = 25
STATUSES = tuple(CourseStatus)


def _course(course_id: int) -> Course:
    """The course if the signed-in person may see and edit it, else 404."""
    course = get_visible_or_404(visible_courses(current_user), Course, course_id)
    if not services.can_edit_course(current_user, course):
        abort(404)
    return course


def _part(model, course: Course, item_id: int, *options):
    """A live lesson or question of ``course``, else 404 (another course's ids too)."""
    item = db.session.get(model, item_id, options=options)
    if item is None or item.course_id != course.id or item.removed_at is not None:
        abort(404)
    return item


def _builder(course: Course, anchor: str | None = None):
    return redirect(url_for("course_editor.edit", course_id=course.id, _anchor=anchor))


def _refused(error: InvalidInput) -> None:
    db.session.rollback()
    flash(" ".join(error.errors.values()), "danger")


def _archived(course: Course):
    """Send the author back to the builder when the course must be restored first."""
    if course.status == CourseStatus.ARCHIVED:
        flash("This course is archived. Restore it before editing.", "warning")
        return _builder(course)
    return None


# --- the list and the course itself -------------------------------------------------------


def _editable_courses():
    """Courses the signed-in author may edit: staff every one, a trainer their partner's."""
    stmt = visible_courses(current_user)
    if not current_user.is_staff:
        stmt = stmt.where(Course.partner_id == current_user.partner_id)
    return stmt


def _live_count(model):
    return (
        select(func.count(model.id))
        .where(model.course_id == Course.id, model.removed_at.is_(None))
        .correlate(Course)
        .scalar_subquery()
    )


@bp.route("/")
@login_required
@requires(AUTHOR_DOCUMENTS)
def index():
    status = request.args.get("status", "")
    status = status if status in STATUSES else ""
    stmt = (
        _editable_courses()
        .add_columns(
            _live_count(Lesson).label("lessons"),
            _live_count(Question).label("questions"),
            Partner.name.label("partner_name"),
        )
        .outerjoin(Partner, Partner.id == Course.partner_id)
        .order_by(Course.title, Course.id)
    )
    if status:
        stmt = stmt.where(Course.status == status)
    page = RowPagination(
        select=stmt,
        session=db.session(),
        page=request.args.get("page", type=int),
        per_page=PER_PAGE,
        error_out=False,
    )
    return render_template("training/editor/index.html", page=page, status=status)


def _course_form() -> CourseForm:
    form = CourseForm()
    prepare_audience_fields(form, current_user)
    if not current_user.is_staff:
        form.audience_teams.description = (
            "Only your own partner's people see your courses. None chosen: all of them."
        )
    return form


@bp.route("/new", methods=["GET", "POST"])
@login_required
@requires(AUTHOR_DOCUMENTS)
def new():
    form = _course_form()
    if form.validate_on_submit():
        try:
            course = services.create_course(current_user, form.details())
        except InvalidInput as error:
            db.session.rollback()
            apply_errors(form, error)
        else:
            db.session.commit()
            flash(
                f"“{course.title}” is saved as a draft. Add its lessons, then publish it.",
                "success",
            )
            return _builder(course)
    return render_template("training/editor/new.html", form=form)


@bp.route("/<int:course_id>", methods=["GET", "POST"])
@login_required
@requires(AUTHOR_DOCUMENTS)
def edit(course_id):
    course = _course(course_id)
    form = _course_form()
    if not form.is_submitted():
        form.fill(course)
    elif form.validate():
        try:
            services.update_course(current_user, course, form.details())
        except InvalidInput as error:
            db.session.rollback()
            apply_errors(form, error)
        else:
            db.session.commit()
            flash(f"The details of “{course.title}” are saved.", "success")
            return _builder(course, "details")
    lessons = services.active_lessons(course)
    document_ids = [lesson.document_id for lesson in lessons if lesson.document_id]
    documents = dict(
        db.session.execute(
            select(Document.id, Document.title).where(Document.id.in_(document_ids))
        ).all()
    )
    return render_template(
        "training/editor/edit.html",
        course=course,
        form=form,
        lessons=lessons,
        documents=documents,
        questions=services.active_questions(course),
        audience=describe(course.audience),
        editable=course.status != CourseStatus.ARCHIVED,
    )


def _act(course_id: int, action, done):
    """Run ``action`` on the course; ``done(course)`` says what happened."""
    course = _course(course_id)
    try:
        action(current_user, course)
    except InvalidInput as error:
        _refused(error)
    else:
        db.session.commit()
        flash(done(course), "success")
    return _builder(course)


@bp.route("/<int:course_id>/publish", methods=["POST"])
@login_required
@requires(AUTHOR_DOCUMENTS)
def publish(course_id):
    return _act(
        course_id,
        services.publish_course,
        lambda course: (
            f"Version {course.version} of “{course.title}” is published: the "
            "people in its audience can take it now."
        ),
    )


@bp.route("/<int:course_id>/archive", methods=["POST"])
@login_required
@requires(AUTHOR_DOCUMENTS)
def archive(course_id):
    return _act(
        course_id,
        services.archive_course,
        lambda course: (
            f"“{course.title}” is archived: nobody can start it any more. Its "
            "lessons, attempts and completions are kept."
        ),
    )


@bp.route("/<int:course_id>/restore", methods=["POST"])
@login_required
@requires(AUTHOR_DOCUMENTS)
def restore(course_id):
    return _act(
        course_id,
        services.restore_course,
        lambda course: (
            f"“{course.title}” is restored "
            + ("and published again." if course.version else "as a draft.")
        ),
    )


def _reorder(course_id: int, action, posted: str, what: str):
    """Save a new order posted as the full list of ids; the moved item keeps the focus."""
    course = _course(course_id)
    try:
        action(current_user, course, ids(request.form.getlist(posted)))
    except InvalidInput as error:
        _refused(error)
        return _builder(course, f"{what}s")
    db.session.commit()
    flash(f"The {what}s are in their new order.", "success")
    moved = request.form.get("moved", type=int)
    return _builder(course, f"{what}-{moved}" if moved else f"{what}s")


@bp.route("/<int:course_id>/lessons/order", methods=["POST"])
@login_required
@requires(AUTHOR_DOCUMENTS)
def order_lessons(course_id):
    return _reorder(course_id, services.reorder_lessons, "lesson_ids", "lesson")


@bp.route("/<int:course_id>/questions/order", methods=["POST"])
@login_required
@requires(AUTHOR_DOCUMENTS)
def order_questions(course_id):
    return _reorder(course_id, quizzes.reorder_questions, "question_ids", "question")


# --- lessons --------------------------------------------------------------------------------


def _lesson_page(course: Course, lesson: Lesson | None):
    """Add or edit a lesson (``lesson`` None adds one at the end)."""
    if refusal := _archived(course):
        return refusal
    form = LessonForm()
    document = (
        db.session.get(Document, lesson.document_id) if lesson and lesson.document_id else None
    )
    form.prepare(current_user, document)
    if lesson is not None and not form.is_submitted():
        form.fill(lesson)
    preview = None
    if form.is_submitted() and form.preview.data:
        preview = render(form.body.data or "")
    elif form.validate_on_submit():
        try:
            if lesson is None:
                lesson = services.add_lesson(current_user, course, **form.lesson())
                done = f"The lesson “{lesson.title}” is added at the end of the course."
            else:
                services.update_lesson(current_user, lesson, **form.lesson())
                done = f"The lesson “{lesson.title}” is saved."
        except InvalidInput as error:
            db.session.rollback()
            apply_errors(form, error)
        else:
            db.session.commit()
            flash(done, "success")
            return _builder(course, f"lesson-{lesson.id}")
    return render_template(
        "training/editor/lesson.html", course=course, lesson=lesson, form=form, preview=preview
    )


@bp.route("/<int:course_id>/lessons/new", methods=["GET", "POST"])
@login_required
@requires(AUTHOR_DOCUMENTS)
def new_lesson(course_id):
    return _lesson_page(_course(course_id), None)


@bp.route("/<int:course_id>/lessons/<int:lesson_id>/edit", methods=["GET", "POST"])
@login_required
@requires(AUTHOR_DOCUMENTS)
def edit_lesson(course_id, lesson_id):
    course = _course(course_id)
    return _lesson_page(course, _part(Lesson, course, lesson_id))


@bp.route("/<int:course_id>/lessons/<int:lesson_id>/remove", methods=["POST"])
@login_required
@requires(AUTHOR_DOCUMENTS)
def remove_lesson(course_id, lesson_id):
    course = _course(course_id)
    lesson = _part(Lesson, course, lesson_id)
    try:
        services.remove_lesson(current_user, lesson)
    except InvalidInput as error:
        _refused(error)
    else:
        db.session.commit()
        flash(
            f"The lesson “{lesson.title}” is removed. Progress people recorded on it is kept.",
            "success",
        )
    return _builder(course, "lessons")


# --- quiz questions -------------------------------------------------------------------------


def _question_page(course: Course, question: Question | None):
    """Add or edit a question (``question`` None adds one at the end of the quiz)."""
    if refusal := _archived(course):
        return refusal
    form = QuestionForm()
    if not form.is_submitted():
        if question is not None:
            form.fill(question)
        form.pad()
    elif form.validate():
        try:
            if question is None:
                question = quizzes.add_question(current_user, course, **form.question())
                done = "The question is added to the quiz."
            else:
                quizzes.update_question(current_user, question, **form.question())
                done = "The question is saved."
        except InvalidInput as error:
            db.session.rollback()
            form.show(error)
        else:
            db.session.commit()
            flash(done, "success")
            return _builder(course, f"question-{question.id}")
    return render_template(
        "training/editor/question.html", course=course, question=question, form=form
    )


@bp.route("/<int:course_id>/questions/new", methods=["GET", "POST"])
@login_required
@requires(AUTHOR_DOCUMENTS)
def new_question(course_id):
    return _question_page(_course(course_id), None)


@bp.route("/<int:course_id>/questions/<int:question_id>/edit", methods=["GET", "POST"])
@login_required
@requires(AUTHOR_DOCUMENTS)
def edit_question(course_id, question_id):
    course = _course(course_id)
    question = _part(Question, course, question_id, selectinload(Question.choices))
    return _question_page(course, question)


@bp.route("/<int:course_id>/questions/<int:question_id>/remove", methods=["POST"])
@login_required
@requires(AUTHOR_DOCUMENTS)
def remove_question(course_id, question_id):
    course = _course(course_id)
    question = _part(Question, course, question_id)
    try:
        quizzes.remove_question(current_user, question)
    except InvalidInput as error:
        _refused(error)
    else:
        db.session.commit()
        flash("The question is removed from the quiz. Past attempts keep their copy.", "success")
    return _builder(course, "questions")

"""The learner's pages: My training, a course, its lessons one at a time, the quiz and its
feedback, the completion and its certificate, and checking a certificate's code.

Partner people (agents and trainers) take courses. Company staff open the same course and
lesson pages as a preview and are pointed to the course builder and the reports; the taking
services would record staff as learners, so every action here refuses them first.
"""

import re
from collections import Counter

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from portal.access.permissions import VIEW_ACKNOWLEDGEMENTS, requires
from portal.access.visibility import get_visible_or_404, visible_courses
from portal.core.clock import local, utcnow
from portal.core.errors import InvalidInput
from portal.core.templating import localdate
from portal.extensions import csrf, db
from portal.training.certificates import find_completion, normalize_code
from portal.training.learner_forms import QuizForm, VerifyForm
from portal.training.learning import (
    ListPage,
    answers_from_form,
    completion_of_attempt,
    course_due,
    due_phrase,
    feedback,
    lesson_counts,
    lesson_of,
    lesson_text,
    own_attempt_or_404,
    reveals_answers,
    visible_completion_or_404,
)
from portal.training.models import Completion, Course, Question
from portal.training.overview import my_training
from portal.training.services import active_lessons, can_edit_course
from portal.training.taking import complete_lesson, progress, start_attempt, submit_attempt

bp = Blueprint("training", __name__, url_prefix="/training")

PER_PAGE = 50
STAFF_REFUSAL = (
    "Company staff can preview courses but not take them: courses are taken by partners' "
    "agents and trainers."
)


@bp.context_processor
def _page_helpers():
    return {"due_phrase": due_phrase, "day": _day}


def _day(value) -> str:
    """A date or time as a day in the reader's time zone: "3 Dec 2026"."""
    return localdate(value, "%-d %b %Y")


def _today():
    """The reader's date in their own time zone (what "due today" means to them)."""
    return local(utcnow(), current_user.timezone).date()


def _course(course_id: int) -> Course:
    return get_visible_or_404(visible_courses(current_user), Course, course_id)


def _to_course(course: Course):
    return redirect(url_for("training.course", course_id=course.id))


def _refused(error: InvalidInput) -> str:
    db.session.rollback()
    return " ".join(error.errors.values())


# --- My training ----------------------------------------------------------------------------


@bp.route("/")
@login_required
def index():
    if current_user.is_staff:
        return render_template("training/index.html", page=None)
    today = _today()
    rows = my_training(current_user, today=today)
    page = ListPage(
        rows=rows, page=request.args.get("page", type=int), per_page=PER_PAGE, error_out=False
    )
    return render_template(
        "training/index.html",
        page=page,
        counts=Counter(row.status for row in rows),
        lessons=lesson_counts(current_user, {row.course.id for row in page.items}),
        today=today,
    )


# --- a course and its lessons ---------------------------------------------------------------


def _question_count(course: Course) -> int:
    return db.session.scalar(
        select(func.count(Question.id)).where(
            Question.course_id == course.id, Question.removed_at.is_(None)
        )
    )


@bp.route("/courses/<int:course_id>")
@login_required
def course(course_id):
    course = _course(course_id)
    context = {
        "course": course,
        "editable": can_edit_course(current_user, course),
        "question_count": _question_count(course) if course.has_quiz else 0,
        "today": _today(),
    }
    if current_user.is_staff:
        return render_template(
            "training/course.html", standing=None, lessons=active_lessons(course), **context
        )
    standing = progress(current_user, course)
    return render_template(
        "training/course.html",
        standing=standing,
        lessons=standing.lessons,
        due=course_due(current_user, course, context["today"]),
        **context,
    )


@bp.route("/courses/<int:course_id>/lessons/<int:lesson_id>", methods=["GET", "POST"])
@login_required
def lesson(course_id, lesson_id):
    course = _course(course_id)
    lesson = lesson_of(course, lesson_id)
    if request.method == "POST":
        return _complete(course, lesson)
    standing = None if current_user.is_staff else progress(current_user, course)
    lessons = standing.lessons if standing else active_lessons(course)
    position = [x.id for x in lessons].index(lesson.id)
    return render_template(
        "training/lesson.html",
        course=course,
        lesson=lesson,
        lessons=lessons,
        position=position,
        previous=lessons[position - 1] if position > 0 else None,
        following=lessons[position + 1] if position + 1 < len(lessons) else None,
        standing=standing,
        text=lesson_text(current_user, lesson),
        form=QuizForm(),
    )


def _after(standing, lesson):
    """Where to go after ``lesson``: the next unread lesson after it, else any unread one."""
    ids = [x.id for x in standing.lessons]
    later = standing.lessons[ids.index(lesson.id) + 1 :] if lesson.id in ids else []
    unread = [x for x in later if x.id not in standing.done_lesson_ids]
    return unread[0] if unread else standing.next_lesson


def _complete(course: Course, lesson):
    """Mark the lesson done, then go on: the next lesson, the course, or the completion."""
    if current_user.is_staff:
        flash(STAFF_REFUSAL, "info")
        return _to_course(course)
    try:
        completion = complete_lesson(current_user, course, lesson)
    except InvalidInput as error:
        flash(_refused(error), "error")
        return _to_course(course)
    db.session.commit()
    if completion is not None:
        flash(f"Well done: you completed “{course.title}”. Your certificate is ready.", "success")
        return redirect(url_for("training.completion", completion_id=completion.id))
    standing = progress(current_user, course)
    following = _after(standing, lesson)
    if following is not None:
        return redirect(url_for("training.lesson", course_id=course.id, lesson_id=following.id))
    if standing.can_start_quiz:
        flash("You have finished every lesson. The quiz is next.", "success")
    return _to_course(course)


# --- the quiz -------------------------------------------------------------------------------


@bp.route("/courses/<int:course_id>/quiz", methods=["POST"])
@login_required
def start_quiz(course_id):
    course = _course(course_id)
    if current_user.is_staff:
        flash(STAFF_REFUSAL, "info")
        return _to_course(course)
    try:
        attempt = start_attempt(current_user, course)
    except InvalidInput as error:
        flash(_refused(error), "error")
        return _to_course(course)
    db.session.commit()
    return redirect(url_for("training.attempt", attempt_id=attempt.id))


@bp.route("/attempts/<int:attempt_id>", methods=["GET", "POST"])
@login_required
@csrf.exempt  # checked by QuizForm below, so that an expired token keeps the answers chosen
def attempt(attempt_id):
    attempt = own_attempt_or_404(current_user, attempt_id)
    course = db.session.get(Course, attempt.course_id)
    if request.method == "POST":
        return _submit(attempt, course)
    if attempt.submitted_at is None:
        return _quiz(attempt, course, QuizForm())
    return _result(attempt, course)


def _quiz(attempt, course, form, answers=None, error=None, status=200):
    """The open attempt's questions; after a refusal, with the answers chosen still chosen."""
    answers = answers or {}
    unanswered = (
        {q["key"] for q in attempt.questions if not answers.get(q["key"])} if error else set()
    )
    standing = progress(current_user, course)
    return render_template(
        "training/quiz.html",
        attempt=attempt,
        course=course,
        standing=standing,
        form=form,
        chosen={key: set(values) for key, values in answers.items()},
        unanswered=unanswered,
        error=error,
    ), status


def _submit(attempt, course):
    if attempt.submitted_at is not None:
        flash("This attempt had already been submitted; its result is below.", "info")
        return redirect(url_for("training.attempt", attempt_id=attempt.id))
    form = QuizForm()
    answers = answers_from_form(request.form)
    if not form.validate_on_submit():
        message = (
            "The page was open so long that its security token expired, so nothing was saved. "
            "Your answers are still selected below: submit them again."
        )
        return _quiz(attempt, course, QuizForm(formdata=None), answers, message, 400)
    try:
        submit_attempt(current_user, attempt, answers)
    except InvalidInput as error:
        message = _refused(error)
        if attempt.submitted_at is not None:  # submitted by another request meanwhile
            flash(message, "info")
            return redirect(url_for("training.attempt", attempt_id=attempt.id))
        return _quiz(attempt, course, form, answers, message, 422)
    db.session.commit()
    return redirect(url_for("training.attempt", attempt_id=attempt.id))


def _result(attempt, course):
    standing = progress(current_user, course)
    reveal = reveals_answers(attempt, standing)
    questions = feedback(attempt, reveal=reveal)
    return render_template(
        "training/attempt.html",
        attempt=attempt,
        course=course,
        standing=standing,
        questions=questions,
        right_count=sum(1 for q in questions if q.right),
        reveal=reveal,
        completion=completion_of_attempt(attempt),
    )


# --- completions, certificates and verification ---------------------------------------------


def _latest_completion_id(completion: Completion) -> int:
    return db.session.scalar(
        select(func.max(Completion.id)).where(
            Completion.user_id == completion.user_id, Completion.course_id == completion.course_id
        )
    )


@bp.route("/completions/<int:completion_id>")
@login_required
def completion(completion_id):
    completion = visible_completion_or_404(current_user, completion_id)
    own = completion.user_id == current_user.id
    standing = progress(current_user, completion.course) if own else None
    latest_id = _latest_completion_id(completion)
    return render_template(
        "training/completion.html",
        completion=completion,
        own=own,
        standing=standing,
        latest_id=latest_id,
        now=utcnow(),
    )


@bp.route("/completions/<int:completion_id>/certificate")
@login_required
def certificate(completion_id):
    completion = visible_completion_or_404(current_user, completion_id)
    return render_template(
        "training/certificate.html",
        completion=completion,
        verify_url=url_for("training.verify", code=completion.verification_code, _external=True),
        now=utcnow(),
    )


def _well_formed(code: str) -> bool:
    """Shaped like a printed code (three groups of four), so a typo gets a helpful message."""
    return re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", code) is not None


@bp.route("/verify")
@login_required
@requires(VIEW_ACKNOWLEDGEMENTS)
def verify():
    form = VerifyForm(formdata=request.args)
    code = normalize_code(form.code.data or "")
    found = None
    if code and form.validate():
        if _well_formed(code):
            found = find_completion(current_user, code)
        else:
            form.code.errors.append(
                "A code is 12 letters and digits in three groups of four, like K7QF-3M9X-PW2D."
            )
    return render_template(
        "training/verify.html",
        form=form,
        code=code,
        found=found,
        searched=bool(code) and not form.code.errors,
        now=utcnow(),
    )

"""The path builder: onboarding paths, their versions, phase names and steps.

Staff build company paths; a trainer builds paths local to their own partner. Every page is
about one path the signed-in person may edit (staff: every path; a trainer: their partner's
own); anything else answers 404, company paths included for trainers, like a path that does
not exist. The page shows the draft version being edited, or the published one with a button
that starts the next draft. Each action runs one path service, commits once and goes back to
the builder with a message; a refusal shows the service's message and changes nothing.
"""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from portal.access.permissions import AUTHOR_DOCUMENTS, requires
from portal.acknowledgements.reporting import RowPagination
from portal.audiences.forms import prepare_audience_fields
from portal.audiences.services import describe
from portal.core.errors import InvalidInput
from portal.core.forms import apply_errors
from portal.extensions import db
from portal.onboarding import paths
from portal.onboarding.builder_forms import PathForm, PhaseNamesForm, PublishForm, StepForm
from portal.onboarding.builder_pages import path_list, phases_of, step_targets, version_list
from portal.onboarding.models import (
    OnboardingPath,
    PathStatus,
    PathStep,
    PathVersion,
)
from portal.partners.models import Partner
from portal.people.models import User

bp = Blueprint("path_builder", __name__, url_prefix="/onboarding/manage")

PER_PAGE = 25
STATUSES = tuple(PathStatus)


def _path(path_id: int) -> OnboardingPath:
    """The path if the signed-in person may edit it, else 404."""
    path = db.session.get(OnboardingPath, path_id)
    if path is None or not paths.can_edit_path(current_user, path):
        abort(404)
    return path


def _version(path: OnboardingPath, number: int) -> PathVersion:
    version = db.session.scalars(
        select(PathVersion).where(PathVersion.path_id == path.id, PathVersion.number == number)
    ).first()
    if version is None:
        abort(404)
    return version


def _step(path: OnboardingPath, step_id: int) -> PathStep:
    """A step of any version of ``path``, else 404 (another path's steps too)."""
    step = db.session.get(PathStep, step_id)
    if step is None or db.session.get(PathVersion, step.version_id).path_id != path.id:
        abort(404)
    return step


def _builder(path: OnboardingPath, anchor: str | None = None):
    return redirect(url_for("path_builder.edit", path_id=path.id, _anchor=anchor))


def _refused(error: InvalidInput) -> None:
    db.session.rollback()
    flash(" ".join(error.errors.values()), "danger")


# --- the list ---------------------------------------------------------------------------------


@bp.route("/")
@login_required
@requires(AUTHOR_DOCUMENTS)
def index():
    status = request.args.get("status", "")
    status = status if status in STATUSES else ""
    stmt = path_list(current_user, status)
    page = RowPagination(
        select=stmt,
        session=db.session(),
        page=request.args.get("page", type=int),
        per_page=PER_PAGE,
        error_out=False,
    )
    return render_template(
        "onboarding/builder/index.html", page=page, status=status, describe=describe
    )


# --- the path and its current version ---------------------------------------------------------


def _path_form(**kwargs) -> PathForm:
    form = PathForm(**kwargs)
    prepare_audience_fields(form, current_user)
    if not current_user.is_staff:
        form.audience_teams.description = (
            "Only your own partner's people are enrolled on your paths. None chosen: all of them."
        )
    return form


@bp.route("/new", methods=["GET", "POST"])
@login_required
@requires(AUTHOR_DOCUMENTS)
def new():
    form = _path_form()
    if form.validate_on_submit():
        try:
            path = paths.create_path(current_user, form.details())
        except InvalidInput as error:
            db.session.rollback()
            apply_errors(form, error)
        else:
            db.session.commit()
            flash(f"“{path.title}” is saved as a draft. Add its steps, then publish it.", "success")
            return _builder(path)
    return render_template("onboarding/builder/new.html", form=form)


def _edit_page(path: OnboardingPath, *, form=None, phase_form=None, publish_form=None):
    """The builder page; forms not given are filled from the path (a POST refused elsewhere
    on the page leaves them as stored)."""
    draft = paths.draft_of(path)
    current = db.session.get(PathVersion, path.current_version_id or -1)
    shown = draft or current
    steps = paths.steps_of(shown)
    if form is None:
        form = _path_form(formdata=None)
        form.fill(path)
    if phase_form is None:
        phase_form = PhaseNamesForm(formdata=None)
        phase_form.fill(shown)
    return render_template(
        "onboarding/builder/edit.html",
        path=path,
        form=form,
        phase_form=phase_form,
        publish_form=publish_form or PublishForm(formdata=None),
        draft=draft,
        current=current,
        shown=shown,
        phases=phases_of(shown, steps),
        step_count=len(steps),
        targets=step_targets(steps),
        audience=describe(path.audience),
        partner=db.session.get(Partner, path.partner_id) if path.partner_id else None,
        editable=path.status != PathStatus.ARCHIVED,
    )


@bp.route("/<int:path_id>", methods=["GET", "POST"])
@login_required
@requires(AUTHOR_DOCUMENTS)
def edit(path_id):
    path = _path(path_id)
    form = _path_form()
    if not form.is_submitted():
        form.fill(path)
    elif form.validate():
        try:
            paths.update_path(current_user, path, form.details())
        except InvalidInput as error:
            db.session.rollback()
            apply_errors(form, error)
        else:
            db.session.commit()
            flash(f"The details of “{path.title}” are saved.", "success")
            return _builder(path, "details")
    return _edit_page(path, form=form)


@bp.route("/<int:path_id>/phases", methods=["POST"])
@login_required
@requires(AUTHOR_DOCUMENTS)
def phases(path_id):
    path = _path(path_id)
    version = paths.draft_of(path) or db.session.get(PathVersion, path.current_version_id)
    phase_form = PhaseNamesForm()
    if phase_form.validate():
        try:
            paths.set_phase_names(current_user, version, phase_form.names())
        except InvalidInput as error:
            db.session.rollback()
            apply_errors(phase_form, error)
        else:
            db.session.commit()
            flash("The phase names are saved.", "success")
            return _builder(path, "phases")
    return _edit_page(path, phase_form=phase_form)


@bp.route("/<int:path_id>/publish", methods=["POST"])
@login_required
@requires(AUTHOR_DOCUMENTS)
def publish(path_id):
    path = _path(path_id)
    publish_form = PublishForm()
    if publish_form.validate():
        try:
            version = paths.publish_path(current_user, path, publish_form.note.data or "")
        except InvalidInput as error:
            db.session.rollback()
            apply_errors(publish_form, error)
        else:
            db.session.commit()
            flash(
                f"Version {version.number} of “{path.title}” is published: new hires in its "
                "audience start on it. People on earlier versions keep theirs.",
                "success",
            )
            return _builder(path)
    return _edit_page(path, publish_form=publish_form)


def _act(path_id: int, action, done):
    """Run ``action`` on the path; ``done(path, result)`` says what happened."""
    path = _path(path_id)
    try:
        result = action(current_user, path)
    except InvalidInput as error:
        _refused(error)
    else:
        db.session.commit()
        flash(done(path, result), "success")
    return _builder(path)


@bp.route("/<int:path_id>/draft", methods=["POST"])
@login_required
@requires(AUTHOR_DOCUMENTS)
def start_draft(path_id):
    return _act(
        path_id,
        paths.start_draft,
        lambda path, draft: (
            f"Version {draft.number} is a draft copied from version {draft.number - 1}. "
            "Change it, then publish it; people already on the path keep their version."
        ),
    )


@bp.route("/<int:path_id>/archive", methods=["POST"])
@login_required
@requires(AUTHOR_DOCUMENTS)
def archive(path_id):
    return _act(
        path_id,
        paths.archive_path,
        lambda path, _: (
            f"“{path.title}” is archived: nobody new is enrolled. People on it keep their "
            "progress and sign-offs."
        ),
    )


@bp.route("/<int:path_id>/restore", methods=["POST"])
@login_required
@requires(AUTHOR_DOCUMENTS)
def restore(path_id):
    return _act(
        path_id,
        paths.restore_path,
        lambda path, _: (
            f"“{path.title}” is restored "
            + ("and published again." if path.current_version_id else "as a draft.")
        ),
    )


# --- steps ------------------------------------------------------------------------------------


def _step_page(path: OnboardingPath, step: PathStep | None):
    """Add a step to the draft (``step`` None) or edit one of its steps."""
    if step is not None:
        version = db.session.get(PathVersion, step.version_id)
    else:
        version = paths.draft_of(path) or db.session.get(PathVersion, path.current_version_id)
    try:
        paths.check_draft(current_user, version)
    except InvalidInput as error:
        flash(" ".join(error.errors.values()), "warning")
        return _builder(path)
    form = StepForm()
    form.prepare(current_user, path, step)
    if not form.is_submitted():
        if step is not None:
            form.fill(step)
        elif (day := request.args.get("day", type=int)) is not None:
            form.due_day.data = day
    elif form.validate():
        try:
            if step is None:
                step = paths.add_step(current_user, version, form.details())
                done = f"The step “{step.title}” is added on day {step.due_day}."
            else:
                paths.update_step(current_user, step, form.details())
                done = f"The step “{step.title}” is saved."
        except InvalidInput as error:
            db.session.rollback()
            apply_errors(form, error)
        else:
            db.session.commit()
            flash(done, "success")
            return _builder(path, f"step-{step.id}")
    return render_template(
        "onboarding/builder/step.html", path=path, version=version, step=step, form=form
    )


@bp.route("/<int:path_id>/steps/new", methods=["GET", "POST"])
@login_required
@requires(AUTHOR_DOCUMENTS)
def new_step(path_id):
    return _step_page(_path(path_id), None)


@bp.route("/<int:path_id>/steps/<int:step_id>/edit", methods=["GET", "POST"])
@login_required
@requires(AUTHOR_DOCUMENTS)
def edit_step(path_id, step_id):
    path = _path(path_id)
    return _step_page(path, _step(path, step_id))


@bp.route("/<int:path_id>/steps/<int:step_id>/remove", methods=["POST"])
@login_required
@requires(AUTHOR_DOCUMENTS)
def remove_step(path_id, step_id):
    path = _path(path_id)
    step = _step(path, step_id)
    try:
        paths.remove_step(current_user, step)
    except InvalidInput as error:
        _refused(error)
    else:
        db.session.commit()
        flash(f"The step “{step.title}” is removed from the draft.", "success")
    return _builder(path, "steps")


# --- earlier versions -------------------------------------------------------------------------


@bp.route("/<int:path_id>/versions")
@login_required
@requires(AUTHOR_DOCUMENTS)
def versions(path_id):
    path = _path(path_id)
    stmt = version_list(path)
    page = RowPagination(
        select=stmt,
        session=db.session(),
        page=request.args.get("page", type=int),
        per_page=PER_PAGE,
        error_out=False,
    )
    return render_template("onboarding/builder/versions.html", path=path, page=page)


@bp.route("/<int:path_id>/versions/<int:number>")
@login_required
@requires(AUTHOR_DOCUMENTS)
def version(path_id, number):
    path = _path(path_id)
    shown = _version(path, number)
    steps = paths.steps_of(shown)
    publisher = db.session.get(User, shown.published_by_id) if shown.published_by_id else None
    return render_template(
        "onboarding/builder/version.html",
        path=path,
        shown=shown,
        publisher=publisher,
        phases=phases_of(shown, steps),
        step_count=len(steps),
        targets=step_targets(steps),
    )

"""Onboarding pages: the new hire's own path, the trainer's board, a person's path with
sign-offs and start-date changes, and enrolling someone by hand.

Anyone signed in sees their own paths. The board, people's paths and enrolling are for
trainers (their own partner's people) and PRMs and admins (every partner); another partner's
enrolment answers 404. Only a trainer of the person's partner signs off hands-on tasks: the
page shows nobody else the buttons, and the service refuses a forged request.
"""

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from portal.access.permissions import requires
from portal.access.visibility import get_visible_or_404, visible_partners, visible_teams
from portal.acknowledgements.reporting import paginate_rows
from portal.core.clock import local, utcnow
from portal.core.errors import InvalidInput
from portal.core.forms import apply_errors
from portal.extensions import db
from portal.onboarding import board as boards
from portal.onboarding.enrolment import can_manage_enrolment, enrol_by_hand, move_start
from portal.onboarding.forms import EnrolForm, MoveStartForm, StepRecordForm
from portal.onboarding.models import (
    Enrolment,
    OnboardingPath,
    PathStep,
    PathVersion,
    SignOff,
    StartDateChange,
)
from portal.onboarding.progress import can_sign_off, sign_off, standing
from portal.partners.models import Partner, Team
from portal.people.models import User

bp = Blueprint("onboarding", __name__, url_prefix="/onboarding")

KIND_LABELS = {"document": "Read and acknowledge", "course": "Course", "task": "Hands-on task"}


@bp.context_processor
def _page_helpers():
    return {
        "kind_labels": KIND_LABELS,
        "status_labels": boards.STATUS_LABELS,
        "timedelta": timedelta,
    }


def _today(person=None):
    """``person``'s date in their own time zone (the viewer's when not given)."""
    return local(utcnow(), (person or current_user).timezone).date()


def _signers(standings) -> dict[int, str]:
    """Names of the people who made the latest sign-offs on these paths (one query)."""
    ids = {
        s.sign_off.by_id for st in standings for s in st.steps if s.sign_off and s.sign_off.by_id
    }
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


# --- the new hire's own paths ---------------------------------------------------------------


@bp.route("/")
@login_required
def index():
    today = _today()
    rows = db.session.execute(
        select(Enrolment, OnboardingPath, PathVersion)
        .join(OnboardingPath, OnboardingPath.id == Enrolment.path_id)
        .join(PathVersion, PathVersion.id == Enrolment.version_id)
        .where(Enrolment.user_id == current_user.id)
        .order_by(Enrolment.start_date, Enrolment.id)
    ).all()
    paths = [(path, version, standing(enrolment, today=today)) for enrolment, path, version in rows]
    return render_template(
        "onboarding/index.html",
        paths=paths,
        signers=_signers(p[2] for p in paths),
        may_follow=boards.VIEW_ONBOARDING(current_user),
    )


# --- the board ------------------------------------------------------------------------------


def _board_filters(partners, teams, paths) -> boards.BoardFilters:
    """The filters asked for; 404 for a partner, team or path outside the choices."""
    args = request.args
    partner_id, team_id = args.get("partner", type=int), args.get("team", type=int)
    path_id = args.get("path", type=int)
    if partner_id is not None and partner_id not in {p.id for p in partners}:
        if current_user.is_staff or partner_id != current_user.partner_id:
            abort(404)
        partner_id = None  # a trainer's own partner: the board is theirs anyway
    if team_id is not None and team_id not in {t.id for t in teams}:
        abort(404)
    if path_id is not None and path_id not in {p.id for p in paths}:
        abort(404)
    status = args.get("status")
    return boards.BoardFilters(
        partner_id, team_id, path_id, status if status in boards.STATUS_LABELS else None
    )


@bp.route("/board")
@login_required
@requires(boards.VIEW_ONBOARDING)
def board():
    partners = []
    if current_user.is_staff:
        partners = db.session.scalars(visible_partners(current_user).order_by(Partner.name)).all()
    teams = db.session.execute(
        visible_teams(current_user)
        .join(Team.partner)
        .with_only_columns(Team.id, Team.name, Partner.name.label("partner_name"))
        .order_by(Partner.name, Team.name)
    ).all()
    paths = db.session.scalars(boards.paths_for(current_user)).all()
    filters = _board_filters(partners, teams, paths)
    today = _today()
    page = paginate_rows(
        boards.board_rows(current_user, today, filters), request.args.get("page", type=int)
    )
    return render_template(
        "onboarding/board.html",
        page=page,
        entries=[boards.BoardEntry(row, today) for row in page.items],
        totals=boards.status_totals(current_user, today, filters),
        filters=filters,
        partners=partners,
        teams=teams,
        paths=paths,
    )


# --- a person's path ------------------------------------------------------------------------


def _enrolment(enrolment_id: int) -> Enrolment:
    return get_visible_or_404(boards.visible_enrolments(current_user), Enrolment, enrolment_id)


def _person_page(enrolment, *, move_form=None, problem=None, status=200):
    """The person's path as their trainer sees it; ``problem`` is a refused sign-off
    (step_id, action, message, comment) to show beside its form."""
    person = db.session.get(User, enrolment.user_id)
    path = db.session.get(OnboardingPath, enrolment.path_id)
    version = db.session.get(PathVersion, enrolment.version_id)
    today = _today(person)
    state = standing(enrolment, today=today)
    records = db.session.execute(
        select(SignOff, User.name)
        .outerjoin(User, User.id == SignOff.by_id)
        .where(SignOff.enrolment_id == enrolment.id)
        .order_by(SignOff.at.desc(), SignOff.id.desc())
    ).all()
    changes = db.session.execute(
        select(StartDateChange, User.name)
        .outerjoin(User, User.id == StartDateChange.changed_by_id)
        .where(StartDateChange.enrolment_id == enrolment.id)
        .order_by(StartDateChange.changed_at.desc(), StartDateChange.id.desc())
    ).all()
    enrolled_by = (
        db.session.get(User, enrolment.enrolled_by_id) if enrolment.enrolled_by_id else None
    )
    may_move = can_manage_enrolment(current_user, person)
    if move_form is None and may_move:
        move_form = MoveStartForm(formdata=None)
    body = render_template(
        "onboarding/enrolment.html",
        enrolment=enrolment,
        person=person,
        path=path,
        version=version,
        standing=state,
        records=records,
        changes=changes,
        step_titles={s.step.id: s.step.title for s in state.steps},
        signers={r.SignOff.by_id: r.name for r in records},
        enrolled_by=enrolled_by,
        may_sign=can_sign_off(current_user, person),
        may_move=may_move,
        move_form=move_form,
        problem=problem or {},
    )
    return body, status


@bp.route("/enrolments/<int:enrolment_id>")
@login_required
@requires(boards.VIEW_ONBOARDING)
def enrolment(enrolment_id):
    return _person_page(_enrolment(enrolment_id))


def _record_sign_off(enrolment_id: int, step_id: int, *, signed: bool):
    enrolment = _enrolment(enrolment_id)
    step = db.session.get(PathStep, step_id)
    if step is None or step.version_id != enrolment.version_id:
        abort(404)
    form = StepRecordForm()
    if not form.validate_on_submit():
        flash("Reload the page and try again.", "error")
        return redirect(url_for(".enrolment", enrolment_id=enrolment.id))
    try:
        sign_off(current_user, enrolment, step, comment=form.comment.data, signed=signed)
    except InvalidInput as error:
        db.session.rollback()
        problem = {
            "step_id": step.id,
            "action": "sign" if signed else "reverse",
            "field": error.errors.get("comment"),
            "message": " ".join(m for f, m in error.errors.items() if f != "comment"),
            "comment": form.comment.data or "",
        }
        return _person_page(_enrolment(enrolment_id), problem=problem, status=422)
    db.session.commit()
    if signed:
        flash(f"Signed off “{step.title}”. The record keeps who and when.", "success")
    else:
        flash(f"Reversed the sign-off of “{step.title}”. Both records are kept.", "success")
    return redirect(url_for(".enrolment", enrolment_id=enrolment.id, _anchor=f"step-{step.id}"))


@bp.route("/enrolments/<int:enrolment_id>/steps/<int:step_id>/sign-off", methods=["POST"])
@login_required
@requires(boards.VIEW_ONBOARDING)
def sign(enrolment_id, step_id):
    return _record_sign_off(enrolment_id, step_id, signed=True)


@bp.route("/enrolments/<int:enrolment_id>/steps/<int:step_id>/reverse", methods=["POST"])
@login_required
@requires(boards.VIEW_ONBOARDING)
def reverse(enrolment_id, step_id):
    return _record_sign_off(enrolment_id, step_id, signed=False)


@bp.route("/enrolments/<int:enrolment_id>/start", methods=["POST"])
@login_required
@requires(boards.VIEW_ONBOARDING)
def move(enrolment_id):
    enrolment = _enrolment(enrolment_id)
    person = db.session.get(User, enrolment.user_id)
    form = MoveStartForm()
    if form.validate_on_submit():
        try:
            change = move_start(
                current_user,
                enrolment,
                person,
                start=form.start_date.data,
                reason=form.reason.data,
                today=_today(),
            )
        except InvalidInput as error:
            db.session.rollback()
            apply_errors(form, error)
        else:
            db.session.commit()
            flash(
                f"{person.name}'s day 1 is now {change.new_start.strftime('%-d %b %Y')}. "
                "The change and its reason are kept.",
                "success",
            )
            return redirect(url_for(".enrolment", enrolment_id=enrolment.id))
    return _person_page(_enrolment(enrolment_id), move_form=form, status=422)


# --- enrol by hand --------------------------------------------------------------------------


@bp.route("/enrol", methods=["GET", "POST"])
@login_required
@requires(boards.VIEW_ONBOARDING)
def enrol():
    partners, partner_id = [], current_user.partner_id
    if current_user.is_staff:
        partners = db.session.scalars(
            visible_partners(current_user).where(Partner.active).order_by(Partner.name)
        ).all()
        partner_id = request.args.get("partner", type=int)
        if partner_id is not None and partner_id not in {p.id for p in partners}:
            abort(404)
    form = EnrolForm()
    if partner_id is None:
        return render_template("onboarding/enrol.html", form=None, partners=partners)
    form.prepare(current_user, partner_id)
    if not form.is_submitted():
        form.person.data = request.args.get("person", type=int)
        form.path.data = request.args.get("path", type=int)
    elif form.validate():
        if form.person.data not in form.people_ids:
            form.person.errors.append("Choose one of the people in the list.")
        if form.path.data not in form.path_ids:
            form.path.errors.append("Choose one of the published paths in the list.")
        if not form.person.errors and not form.path.errors:
            person = db.session.get(User, form.person.data)
            path = db.session.get(OnboardingPath, form.path.data)
            try:
                enrolment = enrol_by_hand(
                    current_user,
                    person,
                    path,
                    start=form.start_date.data,
                    reason=form.reason.data,
                    today=_today(),
                )
            except InvalidInput as error:
                db.session.rollback()
                apply_errors(form, error)
            else:
                db.session.commit()
                flash(
                    f"{person.name} is on “{path.title}”, day 1 being "
                    f"{enrolment.start_date.strftime('%-d %b %Y')}.",
                    "success",
                )
                return redirect(url_for(".enrolment", enrolment_id=enrolment.id))
    status = 422 if form.is_submitted() else 200
    page = render_template(
        "onboarding/enrol.html", form=form, partners=partners, partner_id=partner_id
    )
    return page, status

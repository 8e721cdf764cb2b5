"""The people directory, invitations, and each person's own profile."""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required, login_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.access.permissions import MANAGE_PEOPLE, assignable_roles, can_manage_person, requires
from portal.access.roles import Role
from portal.access.visibility import (
    get_visible_or_404,
    visible_partners,
    visible_people,
    visible_teams,
)
from portal.audit.models import AuditEvent
from portal.auth import services as auth_services
from portal.auth.forms import ChangePasswordForm
from portal.core.errors import InvalidInput
from portal.core.forms import apply_errors
from portal.extensions import db, limiter
from portal.partners.forms import ConfirmForm
from portal.partners.models import Partner, Team
from portal.people import services
from portal.people.forms import PersonForm, ProfileForm
from portal.people.models import User

bp = Blueprint("people", __name__)

STATUSES = ("active", "invited", "deactivated")


def _choices():
    partners = db.session.scalars(visible_partners(current_user).order_by(Partner.name)).all()
    teams = db.session.scalars(
        visible_teams(current_user)
        .join(Team.partner)
        .options(joinedload(Team.partner))
        .order_by(Partner.name, Team.name)
    ).all()
    return partners, teams


@bp.route("/people/")
@login_required
@requires(MANAGE_PEOPLE)
def index():
    args = request.args
    filters = {
        "q": args.get("q", "").strip(),
        "partner_id": args.get("partner", type=int),
        "team_id": args.get("team", type=int),
        "role": args.get("role") if args.get("role") in set(Role) else None,
        "status": args.get("status") if args.get("status") in STATUSES else None,
    }
    stmt = services.filter_people(visible_people(current_user), **filters)
    stmt = stmt.options(joinedload(User.partner), joinedload(User.team)).order_by(
        User.name, User.id
    )
    page = db.paginate(stmt, per_page=25, error_out=False)
    partners, teams = _choices()
    return render_template(
        "people/index.html",
        page=page,
        filters=filters,
        partners=partners,
        teams=teams,
        statuses=STATUSES,
    )


def _details(form) -> services.PersonDetails:
    return services.PersonDetails(
        email=form.email.data,
        name=form.name.data,
        role=form.role.data,
        partner_id=form.partner_id.data,
        team_id=form.team_id.data,
        language=form.language.data or None,
        timezone=form.timezone.data or None,
        hire_date=form.hire_date.data,
    )


def _person_form(**kwargs):
    partners, teams = _choices()
    return PersonForm(
        roles=assignable_roles(current_user), partners=partners, teams=teams, **kwargs
    )


@bp.route("/people/new", methods=["GET", "POST"])
@login_required
@requires(MANAGE_PEOPLE)
def invite():
    defaults = {}
    if current_user.partner_id:
        defaults["partner_id"] = current_user.partner_id
    form = _person_form(role=Role.AGENT.value, **defaults)
    if form.validate_on_submit():
        try:
            person = services.invite_person(current_user, _details(form))
        except InvalidInput as error:
            db.session.rollback()
            apply_errors(form, error)
        else:
            db.session.commit()
            flash(
                f"{person.name} is invited: an email with a sign-up link is on its way.", "success"
            )
            return redirect(url_for("people.show", person_id=person.id))
    return render_template("people/form.html", form=form, person=None)


@bp.route("/people/<int:person_id>")
@login_required
@requires(MANAGE_PEOPLE)
def show(person_id):
    person = get_visible_or_404(
        visible_people(current_user).options(joinedload(User.partner), joinedload(User.team)),
        User,
        person_id,
    )
    history = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.target_type == "user", AuditEvent.target_id == person.id)
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .limit(20)
    ).all()
    return render_template(
        "people/show.html",
        person=person,
        history=history,
        may_manage=can_manage_person(current_user, person),
        confirm=ConfirmForm(),
    )


@bp.route("/people/<int:person_id>/edit", methods=["GET", "POST"])
@login_required
@requires(MANAGE_PEOPLE)
def edit(person_id):
    person = get_visible_or_404(visible_people(current_user), User, person_id)
    if not can_manage_person(current_user, person):
        abort(403, "You cannot edit this person.")
    form = _person_form(obj=person)
    if person.role_enum not in assignable_roles(current_user):
        form.role.choices.insert(0, (person.role, person.role_enum.label))
    if form.validate_on_submit():
        try:
            services.update_person(current_user, person, _details(form))
        except InvalidInput as error:
            db.session.rollback()
            apply_errors(form, error)
        else:
            db.session.commit()
            flash("Saved.", "success")
            return redirect(url_for("people.show", person_id=person.id))
    return render_template("people/form.html", form=form, person=person)


@bp.route("/people/<int:person_id>/active", methods=["POST"])
@login_required
@requires(MANAGE_PEOPLE)
def set_active(person_id):
    person = get_visible_or_404(visible_people(current_user), User, person_id)
    if ConfirmForm().validate_on_submit():
        active = request.form.get("active") == "1"
        try:
            services.set_active(current_user, person, active)
        except InvalidInput as error:
            db.session.rollback()
            flash(str(error), "danger")
        else:
            db.session.commit()
            flash(
                f"{person.name} is {'active again' if active else 'deactivated and signed out'}.",
                "success",
            )
    return redirect(url_for("people.show", person_id=person.id))


@bp.route("/people/<int:person_id>/invitation", methods=["POST"])
@login_required
@requires(MANAGE_PEOPLE)
def resend_invitation(person_id):
    person = get_visible_or_404(visible_people(current_user), User, person_id)
    if ConfirmForm().validate_on_submit():
        try:
            services.resend_invitation(current_user, person)
        except InvalidInput as error:
            db.session.rollback()
            flash(str(error), "danger")
        else:
            db.session.commit()
            flash(f"A new invitation is on its way to {person.email}.", "success")
    return redirect(url_for("people.show", person_id=person.id))


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    form = ProfileForm(obj=current_user)
    password_form = ChangePasswordForm(prefix="pw", account_email=current_user.email)
    if form.submit.data and form.validate_on_submit():
        try:
            services.update_profile(
                current_user,
                name=form.name.data,
                language=form.language.data,
                timezone=form.timezone.data,
            )
        except InvalidInput as error:
            db.session.rollback()
            apply_errors(form, error)
        else:
            db.session.commit()
            flash("Your profile is saved.", "success")
            return redirect(url_for("people.profile"))
    return render_template("people/profile.html", form=form, password_form=password_form)


def _password_change_key() -> str:
    return f"password-change:{current_user.get_id()}"


@bp.route("/profile/password", methods=["POST"])
@login_required
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=_password_change_key,
    deduct_when=lambda _response: g.get("password_check_failed", False),
    error_message="Too many wrong current passwords. Wait 15 minutes and try again.",
    scope="password-change",
)
def change_password():
    form = ProfileForm(obj=current_user)
    password_form = ChangePasswordForm(prefix="pw", account_email=current_user.email)
    if password_form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            auth_services.change_password(
                user, password_form.current.data, password_form.password.data
            )
        except InvalidInput as error:
            g.password_check_failed = True
            db.session.commit()  # keeps the audit record of the failed attempt
            apply_errors(password_form, error)
        else:
            db.session.commit()
            # The new auth version ends every other session; keep this one signed in.
            remember_cookie = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
            login_user(user, remember=bool(request.cookies.get(remember_cookie)))
            flash("Your password is changed. Other devices are signed out.", "success")
            return redirect(url_for("people.profile"))
    return render_template("people/profile.html", form=form, password_form=password_form)

"""Sign-in, sign-out, invitations and password resets."""

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from portal.audit.services import Actions, record
from portal.auth import services, sessions
from portal.auth.forms import ForgotPasswordForm, LoginForm, SetPasswordForm
from portal.core.urls import safe_next
from portal.extensions import db, limiter
from portal.people.models import normalize_email

bp = Blueprint("auth", __name__)

TOO_MANY = "Too many failed sign-ins. Wait 15 minutes, or reset your password."
TOO_MANY_RESETS = "Too many reset requests from this address. Wait an hour and try again."


def _account_key() -> str:
    return "sign-in:" + normalize_email(request.form.get("email", ""))[:254]


def _sign_in_failed(_response) -> bool:
    # Flask-Limiter only tests these limits before the view and hits them afterwards when
    # this says so: successful sign-ins never count against the person.
    return g.get("sign_in_failed", False)


def _start_session(user, remember=False):
    """A fresh session for ``user``: nothing from before sign-in carries over."""
    remember_cookie = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    session.clear()
    login_user(user, remember=remember)
    if not remember and remember_cookie in request.cookies:
        # Someone else's "keep me signed in" on this device must not outlive this session.
        session["_remember"] = "clear"
    # Without remember-me the session ends with the browser (a shared workstation).
    session.permanent = bool(remember)
    sessions.start()


# Idle and absolute session limits on every request, remember-me included (auth/sessions.py).
bp.before_app_request(sessions.check_request)
bp.after_app_request(sessions.save_clock_cookie)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=_account_key,
    methods=["POST"],
    deduct_when=_sign_in_failed,
    error_message=TOO_MANY,
    scope="sign-in-account",
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"],
    methods=["POST"],
    deduct_when=_sign_in_failed,
    error_message=TOO_MANY,
    scope="sign-in-address",
)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.home"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data)
        except services.SignInRefused as refused:
            form.form_errors.append(str(refused))
            g.sign_in_failed = True
            db.session.commit()
        else:
            _start_session(user, remember=form.remember.data)
            services.record_sign_in(user)
            db.session.commit()
            target = safe_next(form.next.data) or safe_next(request.args.get("next"))
            return redirect(target or url_for("home.home"))
    elif request.method == "POST":
        g.sign_in_failed = True
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    record(Actions.SIGN_OUT, actor=current_user, partner_id=current_user.partner_id)
    db.session.commit()
    logout_user()
    # Drop everything but Flask-Login's note to delete the remember-me cookie.
    forget_remember_cookie = session.get("_remember")
    session.clear()
    if forget_remember_cookie:
        session["_remember"] = forget_remember_cookie
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["PASSWORD_RESET_LIMIT"],
    methods=["POST"],
    error_message=TOO_MANY_RESETS,
    scope="password-reset",
)
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        db.session.commit()
        flash(
            "If an account uses that address, a reset link is on its way. "
            "It works once and expires soon.",
            "info",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot_password.html", form=form)


def _set_password_page(token, purpose, template):
    try:
        user = services.user_for_token(token, purpose)
    except services.TokenError as error:
        return render_template("auth/link_invalid.html", message=str(error)), 400
    form = SetPasswordForm(account_email=user.email)
    if form.validate_on_submit():
        via = "invitation" if purpose == services.INVITATION else "reset"
        services.set_password(user, form.password.data, via=via)
        _start_session(user)
        services.record_sign_in(user)
        db.session.commit()
        flash("Your password is saved and you are signed in.", "success")
        return redirect(url_for("home.home"))
    return render_template(template, form=form, user=user)


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def accept_invitation(token):
    return _set_password_page(token, services.INVITATION, "auth/accept_invitation.html")


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token):
    return _set_password_page(token, services.PASSWORD_RESET, "auth/reset_password.html")

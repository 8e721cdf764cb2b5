"""Signing in, invitations and password resets.

Invitation and reset links are signed, expiring tokens that carry the account's
``auth_version``. Setting a password bumps that version, so a link works once, and so does
every session and remember-me cookie issued before it.
"""

from flask import current_app
from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from werkzeug.security import check_password_hash

from portal.audit.services import Actions, record
from portal.core.clock import utcnow
from portal.core.errors import InvalidInput
from portal.core.urls import external_url
from portal.extensions import db
from portal.mail import send_mail
from portal.people.models import User, hash_password, normalize_email

INVITATION = "invitation"
PASSWORD_RESET = "password-reset"


class TokenError(Exception):
    """A link that cannot be used; the message says why, for the person holding it."""


class SignInRefused(Exception):
    """A sign-in that did not succeed; the message is what the person signing in sees."""


BAD_CREDENTIALS = "That email address and password do not match an account."
ACCOUNT_INACTIVE = "This account is deactivated. Ask your trainer or partner manager to restore it."

_dummy_hashes: dict[str, str] = {}


def _spend_hashing_time(password: str) -> None:
    """Check ``password`` against a throwaway hash, so unknown emails take as long as known."""
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _dummy_hashes:
        _dummy_hashes[method] = hash_password("not a real password")
    check_password_hash(_dummy_hashes[method], password)


def authenticate(email: str, password: str) -> User:
    """The active account with this email and password; raises SignInRefused otherwise.

    An unknown email, a wrong password and an account without a password (invited, not yet
    accepted) all get the same message and take about as long, so nobody can probe which
    addresses have accounts. Only someone who knows the password learns that the account
    (or its partner) is deactivated. Every refusal is written to the audit log.
    """
    typed = normalize_email(email)[:254]
    user = db.session.scalars(select(User).where(User.email == typed)).first()
    if user is None or not user.has_password:
        _spend_hashing_time(password)
    if user is None or not user.check_password(password):
        reason = "unknown email" if user is None else "wrong password"
        _record_failure(user, typed, reason)
        raise SignInRefused(BAD_CREDENTIALS)
    if not user.is_active:
        _record_failure(user, typed, "deactivated")
        raise SignInRefused(ACCOUNT_INACTIVE)
    return user


def _record_failure(user: User | None, typed: str, reason: str) -> None:
    record(
        Actions.SIGN_IN_FAILED,
        actor=user,
        partner_id=user.partner_id if user else None,
        target=user,
        summary=f"Failed sign-in for {typed[:200]} ({reason})",
        email=typed,
        reason=reason,
    )


def record_sign_in(user: User) -> None:
    """Note a successful sign-in in the audit log and on the account."""
    user.last_sign_in_at = utcnow()
    record(Actions.SIGN_IN, actor=user, partner_id=user.partner_id, summary="Signed in")


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"portal-{purpose}")


def make_token(user: User, purpose: str) -> str:
    """A signed link token for ``user`` valid until the account's auth version changes."""
    return _serializer(purpose).dumps({"u": user.id, "v": user.auth_version})


def _max_age(purpose: str) -> int:
    key = "INVITATION_MAX_AGE" if purpose == INVITATION else "PASSWORD_RESET_MAX_AGE"
    return int(current_app.config[key].total_seconds())


def user_for_token(token: str, purpose: str) -> User:
    """The account a link token is for; raises TokenError if expired, used or forged."""
    what = "invitation" if purpose == INVITATION else "password reset link"
    try:
        data = _serializer(purpose).loads(token, max_age=_max_age(purpose))
    except SignatureExpired:
        raise TokenError(
            f"This {what} has expired. Ask your trainer or PRM for a new one"
            + (" or request a new reset link." if purpose == PASSWORD_RESET else ".")
        ) from None
    except BadData:
        raise TokenError(
            f"This {what} is not valid. Check that you copied the whole link."
        ) from None
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or not user.is_active:
        raise TokenError(f"This {what} is no longer valid.")
    if user.auth_version != data.get("v"):
        raise TokenError(
            f"This {what} has already been used. Sign in, or ask for a new link "
            "if you have forgotten your password."
        )
    return user


def invitation_link(user: User) -> str:
    """The link that lets ``user`` set their first password (works once, expires)."""
    return external_url("auth.accept_invitation", token=make_token(user, INVITATION))


def send_invitation(user: User, *, actor=None) -> str:
    """Email ``user`` a link to set their password; returns the link."""
    link = invitation_link(user)
    user.invited_at = utcnow()
    days = current_app.config["INVITATION_MAX_AGE"].days
    inviter = actor.name if actor is not None else "The partner portal team"
    send_mail(
        user.email,
        "You are invited to the partner portal",
        f"Hello {user.name},\n\n{inviter} has invited you to the partner portal.\n"
        f"Set your password here (the link works once and expires in {days} days):\n\n{link}\n",
    )
    record(
        Actions.INVITATION_SENT,
        actor=actor,
        partner_id=user.partner_id,
        target=user,
        summary=f"Invited {user.email}",
    )
    return link


def request_password_reset(email: str) -> None:
    """Email a reset link if an active account has this address.

    Says nothing either way to the caller, so addresses cannot be probed. Someone invited but
    without a password yet may use it too: it is their invitation, sent again.
    """
    user = db.session.scalars(select(User).where(User.email == normalize_email(email))).first()
    if user is None or not user.is_active:
        return
    link = external_url("auth.reset_password", token=make_token(user, PASSWORD_RESET))
    hours = int(current_app.config["PASSWORD_RESET_MAX_AGE"].total_seconds() // 3600)
    send_mail(
        user.email,
        "Reset your partner portal password",
        f"Hello {user.name},\n\nSomeone asked to reset your partner portal password.\n"
        f"If it was you, choose a new one here (the link works once and expires in "
        f"{hours} hours):\n\n{link}\n\nIf it was not you, ignore this message.\n",
    )
    record(
        Actions.PASSWORD_RESET_REQUESTED,
        actor=user,
        partner_id=user.partner_id,
        target=user,
        summary="Password reset link sent",
    )


def set_password(user: User, password: str, *, via: str) -> None:
    """Set a new password, ending the account's other sessions and used links.

    ``via`` says how: 'invitation', 'reset' or 'profile'.
    """
    first_time = not user.has_password
    user.set_password(password)
    action = (
        Actions.INVITATION_ACCEPTED
        if via == "invitation" and first_time
        else Actions.PASSWORD_CHANGED
    )
    record(
        action, actor=user, partner_id=user.partner_id, target=user, summary=f"Password set ({via})"
    )


def load_user(session_id: str) -> User | None:
    """Flask-Login's loader: the id carries the auth version, so old sessions stop working."""
    user_id, _, version = (session_id or "").partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.auth_version != int(version) or not user.is_active:
        return None
    return user


def change_password(user: User, current: str, new: str) -> None:
    """A signed-in person's own password change; the current password must be right.

    A wrong current password raises InvalidInput and is recorded in the audit log.
    """
    if not user.check_password(current):
        record(
            Actions.PASSWORD_CHANGE_FAILED,
            actor=user,
            partner_id=user.partner_id,
            target=user,
            summary="Wrong current password when changing it",
        )
        raise InvalidInput({"current": "That is not your current password."})
    set_password(user, new, via="profile")

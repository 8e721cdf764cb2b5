"""Verification codes: how certificates are printed and how a trainer or PRM checks one."""

import secrets

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.access.visibility import visible_people
from portal.extensions import db
from portal.people.models import User
from portal.training.models import Completion

# Unambiguous characters for verification codes (no 0/O, 1/I/L).
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_GROUPS, CODE_GROUP_LENGTH = 3, 4


def new_code() -> str:
    """A random verification code such as ``K7QF-3M9X-PW2D``."""
    return "-".join(
        "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUP_LENGTH))
        for _ in range(CODE_GROUPS)
    )


def normalize_code(code: str) -> str:
    """A code as typed (any case, spaces or none, hyphens or none) in its printed form."""
    bare = "".join(ch for ch in (code or "").upper() if ch.isalnum())
    size = CODE_GROUP_LENGTH
    return "-".join(bare[i : i + size] for i in range(0, len(bare), size))


def find_completion(viewer, code: str) -> Completion | None:
    """The completion with this verification code, if ``viewer`` may see its holder.

    Staff check any code; trainers their own partner's people; anyone their own.
    """
    code = normalize_code(code)
    if not code:
        return None
    holders = visible_people(viewer).with_only_columns(User.id)
    return db.session.scalars(
        select(Completion)
        .options(joinedload(Completion.user), joinedload(Completion.course))
        .where(
            Completion.verification_code == code,
            (Completion.user_id == viewer.id) | Completion.user_id.in_(holders),
        )
    ).first()

"""The one place that decides what a user may see.

Every list, page, count and export starts from one of these queries; a view that shows an
object by id loads it through :func:`get_visible_or_404`, so another partner's ids answer 404
exactly like ids that do not exist.
"""

from flask import abort
from sqlalchemy import Select, false, select

from portal.access.permissions import IMPORT_ROSTER
from portal.access.roles import Role
from portal.extensions import db
from portal.partners.models import Partner, Team
from portal.people.models import User
from portal.roster.models import RosterImport


def _role(viewer) -> Role | None:
    if viewer is None or not getattr(viewer, "is_authenticated", False) or not viewer.active:
        return None
    return viewer.role_enum


def visible_partners(viewer) -> Select:
    """Partners ``viewer`` may see: all for staff, their own for partner people."""
    role = _role(viewer)
    stmt = select(Partner)
    if role is None:
        return stmt.where(false())
    if role.is_staff:
        return stmt
    return stmt.where(Partner.id == viewer.partner_id)


def visible_teams(viewer) -> Select:
    """Teams ``viewer`` may see: all for staff, their own partner's for partner people."""
    role = _role(viewer)
    stmt = select(Team)
    if role is None:
        return stmt.where(false())
    if role.is_staff:
        return stmt
    return stmt.where(Team.partner_id == viewer.partner_id)


def visible_people(viewer) -> Select:
    """People ``viewer`` may see.

    Staff see everyone; a trainer sees their own partner's people; an agent sees only
    themselves (agents have no people directory).
    """
    role = _role(viewer)
    stmt = select(User)
    if role is None:
        return stmt.where(false())
    if role.is_staff:
        return stmt
    if role is Role.TRAINER:
        return stmt.where(User.partner_id == viewer.partner_id)
    return stmt.where(User.id == viewer.id)


def visible_roster_imports(viewer) -> Select:
    """Roster imports ``viewer`` may see and apply: those of the partners they may see.

    Staff see every import; a trainer sees their own partner's; anyone who may not import
    rosters sees none.
    """
    stmt = select(RosterImport)
    if not IMPORT_ROSTER(viewer):
        return stmt.where(false())
    partner_ids = visible_partners(viewer).with_only_columns(Partner.id)
    return stmt.where(RosterImport.partner_id.in_(partner_ids))


def get_visible_or_404(stmt: Select, model, object_id: int):
    """The object with ``object_id`` among those ``stmt`` selects, or a 404."""
    obj = db.session.scalars(stmt.where(model.id == object_id)).first()
    if obj is None:
        abort(404)
    return obj

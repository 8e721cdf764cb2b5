"""Named role checks, shared by views and templates.

A view declares what it needs with ``@requires(MANAGE_PEOPLE)``; a template asks
``can.manage_people``. Object-level questions ("may this trainer edit that person?") are
functions here too, so the rules live in one module.
"""

from functools import wraps

from flask import abort
from flask_login import current_user

from portal.access.roles import Role


class Permission:
    """A named set of roles allowed to do something."""

    def __init__(self, name: str, *roles: Role):
        self.name = name
        self.roles = frozenset(roles)

    def __call__(self, user) -> bool:
        return bool(
            user is not None
            and getattr(user, "is_authenticated", False)
            and user.active
            and user.role_enum in self.roles
        )

    def __repr__(self):
        return f"<Permission {self.name}>"


VIEW_PARTNERS = Permission("view_partners", Role.ADMIN, Role.PRM)
MANAGE_PARTNERS = Permission("manage_partners", Role.ADMIN)
MANAGE_TEAMS = Permission("manage_teams", Role.ADMIN, Role.PRM, Role.TRAINER)
MANAGE_PEOPLE = Permission("manage_people", Role.ADMIN, Role.PRM, Role.TRAINER)
IMPORT_ROSTER = Permission("import_roster", Role.ADMIN, Role.PRM, Role.TRAINER)
MANAGE_STAFF = Permission("manage_staff", Role.ADMIN)
VIEW_AUDIT_LOG = Permission("view_audit_log", Role.ADMIN)
# Write and publish documents: staff anywhere, trainers for their own partner only.
AUTHOR_DOCUMENTS = Permission("author_documents", Role.ADMIN, Role.PRM, Role.TRAINER)
# See who has acknowledged what (trainers: their own partner's people).
VIEW_ACKNOWLEDGEMENTS = Permission("view_acknowledgements", Role.ADMIN, Role.PRM, Role.TRAINER)
# Write, publish and withdraw announcements and see their receipts: staff to any audience,
# trainers to their own partner only.
PUBLISH_ANNOUNCEMENTS = Permission("publish_announcements", Role.ADMIN, Role.PRM, Role.TRAINER)

ALL = (
    VIEW_PARTNERS,
    MANAGE_PARTNERS,
    MANAGE_TEAMS,
    MANAGE_PEOPLE,
    IMPORT_ROSTER,
    MANAGE_STAFF,
    VIEW_AUDIT_LOG,
    AUTHOR_DOCUMENTS,
    VIEW_ACKNOWLEDGEMENTS,
    PUBLISH_ANNOUNCEMENTS,
)


def requires(permission: Permission):
    """View decorator: 403 unless the signed-in user has ``permission``.

    On a page about one object (a view with URL arguments such as ``person_id``) the refusal
    is a 404 instead: the same answer as for an object the user may not see, so another
    partner's ids answer 404 whatever the role. Use below ``@login_required`` so anonymous
    visitors are sent to sign in first.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not permission(current_user):
                abort(404 if kwargs else 403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def assignable_roles(actor) -> list[Role]:
    """Roles ``actor`` may give to someone: admins any, PRMs and trainers no role above trainer."""
    if MANAGE_STAFF(actor):
        return list(Role)
    if MANAGE_PEOPLE(actor):
        return [Role.TRAINER, Role.AGENT]
    return []


def can_manage_person(actor, person) -> bool:
    """Whether ``actor`` may edit, deactivate or re-invite ``person``."""
    if not MANAGE_PEOPLE(actor):
        return False
    if person.role_enum.is_staff:
        return MANAGE_STAFF(actor)
    if actor.role_enum is Role.TRAINER:
        return person.partner_id == actor.partner_id
    return True


def can_manage_team(actor, team) -> bool:
    """Whether ``actor`` may rename or delete ``team``."""
    if not MANAGE_TEAMS(actor):
        return False
    return actor.is_staff or team.partner_id == actor.partner_id


def can_edit_document(actor, document) -> bool:
    """Whether ``actor`` may edit, publish, archive or attach files to ``document``.

    Staff edit every document; a trainer edits only their own partner's local documents.
    """
    if not AUTHOR_DOCUMENTS(actor):
        return False
    return actor.is_staff or (
        document.partner_id is not None and document.partner_id == actor.partner_id
    )


def can_edit_announcement(actor, announcement) -> bool:
    """Whether ``actor`` may edit, publish or withdraw ``announcement``.

    Staff manage every announcement; a trainer only their own partner's.
    """
    if not PUBLISH_ANNOUNCEMENTS(actor):
        return False
    return actor.is_staff or (
        announcement.partner_id is not None and announcement.partner_id == actor.partner_id
    )


class _CurrentUserPermissions:
    """``can.<name>`` in templates: the permission checked for the signed-in user."""

    def __getattr__(self, name):
        for permission in ALL:
            if permission.name == name:
                return permission(current_user)
        raise AttributeError(name)


can = _CurrentUserPermissions()

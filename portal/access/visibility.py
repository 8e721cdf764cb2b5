"""The one place that decides what a user may see.

Every list, page, count and export starts from one of these queries; a view that shows an
object by id loads it through :func:`get_visible_or_404`, so another partner's ids answer 404
exactly like ids that do not exist.
"""

from flask import abort
from sqlalchemy import Select, and_, exists, false, or_, select

from portal.access.permissions import IMPORT_ROSTER
from portal.access.roles import Role
from portal.announcements.models import Announcement, AnnouncementStatus
from portal.audiences.services import audience_includes_person, audience_reaches_partner
from portal.core.clock import utcnow
from portal.extensions import db
from portal.library.models import Document, DocumentStatus
from portal.partners.models import Partner, Team
from portal.people.models import User
from portal.roster.models import RosterImport
from portal.training.models import Course, CourseStatus, Requirement


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


# Documents, announcements and courses share one rule. Staff see everything in every state. A
# trainer sees their own partner's local items in every state, and company items once released
# when addressed to any of their partner's people (they answer for those people). Everyone
# else sees what is addressed to them: released, company-wide or their own partner's, and
# with an audience that includes them.


def _addressed_to(model, person, released) -> Select:
    role = _role(person)
    stmt = select(model)
    if role is None or role.is_staff:
        return stmt.where(false())
    return stmt.where(
        *released,
        or_(model.partner_id.is_(None), model.partner_id == person.partner_id),
        audience_includes_person(model.audience_id, person),
    )


def _visible(model, viewer, released_to_trainers, addressed_to) -> Select:
    role = _role(viewer)
    stmt = select(model)
    if role is None:
        return stmt.where(false())
    if role.is_staff:
        return stmt
    if role is Role.TRAINER:
        return stmt.where(
            or_(
                model.partner_id == viewer.partner_id,
                and_(
                    model.partner_id.is_(None),
                    *released_to_trainers,
                    audience_reaches_partner(model.audience_id, viewer.partner_id),
                ),
            )
        )
    return addressed_to(viewer)


def documents_addressed_to(person) -> Select:
    """Published documents whose audience includes ``person`` (what they are asked to read)."""
    return _addressed_to(Document, person, [Document.status == DocumentStatus.PUBLISHED])


def visible_documents(viewer) -> Select:
    """Documents ``viewer`` may open, in the library, search, exports and attachments.

    Trainers see company documents once published (archived ones too, for their records).
    """
    return _visible(
        Document, viewer, [Document.status != DocumentStatus.DRAFT], documents_addressed_to
    )


def _announcement_is_live(now):
    return and_(
        Announcement.status == AnnouncementStatus.PUBLISHED,
        Announcement.publish_at <= now,
        or_(Announcement.expires_at.is_(None), Announcement.expires_at > now),
    )


def announcements_addressed_to(person, now=None) -> Select:
    """Live announcements whose audience includes ``person`` (their feed); ``now`` may be a
    bound parameter (portal/access/bound.py)."""
    live = _announcement_is_live(utcnow() if now is None else now)
    return _addressed_to(Announcement, person, [live])


def visible_announcements(viewer, now=None) -> Select:
    """Announcements ``viewer`` may open (and, for authors, see receipts of).

    Trainers see company announcements once their publish time has come (withdrawn and
    expired ones too, for their receipts); agents see the live ones addressed to them.
    """
    now = now or utcnow()
    released = [Announcement.status != AnnouncementStatus.DRAFT, Announcement.publish_at <= now]
    return _visible(
        Announcement, viewer, released, lambda person: announcements_addressed_to(person, now)
    )


def _required_of(person):
    """SQL: an active requirement makes the course's completion required of ``person``."""
    return exists().where(
        Requirement.course_id == Course.id,
        Requirement.withdrawn_at.is_(None),
        or_(Requirement.partner_id.is_(None), Requirement.partner_id == person.partner_id),
        audience_includes_person(Requirement.audience_id, person),
    )


def _required_of_partner(partner_id):
    """SQL: an active requirement asks the course of some of ``partner_id``'s people."""
    return exists().where(
        Requirement.course_id == Course.id,
        Requirement.withdrawn_at.is_(None),
        or_(Requirement.partner_id.is_(None), Requirement.partner_id == partner_id),
        audience_reaches_partner(Requirement.audience_id, partner_id),
    )


def courses_addressed_to(person) -> Select:
    """Published courses ``person`` may take: addressed to them, or required of them.

    A requirement's audience may reach people the course's own audience does not; they
    must still be able to open what they are required to complete.
    """
    role = _role(person)
    if role is None or role.is_staff:
        return select(Course).where(false())
    return select(Course).where(
        Course.status == CourseStatus.PUBLISHED,
        or_(
            and_(
                or_(Course.partner_id.is_(None), Course.partner_id == person.partner_id),
                audience_includes_person(Course.audience_id, person),
            ),
            _required_of(person),
        ),
    )


def visible_courses(viewer) -> Select:
    """Courses ``viewer`` may open: the rule of documents, plus courses required of them.

    Trainers see their partner's own courses in every state and company courses, once
    published, that are addressed to or required of any of their partner's people.
    """
    role = _role(viewer)
    if role is Role.TRAINER:
        return select(Course).where(
            or_(
                Course.partner_id == viewer.partner_id,
                and_(
                    Course.partner_id.is_(None),
                    Course.status != CourseStatus.DRAFT,
                    or_(
                        audience_reaches_partner(Course.audience_id, viewer.partner_id),
                        _required_of_partner(viewer.partner_id),
                    ),
                ),
            )
        )
    if role is not None and role.is_staff:
        return select(Course)
    return courses_addressed_to(viewer)


def get_visible_or_404(stmt: Select, model, object_id: int):
    """The object with ``object_id`` among those ``stmt`` selects, or a 404."""
    obj = db.session.scalars(stmt.where(model.id == object_id)).first()
    if obj is None:
        abort(404)
    return obj

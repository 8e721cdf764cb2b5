"""What every template can use: the permission checks, time-zone filters, the navigation."""

from datetime import date, datetime

from flask import g, request, url_for
from flask_login import current_user

from portal.access.permissions import can
from portal.access.roles import ROLE_LABELS, Role
from portal.core.clock import local
from portal.core.locale import LANGUAGES


def _reader_tz():
    return current_user.timezone if current_user.is_authenticated else "UTC"


def localtime(value: datetime | None, fmt="%d %b %Y, %H:%M") -> str:
    """A UTC timestamp shown in the reader's time zone."""
    if value is None:
        return "—"
    return local(value, _reader_tz()).strftime(fmt)


def localdate(value: date | datetime | None, fmt="%d %b %Y") -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = local(value, _reader_tz())
    return value.strftime(fmt)


def role_label(role) -> str:
    try:
        return ROLE_LABELS[Role(role)]
    except ValueError:
        return str(role)


def page_url(page: int) -> str:
    """The current page's URL with ``page`` replaced, keeping every filter."""
    args = request.args.to_dict(flat=False)
    args["page"] = [str(page)]
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def navigation():
    """What the signed-in user may open, in order: (label, endpoint) pairs, or
    (label, [(label, endpoint), ...]) for a menu.

    Kept to one line at desktop width: partners, teams and people share one "People" menu,
    the roster import is a button on the people page and reviews a button in the library;
    administrators' pages are in the account menu. Onboarding shows for those who follow
    someone's path and for people on one.
    """
    if not current_user.is_authenticated:
        return []
    items = [
        ("Home", "home.home"),
        ("Library", "library.index"),
        ("Announcements", "announcements.index"),
        ("Training", "training.index"),
    ]
    if current_user.role == "agent":
        if on_a_path():
            items.append(("Onboarding", "onboarding.index"))
    else:
        onboarding = [("My path", "onboarding.index")] if on_a_path() else []
        onboarding += [("Board", "onboarding.board"), ("Path builder", "path_builder.index")]
        items.append(("Onboarding", onboarding))
        items.append(
            (
                "Reports",
                [
                    ("Compliance", "compliance.index"),
                    ("Business review", "business_review.index"),
                    ("Training", "training_reports.index"),
                    ("Onboarding cohorts", "onboarding_cohorts.index"),
                ],
            )
        )
    roster = []
    if can.view_partners:
        roster.append(("Partners", "partners.index"))
    if can.manage_teams:
        roster.append(("Teams", "partners.teams"))
    if can.manage_people:
        roster.append(("People", "people.index"))
    if roster:
        items.append(("People", roster))
    return items


def on_a_path() -> bool:
    """Whether the signed-in person is enrolled on an onboarding path (once per request)."""
    from sqlalchemy import exists, select

    from portal.extensions import db
    from portal.onboarding.models import Enrolment

    if "on_a_path" not in g:
        g.on_a_path = db.session.scalar(
            select(exists().where(Enrolment.user_id == current_user.id))
        )
    return g.on_a_path


def todo_count() -> int:
    """Pending acknowledgements and required courses still to complete of the signed-in
    person, for the badge in the navigation (two queries, once per request)."""
    from portal.acknowledgements.services import pending_count
    from portal.training.overview import due_course_count

    if not current_user.is_authenticated or current_user.is_staff:
        return 0
    if "todo_count" not in g:
        g.todo_count = pending_count(current_user) + due_course_count(current_user)
    return g.todo_count


def announcement_status():
    """The signed-in person's unread announcements and urgent banner (once per request)."""
    from portal.announcements.reading import nav_status

    if "announcement_status" not in g:
        g.announcement_status = nav_status(current_user)
    return g.announcement_status


def notification_count() -> int:
    """Unread in-app notifications of the signed-in person, for the bell (once per request)."""
    from portal.notifications.services import unread_count

    if "notification_count" not in g:
        g.notification_count = unread_count(current_user)
    return g.notification_count


def init_app(app):
    app.jinja_env.filters.update(localtime=localtime, localdate=localdate, role_label=role_label)
    app.jinja_env.globals.update(
        can=can,
        navigation=navigation,
        page_url=page_url,
        todo_count=todo_count,
        announcement_status=announcement_status,
        notification_count=notification_count,
        LANGUAGES=LANGUAGES,
        Role=Role,
    )

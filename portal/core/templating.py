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
    """(label, endpoint) pairs the signed-in user may use, in order.

    Kept to one line at desktop width: the roster import is a button on the people page and
    reviews a button in the library; administrators' pages are in the account menu.
    """
    if not current_user.is_authenticated:
        return []
    items = [
        ("Home", "home.home"),
        ("Library", "library.index"),
        ("Announcements", "announcements.index"),
        ("Training", "training.index"),
    ]
    if can.view_partners:
        items.append(("Partners", "partners.index"))
    if can.manage_teams:
        items.append(("Teams", "partners.teams"))
    if can.manage_people:
        items.append(("People", "people.index"))
    return items


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

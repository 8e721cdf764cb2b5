"""A person's compliance page and its CSV: for their partner's trainers, PRMs and admins.

A trainer sees their own partner's people (another partner's person answers 404); staff see
anyone. Agents are refused (403 for their own id, 404 for anyone else's, as every id route
answers for what one may not see): their own obligations are on the home page and in My training.
"""

from datetime import UTC

from flask import Blueprint, Response, abort, render_template, request, stream_with_context, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from portal.access.permissions import Permission
from portal.access.roles import Role
from portal.access.visibility import get_visible_or_404, visible_people
from portal.acknowledgements.reporting import METHOD_LABELS, RowPagination
from portal.compliance import person as compliance
from portal.compliance.obligations import KIND_LABELS, KINDS
from portal.core.clock import utcnow
from portal.extensions import db
from portal.people.models import User
from portal.reminders.localdays import day_number, from_day_number
from portal.training.reporting import csv_lines

bp = Blueprint("person_compliance", __name__, url_prefix="/reports/people")

VIEW_PERSON_COMPLIANCE = Permission("view_person_compliance", Role.ADMIN, Role.PRM, Role.TRAINER)
REFUSED = (
    "A person's compliance page is for their trainers and the company's staff. "
    "Your own is on your home page and in My training."
)
STATUS_LABELS = {
    "overdue": "Overdue",
    "pending": "Pending",
    "expiring": "Expiring",
    "done": "Done",
}
CSV_HEADER = ("Kind", "Item", "Due date", "Status", "Done at (UTC)")


def _person(person_id: int) -> User:
    if not VIEW_PERSON_COMPLIANCE(current_user):
        # Another person's id is not found, as everywhere; one's own page is refused.
        abort(403 if person_id == current_user.id else 404, REFUSED)
    return get_visible_or_404(
        visible_people(current_user).options(joinedload(User.partner), joinedload(User.team)),
        User,
        person_id,
    )


def _choice(name: str, allowed):
    value = request.args.get(name)
    return value if value in allowed else None


def _paginate(stmt, page: int | None) -> RowPagination:
    return RowPagination(
        select=stmt,
        session=db.session(),
        page=page,
        per_page=compliance.PER_PAGE,
        error_out=False,
    )


def _url(**changes) -> str:
    """This page's URL with some query arguments changed (None drops one)."""
    args = request.args.to_dict()
    args.update(changes)
    args = {key: value for key, value in args.items() if value is not None}
    return url_for(request.endpoint, **request.view_args, **args)


@bp.route("/<int:person_id>")
@login_required
def show(person_id):
    person = _person(person_id)
    today = utcnow().date()
    reason = compliance.not_counted_reason(person)
    section = _choice("section", compliance.SECTIONS)
    kind = _choice("kind", KINDS)
    context = {}
    if section is not None and reason is None:
        # "Show all" of one section (and kind): that list alone, paginated.
        stmt = compliance.obligation_list(person, today, section=section, kind=kind)
        context["page"] = _paginate(stmt, request.args.get("page", type=int))
    else:
        records = _choice("records", compliance.RECORDS) or "acknowledgements"
        context.update(
            overview=compliance.overview(person, today) if reason is None else None,
            records=records,
            record_counts=compliance.record_counts(person),
            record_page=_paginate(
                compliance.record_rows(person, records),
                request.args.get("records_page", type=int),
            ),
        )
    return render_template(
        "compliance/person.html",
        person=person,
        reason=reason,
        section=section,
        kind=kind,
        sections=compliance.SECTION_LABELS,
        kind_labels=KIND_LABELS,
        record_labels=compliance.RECORDS,
        status_labels=STATUS_LABELS,
        method_labels=METHOD_LABELS,
        today_number=day_number(today),
        day=from_day_number,
        cap=compliance.GROUP_CAP,
        url=_url,
        **context,
    )


def _csv_cells(row) -> list:
    done_at = row.done_at.astimezone(UTC).isoformat(timespec="seconds") if row.done_at else ""
    return [
        KIND_LABELS.get(row.kind, row.kind),
        row.title,
        from_day_number(row.due_day).isoformat() if row.due_day is not None else "",
        STATUS_LABELS.get(row.status, row.status),
        done_at,
    ]


@bp.route("/<int:person_id>.csv")
@login_required
def csv(person_id):
    person = _person(person_id)
    today = utcnow().date()
    if compliance.not_counted_reason(person) is None:
        lines = csv_lines(CSV_HEADER, compliance.obligation_list(person, today), _csv_cells)
    else:
        lines = iter([",".join(CSV_HEADER) + "\r\n"])
    filename = f"compliance-person-{person.id}-{today.isoformat()}.csv"
    return Response(
        stream_with_context(lines),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )

"""The compliance dashboard, its drill-down to people, and both as streamed CSV.

Admins and PRMs see every partner (columns: partners; with a partner chosen, its teams); a
trainer sees their own partner's people (columns: their teams) on the same page. Agents get 403.
A filter naming a partner, team or item the viewer may not see answers 404.
"""

import csv
import io
from datetime import UTC

from flask import (
    Blueprint,
    Response,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user, login_required

from portal.access.permissions import requires
from portal.acknowledgements.reporting import safe_cell
from portal.compliance import dashboard
from portal.compliance.dashboard import (
    ITEM_STATUSES,
    LEVELS,
    PERSON_STATUSES,
    SORTS,
    STATUS_LABELS,
    VIEW_COMPLIANCE,
)
from portal.compliance.dashboard_forms import item_label, load_choices, parse_filters, parse_sort
from portal.compliance.obligations import KIND_LABELS
from portal.core.clock import utcnow
from portal.extensions import db
from portal.reminders.localdays import from_day_number

bp = Blueprint("compliance", __name__, url_prefix="/reports")

CSV_BATCH = 2000
NO_TEAM = "No team"


@bp.context_processor
def _helpers():
    return {
        "day": from_day_number,
        "kind_labels": KIND_LABELS,
        "status_labels": STATUS_LABELS,
        "levels": LEVELS,
    }


def _today():
    return utcnow().date()


def _page_number() -> int:
    return request.args.get("page", type=int) or 1


def _columns(choices, filters):
    """The table's columns: (id, heading) of partners, or of the chosen partner's teams."""
    if not dashboard.by_team(current_user, filters):
        return [(p.id, p.name) for p in choices.partners]
    partner_id = filters.partner_id or current_user.partner_id
    if filters.no_team:
        return [(None, NO_TEAM)]
    teams = [
        (t.id, t.name)
        for t in choices.teams
        if t.partner_id == partner_id and filters.team_id in (None, t.id)
    ]
    return teams if filters.team_id is not None else [*teams, (None, NO_TEAM)]


def _read(statuses):
    choices = load_choices(current_user, utcnow())
    filters, errors = parse_filters(request.args, current_user, choices, statuses)
    return choices, filters, errors


def _csv(lines, name: str) -> Response:
    filename = f"{name}-{_today().isoformat()}.csv"
    return Response(
        stream_with_context(lines),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _csv_text(rows):
    """CSV text of ``rows`` (lists of values), every cell guarded against formulas."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows([safe_cell(value) for value in row] for row in rows)
    return buffer.getvalue()


# --- the dashboard --------------------------------------------------------------------------


@bp.route("/compliance")
@login_required
@requires(VIEW_COMPLIANCE)
def index():
    choices, filters, errors = _read(ITEM_STATUSES)
    table = None
    if not errors:
        table = dashboard.dashboard_table(current_user, _today(), filters, _page_number())
    columns = _columns(choices, filters)
    nobody_without_team = table is None or not any(None in i.cells for i in table.items)
    if nobody_without_team and not filters.no_team:
        columns = [c for c in columns if c[0] is not None]  # "No team" only when needed
    return render_template(
        "compliance/dashboard.html",
        choices=choices,
        filters=filters,
        errors=errors,
        table=table,
        page=dashboard.known_page(table) if table else None,
        columns=columns,
        team_columns=dashboard.by_team(current_user, filters),
        statuses=ITEM_STATUSES,
        cell_url=lambda item, column_id, status=None: _cell_url(filters, item, column_id, status),
        total_url=lambda item, status=None: _cell_url(filters, item, TOTAL, status),
    )


TOTAL = object()  # the total column's "id"


def _cell_url(filters, item, column_id, status=None):
    """The drill-down of one cell: the item's people in that partner or team (or all)."""
    args = filters.args(kind=item.kind, item=item.item_id, status=status)
    if column_id is not TOTAL:
        if dashboard.by_team(current_user, filters):
            args["team"] = "none" if column_id is None else column_id
        else:
            args["partner"] = column_id
    return url_for(".people", **args)


@bp.route("/compliance.csv")
@login_required
@requires(VIEW_COMPLIANCE)
def index_csv():
    choices, filters, errors = _read(ITEM_STATUSES)
    if errors:
        return redirect(url_for(".index", **request.args))
    columns = _columns(choices, filters)
    header = ["Kind", "Item"]
    for _, name in [*columns, (None, "Total")]:
        header += [f"{name}: complete %", f"{name}: overdue", f"{name}: people"]
    rows = dashboard.table_stream(current_user, _today(), filters, CSV_BATCH)

    def lines():
        yield _csv_text([header])
        for item in rows:
            values = [KIND_LABELS[item.kind], item.title]
            for cell in [*(item.cells.get(c) for c, _ in columns), item.total]:
                values += [cell.percent, cell.overdue, cell.people] if cell else ["", "", ""]
            yield _csv_text([values])

    return _csv(lines(), "compliance")


# --- the people behind a cell ---------------------------------------------------------------


@bp.route("/compliance/people")
@login_required
@requires(VIEW_COMPLIANCE)
def people():
    choices, filters, errors = _read(PERSON_STATUSES)
    sort = parse_sort(request.args)
    page = None
    if not errors:
        stmt = dashboard.people_rows(current_user, _today(), filters, sort)
        page = dashboard.people_page(stmt, _page_number())
    return render_template(
        "compliance/drilldown.html",
        choices=choices,
        filters=filters,
        errors=errors,
        page=page,
        sort=sort,
        sorts=SORTS,
        statuses=PERSON_STATUSES,
        item=choices.item(filters.kind, filters.item_id),
        partner=choices.partner(filters.partner_id),
        team=choices.team(filters.team_id),
        item_label=item_label,
        today=_today(),
    )


def _utc(value) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds") if value is not None else ""


PEOPLE_HEADER = (
    "Name",
    "Email",
    "Partner",
    "Team",
    "Kind",
    "Item",
    "Due on",
    "Status",
    "Done at (UTC)",
)


@bp.route("/compliance/people.csv")
@login_required
@requires(VIEW_COMPLIANCE)
def people_csv():
    _choices, filters, errors = _read(PERSON_STATUSES)
    if errors:
        return redirect(url_for(".people", **request.args))
    stmt = dashboard.people_rows(current_user, _today(), filters, parse_sort(request.args))

    def lines():
        yield _csv_text([PEOPLE_HEADER])
        result = db.session.execute(stmt.execution_options(yield_per=CSV_BATCH))
        for rows in result.partitions():
            yield _csv_text(
                [
                    row.name,
                    row.email,
                    row.partner_name,
                    row.team_name or "",
                    KIND_LABELS[row.kind],
                    row.title,
                    from_day_number(row.due_day).isoformat(),
                    STATUS_LABELS[row.status],
                    _utc(row.done_at),
                ]
                for row in rows
            )

    return _csv(lines(), "compliance-people")

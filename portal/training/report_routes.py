"""Training requirements and reports: what is required of whom, and who has done it.

Admins and PRMs see every partner; a trainer sees their own partner's people, and may
require training of them. Agents see none of these pages. A filter naming another partner's
partner, team or course answers 404, like its id would.
"""

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from portal.access.permissions import AUTHOR_DOCUMENTS, Permission, requires
from portal.access.roles import Role
from portal.access.visibility import (
    get_visible_or_404,
    visible_courses,
    visible_partners,
    visible_teams,
)
from portal.acknowledgements.reporting import paginate_rows
from portal.audiences.forms import prepare_audience_fields
from portal.audiences.services import describe
from portal.core.clock import utcnow
from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.partners.models import Partner, Team
from portal.people.models import User
from portal.reminders.localdays import from_day_number
from portal.training import course_report, reporting
from portal.training import requirement_reporting as requirement_report
from portal.training.models import Course, CourseStatus, Requirement, RequirementKind
from portal.training.requirement_forms import RequirementForm
from portal.training.requirements import create_requirement, withdraw_requirement

bp = Blueprint("training_reports", __name__, url_prefix="/training")

# Who sees training reports and requirements (trainers: their own partner's people).
VIEW_TRAINING_REPORTS = Permission("view_training_reports", Role.ADMIN, Role.PRM, Role.TRAINER)
PER_PAGE = 25
STATES = {"active": "Active", "withdrawn": "Withdrawn"}
KINDS = {RequirementKind.COURSE.value: "Courses", RequirementKind.DOCUMENT.value: "Documents"}


@bp.context_processor
def _report_helpers():
    return {"day": from_day_number, "status_labels": reporting.STATUS_LABELS}


def _today():
    return utcnow().date()


def _csv(lines, name: str) -> Response:
    filename = f"{name}-{_today().isoformat()}.csv"
    return Response(
        stream_with_context(lines),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# --- filters --------------------------------------------------------------------------------


def _choices(partner_id: int | None = None):
    """(partners, teams) the filters offer: staff all, a trainer their own partner's teams.

    ``partner_id`` keeps them to one partner (a partner-local course or requirement).
    """
    partners = []
    if current_user.is_staff:
        stmt = visible_partners(current_user).order_by(Partner.name)
        if partner_id is not None:
            stmt = stmt.where(Partner.id == partner_id)
        partners = db.session.scalars(stmt).all()
    teams = visible_teams(current_user).join(Team.partner).options(joinedload(Team.partner))
    if partner_id is not None:
        teams = teams.where(Team.partner_id == partner_id)
    return partners, db.session.scalars(teams.order_by(Partner.name, Team.name)).all()


def _filters(partners, teams, statuses, courses=()) -> reporting.Filters:
    """The filters asked for; 404 for a partner, team or course outside the choices."""
    args = request.args
    partner_id, team_id = args.get("partner", type=int), args.get("team", type=int)
    course_id = args.get("course", type=int)
    own = None if current_user.is_staff else current_user.partner_id
    if partner_id is not None and partner_id != own and partner_id not in {p.id for p in partners}:
        abort(404)
    if team_id is not None and team_id not in {t.id for t in teams}:
        abort(404)
    if course_id is not None and course_id not in {c.id for c in courses}:
        abort(404)
    status = args.get("status")
    return reporting.Filters(partner_id, team_id, status if status in statuses else None, course_id)


def _page_number():
    return request.args.get("page", type=int)


# --- requirements ---------------------------------------------------------------------------


@bp.route("/requirements")
@login_required
@requires(VIEW_TRAINING_REPORTS)
def requirements():
    state = request.args.get("state") if request.args.get("state") in STATES else "active"
    kind = request.args.get("kind") if request.args.get("kind") in KINDS else None
    stmt = requirement_report.visible_requirements(current_user).options(
        joinedload(Requirement.course), joinedload(Requirement.document)
    )
    withdrawn = Requirement.withdrawn_at
    stmt = stmt.where(withdrawn.is_(None) if state == "active" else withdrawn.is_not(None))
    if kind is not None:
        stmt = stmt.where(Requirement.kind == kind)
    stmt = stmt.order_by(Requirement.created_at.desc(), Requirement.id.desc())
    page = db.paginate(stmt, page=_page_number(), per_page=PER_PAGE, error_out=False)
    ids = [r.id for r in page.items] if state == "active" else []
    return render_template(
        "training/requirements/index.html",
        page=page,
        figures=requirement_report.requirement_counts(current_user, ids, _today()),
        state=state,
        kind=kind,
        states=STATES,
        kinds=KINDS,
        describe=describe,
        rule_words=requirement_report.due_rule_words,
        may_withdraw=requirement_report.may_withdraw,
        may_require=AUTHOR_DOCUMENTS(current_user),
    )


@bp.route("/requirements/new", methods=["GET", "POST"])
@login_required
@requires(AUTHOR_DOCUMENTS)
def new_requirement():
    form = RequirementForm()
    prepare_audience_fields(form, current_user)
    form.prepare(current_user)
    if not form.is_submitted():
        form.preselect(
            course_id=request.args.get("course_id", type=int),
            document_id=request.args.get("document_id", type=int),
        )
    elif form.validate():
        try:
            requirement = create_requirement(current_user, form.details())
        except InvalidInput as error:
            db.session.rollback()
            form.show_errors(error)
        else:
            notified = requirement_report.notify_pending(requirement, _today())
            db.session.commit()
            flash(
                f"Required. {notified} {'person has' if notified == 1 else 'people have'} "
                "been told it applies to them.",
                "success",
            )
            return redirect(url_for(".requirement", requirement_id=requirement.id))
    return render_template("training/requirements/new.html", form=form)


def _requirement(requirement_id: int) -> Requirement:
    return get_visible_or_404(
        requirement_report.visible_requirements(current_user).options(
            joinedload(Requirement.course), joinedload(Requirement.document)
        ),
        Requirement,
        requirement_id,
    )


def _requirement_filters(requirement: Requirement):
    partners, teams = _choices(requirement.partner_id)
    filters = _filters(partners, teams, reporting.REQUIREMENT_STATUSES)
    return filters, partners, teams


@bp.route("/requirements/<int:requirement_id>")
@login_required
@requires(VIEW_TRAINING_REPORTS)
def requirement(requirement_id):
    requirement = _requirement(requirement_id)
    filters, partners, teams = _requirement_filters(requirement)
    today = _today()
    totals, by_partner = requirement_report.requirement_figures(
        current_user, requirement, today, filters
    )
    rows = requirement_report.requirement_rows(current_user, requirement, today, filters)
    created_by = (
        db.session.get(User, requirement.created_by_id) if requirement.created_by_id else None
    )
    return render_template(
        "training/requirements/show.html",
        requirement=requirement,
        created_by=created_by,
        audience=describe(requirement.audience),
        rule=requirement_report.due_rule_words(requirement),
        may_withdraw=requirement_report.may_withdraw(current_user, requirement),
        totals=totals,
        by_partner=by_partner if current_user.is_staff else [],
        page=paginate_rows(rows, _page_number()),
        filters=filters,
        partners=partners,
        teams=teams,
        statuses=reporting.REQUIREMENT_STATUSES,
    )


@bp.route("/requirements/<int:requirement_id>.csv")
@login_required
@requires(VIEW_TRAINING_REPORTS)
def requirement_csv(requirement_id):
    requirement = _requirement(requirement_id)
    filters = _requirement_filters(requirement)[0]
    rows = requirement_report.requirement_rows(current_user, requirement, _today(), filters)
    lines = reporting.csv_lines(requirement_report.CSV_HEADER, rows, requirement_report.csv_cells)
    return _csv(lines, f"requirement-{requirement.id}")


@bp.route("/requirements/<int:requirement_id>/withdraw", methods=["POST"])
@login_required
@requires(AUTHOR_DOCUMENTS)
def withdraw(requirement_id):
    requirement = _requirement(requirement_id)
    try:
        withdraw_requirement(current_user, requirement)
    except InvalidInput as error:
        db.session.rollback()
        flash(" ".join(error.errors.values()), "error")
    else:
        db.session.commit()
        flash(
            "Withdrawn: nobody is asked to do it any more. Records already made are kept.",
            "success",
        )
    return redirect(url_for(".requirement", requirement_id=requirement.id))


# --- course reports -------------------------------------------------------------------------


@bp.route("/reports")
@login_required
@requires(VIEW_TRAINING_REPORTS)
def index():
    stmt = (
        visible_courses(current_user)
        .where(Course.status == CourseStatus.PUBLISHED)
        .order_by(Course.title, Course.id)
    )
    page = db.paginate(stmt, page=_page_number(), per_page=PER_PAGE, error_out=False)
    ids = [c.id for c in page.items]
    today = _today()
    return render_template(
        "training/reports/index.html",
        page=page,
        figures=reporting.course_figures(current_user, ids, today),
        scores=reporting.average_scores(current_user, ids),
        totals=reporting.list_totals(current_user, today),
    )


def _course(course_id: int) -> Course:
    return get_visible_or_404(visible_courses(current_user), Course, course_id)


def _course_filters(course: Course):
    partners, teams = _choices(course.partner_id)
    filters = _filters(partners, teams, reporting.STATUS_FILTERS)
    return filters, partners, teams


@bp.route("/reports/courses/<int:course_id>")
@login_required
@requires(VIEW_TRAINING_REPORTS)
def course(course_id):
    course = _course(course_id)
    filters, partners, teams = _course_filters(course)
    today = _today()
    totals, by_partner = course_report.course_report_figures(current_user, course, today, filters)
    rows = course_report.course_rows(current_user, course, today, filters)
    return render_template(
        "training/reports/course.html",
        course=course,
        lesson_count=course_report.lesson_count(course),
        average_score=reporting.average_scores(current_user, [course.id]).get(course.id),
        totals=totals,
        by_partner=by_partner,
        page=paginate_rows(rows, _page_number()),
        filters=filters,
        partners=partners,
        teams=teams,
        status_filters=reporting.STATUS_FILTERS,
        now=utcnow(),
    )


@bp.route("/reports/courses/<int:course_id>.csv")
@login_required
@requires(VIEW_TRAINING_REPORTS)
def course_csv(course_id):
    course = _course(course_id)
    filters = _course_filters(course)[0]
    rows = course_report.course_rows(current_user, course, _today(), filters)
    lines = reporting.csv_lines(
        course_report.CSV_HEADER, rows, course_report.csv_cells(course_report.lesson_count(course))
    )
    return _csv(lines, f"training-{course.slug}")


# --- overdue and expiring across courses ----------------------------------------------------


def _list():
    """(filters, partners, teams, courses) of the overdue or expiring list."""
    partners, teams = _choices()
    courses = db.session.execute(
        visible_courses(current_user)
        .where(Course.status == CourseStatus.PUBLISHED)
        .with_only_columns(Course.id, Course.title)
        .order_by(Course.title, Course.id)
    ).all()
    return _filters(partners, teams, (), courses), partners, teams, courses


def _list_page(status: str):
    filters, partners, teams, courses = _list()
    rows = reporting.status_list_rows(current_user, status, _today(), filters)
    return render_template(
        "training/reports/list.html",
        status=status,
        title=reporting.LISTS[status],
        page=paginate_rows(rows, _page_number()),
        filters=filters,
        partners=partners,
        teams=teams,
        courses=courses,
        today=_today(),
    )


def _list_csv(status: str):
    filters = _list()[0]
    rows = reporting.status_list_rows(current_user, status, _today(), filters)
    return _csv(reporting.csv_lines(reporting.LIST_CSV_HEADER, rows, reporting.list_cells), status)


@bp.route("/reports/overdue")
@login_required
@requires(VIEW_TRAINING_REPORTS)
def overdue():
    return _list_page("overdue")


@bp.route("/reports/overdue.csv")
@login_required
@requires(VIEW_TRAINING_REPORTS)
def overdue_csv():
    return _list_csv("overdue")


@bp.route("/reports/expiring")
@login_required
@requires(VIEW_TRAINING_REPORTS)
def expiring():
    return _list_page("expiring")


@bp.route("/reports/expiring.csv")
@login_required
@requires(VIEW_TRAINING_REPORTS)
def expiring_csv():
    return _list_csv("expiring")

"""Partners (admins manage, PRMs view) and teams (admins, PRMs and a partner's trainers)."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import or_
from sqlalchemy.orm import joinedload

from portal.access.permissions import MANAGE_PARTNERS, MANAGE_TEAMS, VIEW_PARTNERS, requires
from portal.access.visibility import get_visible_or_404, visible_partners, visible_teams
from portal.core.errors import InvalidInput
from portal.core.forms import apply_errors
from portal.extensions import db
from portal.partners import services
from portal.partners.forms import ConfirmForm, PartnerForm, TeamForm
from portal.partners.models import Partner, Team
from portal.people.services import people_counts_by_partner

bp = Blueprint("partners", __name__)


@bp.route("/partners/")
@login_required
@requires(VIEW_PARTNERS)
def index():
    q = request.args.get("q", "").strip()
    status = request.args.get("status", "active")
    stmt = visible_partners(current_user).order_by(Partner.name)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(or_(Partner.name.ilike(like), Partner.slug.ilike(like)))
    if status in ("active", "deactivated"):
        stmt = stmt.where(Partner.active.is_(status == "active"))
    page = db.paginate(stmt, per_page=25, error_out=False)
    return render_template(
        "partners/index.html",
        page=page,
        counts=people_counts_by_partner(current_user),
        q=q,
        status=status,
    )


@bp.route("/partners/new", methods=["GET", "POST"])
@login_required
@requires(MANAGE_PARTNERS)
def create():
    form = PartnerForm()
    if form.validate_on_submit():
        details = services.PartnerDetails(
            slug=form.slug.data,
            name=form.name.data,
            country=form.country.data,
            timezone=form.timezone.data,
        )
        try:
            partner = services.create_partner(current_user, details)
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            db.session.commit()
            flash(f"{partner.name} is created. Add its teams next.", "success")
            return redirect(url_for("partners.show", partner_id=partner.id))
    return render_template("partners/form.html", form=form, partner=None)


@bp.route("/partners/<int:partner_id>")
@login_required
def show(partner_id):
    partner = get_visible_or_404(visible_partners(current_user), Partner, partner_id)
    teams = db.session.scalars(
        visible_teams(current_user).where(Team.partner_id == partner.id).order_by(Team.name)
    ).all()
    return render_template(
        "partners/show.html",
        partner=partner,
        teams=teams,
        member_counts=services.team_member_counts([t.id for t in teams]),
        counts=people_counts_by_partner(current_user).get(partner.id, {}),
        confirm=ConfirmForm(),
    )


@bp.route("/partners/<int:partner_id>/edit", methods=["GET", "POST"])
@login_required
def edit(partner_id):
    partner = get_visible_or_404(visible_partners(current_user), Partner, partner_id)
    if not MANAGE_PARTNERS(current_user):
        abort(403, "Only an administrator can edit partners.")
    form = PartnerForm(obj=partner)
    if form.validate_on_submit():
        details = services.PartnerDetails(
            slug=form.slug.data,
            name=form.name.data,
            country=form.country.data,
            timezone=form.timezone.data,
        )
        try:
            services.update_partner(current_user, partner, details)
        except InvalidInput as error:
            db.session.rollback()
            apply_errors(form, error)
        else:
            db.session.commit()
            flash("Partner saved.", "success")
            return redirect(url_for("partners.show", partner_id=partner.id))
    return render_template("partners/form.html", form=form, partner=partner)


@bp.route("/partners/<int:partner_id>/active", methods=["POST"])
@login_required
def set_active(partner_id):
    partner = get_visible_or_404(visible_partners(current_user), Partner, partner_id)
    if not MANAGE_PARTNERS(current_user):
        abort(403, "Only an administrator can deactivate partners.")
    form = ConfirmForm()
    if form.validate_on_submit():
        active = request.form.get("active") == "1"
        try:
            services.set_partner_active(current_user, partner, active)
        except InvalidInput as error:
            flash(str(error), "danger")
        else:
            db.session.commit()
            if active:
                flash(f"{partner.name} is active again.", "success")
            else:
                flash(f"{partner.name} is deactivated: its people cannot sign in.", "warning")
    return redirect(url_for("partners.show", partner_id=partner.id))


@bp.route("/teams/")
@login_required
@requires(MANAGE_TEAMS)
def teams():
    partner_id = request.args.get("partner", type=int)
    stmt = (
        visible_teams(current_user)
        .join(Team.partner)
        .options(joinedload(Team.partner))
        .order_by(Partner.name, Team.name)
    )
    if partner_id:
        stmt = stmt.where(Team.partner_id == partner_id)
    page = db.paginate(stmt, per_page=50, error_out=False)
    partners = db.session.scalars(visible_partners(current_user).order_by(Partner.name)).all()
    return render_template(
        "partners/teams.html",
        page=page,
        partners=partners,
        partner_id=partner_id,
        member_counts=services.team_member_counts([t.id for t in page.items]),
    )


def _team_details(form) -> services.TeamDetails:
    return services.TeamDetails(
        partner_id=form.partner_id.data,
        name=form.name.data,
        timezone=form.timezone.data or None,
        language=form.language.data,
    )


@bp.route("/teams/new", methods=["GET", "POST"])
@login_required
@requires(MANAGE_TEAMS)
def create_team():
    partners = db.session.scalars(
        visible_partners(current_user).where(Partner.active).order_by(Partner.name)
    ).all()
    form = TeamForm(partners=partners, partner_id=request.args.get("partner", type=int))
    if form.validate_on_submit():
        try:
            team = services.create_team(current_user, _team_details(form))
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            db.session.commit()
            flash(f"Team {team.name} is created.", "success")
            return redirect(url_for("partners.show", partner_id=team.partner_id))
    return render_template("partners/team_form.html", form=form, team=None)


@bp.route("/teams/<int:team_id>/edit", methods=["GET", "POST"])
@login_required
@requires(MANAGE_TEAMS)
def edit_team(team_id):
    team = get_visible_or_404(visible_teams(current_user), Team, team_id)
    form = TeamForm(obj=team, partners=[team.partner])
    form.partner_id.render_kw = {"disabled": True}
    if request.method == "POST":
        form.partner_id.data = team.partner_id
    if form.validate_on_submit():
        try:
            services.update_team(current_user, team, _team_details(form))
        except InvalidInput as error:
            db.session.rollback()
            apply_errors(form, error)
        else:
            db.session.commit()
            flash("Team saved.", "success")
            return redirect(url_for("partners.show", partner_id=team.partner_id))
    return render_template("partners/team_form.html", form=form, team=team, confirm=ConfirmForm())


@bp.route("/teams/<int:team_id>/delete", methods=["POST"])
@login_required
@requires(MANAGE_TEAMS)
def delete_team(team_id):
    team = get_visible_or_404(visible_teams(current_user), Team, team_id)
    partner_id = team.partner_id
    if ConfirmForm().validate_on_submit():
        try:
            services.delete_team(current_user, team)
        except InvalidInput as error:
            flash(str(error), "danger")
            return redirect(url_for("partners.edit_team", team_id=team.id))
        db.session.commit()
        flash("Team deleted.", "success")
    return redirect(url_for("partners.show", partner_id=partner_id))

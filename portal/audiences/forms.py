"""Audience fields any form can reuse (documents now; announcements and training later).

Mix :class:`AudienceFields` into a FlaskForm, call :func:`prepare_audience_fields` with the
signed-in person before validating, read the choice with :func:`audience_spec` and fill the
form from a stored audience with :func:`fill_audience`. The field names match the keys of the
service's ``InvalidInput`` errors (``audience_partners`` ...), so ``apply_errors`` puts each
message under its field.
"""

from sqlalchemy.orm import joinedload
from wtforms import SelectChoice, SelectMultipleField, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portal.access.roles import Role
from portal.access.visibility import visible_partners, visible_teams
from portal.audiences.models import Audience
from portal.audiences.services import AUDIENCE_ROLES, AudienceSpec
from portal.core.locale import language_choices
from portal.extensions import db
from portal.partners.models import Partner, Team

AUDIENCE_HELP = (
    "Leave every part empty to address everyone. Someone is in the audience when they match "
    "each part you fill in: one of the chosen partners or teams, one of the chosen roles and "
    "one of the chosen languages."
)


def _ids(values):
    """Posted ids as ints; anything else stays as typed so the service can name it."""
    out = []
    for value in values or []:
        try:
            out.append(int(value))
        except (TypeError, ValueError):
            out.append(value)
    return out


class _IdsField(SelectMultipleField):
    """A multi-select of ids that never fails on coercion: the service explains bad ids."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, coerce=int, **kwargs)

    def process_formdata(self, valuelist):
        self.data = _ids(valuelist)

    def pre_validate(self, form):
        bad = [v for v in self.data or [] if not isinstance(v, int)]
        if bad:
            raise ValidationError(f"“{bad[0]}” is not one of the choices.")


class AudienceFields:
    """The four audience fields; mix into a FlaskForm."""

    audience_partners = _IdsField(
        "Partners",
        validate_choice=False,
        description="Hold Ctrl (Cmd on a Mac) to choose several. None chosen: every partner.",
    )
    audience_teams = _IdsField(
        "Teams",
        validate_choice=False,
        description="Teams count as places too: someone in a chosen team is included.",
    )
    audience_roles = SelectMultipleField(
        "Roles",
        choices=[
            SelectChoice(Role.AGENT.value, "Agents"),
            SelectChoice(Role.TRAINER.value, "Trainers"),
        ],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=False,
        description="None ticked: both agents and trainers.",
    )
    audience_languages = SelectMultipleField(
        "Languages",
        validate_choice=False,
        description="None chosen: every language.",
    )


def prepare_audience_fields(form, viewer) -> None:
    """Fill the choices ``viewer`` may use; trainers address only their own partner.

    A trainer's content is local to their partner, so the partner field goes away and the
    team choices are their partner's teams.
    """
    partners = db.session.scalars(visible_partners(viewer).order_by(Partner.name)).all()
    teams = db.session.scalars(
        visible_teams(viewer)
        .join(Team.partner)
        .options(joinedload(Team.partner))
        .order_by(Partner.name, Team.name)
    ).all()
    if viewer.is_staff:
        form.audience_partners.choices = [
            (p.id, p.name if p.active else f"{p.name} (deactivated)") for p in partners
        ]
        form.audience_teams.choices = [(t.id, f"{t.partner.name} — {t.name}") for t in teams]
    else:
        del form.audience_partners
        form.audience_teams.choices = [(t.id, t.name) for t in teams]
        form.audience_teams.description = (
            "Only your own partner's people see your documents. None chosen: all of them."
        )
    form.audience_languages.choices = language_choices()
    form.audience_help = AUDIENCE_HELP


def audience_spec(form) -> AudienceSpec:
    """The audience chosen in ``form``."""
    partners = form._fields.get("audience_partners")
    return AudienceSpec(
        partner_ids=list(partners.data or []) if partners is not None else [],
        team_ids=list(form.audience_teams.data or []),
        roles=[r for r in form.audience_roles.data or [] if r],
        languages=[lang for lang in form.audience_languages.data or [] if lang],
    )


def fill_audience(form, audience: Audience | None) -> None:
    """Show a stored audience in ``form`` (for a GET of an edit page)."""
    spec = AudienceSpec.of(audience)
    if "audience_partners" in form._fields:
        form.audience_partners.data = spec.partner_ids
    form.audience_teams.data = spec.team_ids
    form.audience_roles.data = [r for r in spec.roles if r in AUDIENCE_ROLES]
    form.audience_languages.data = spec.languages

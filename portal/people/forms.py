"""Forms for inviting and editing people, and for one's own profile."""

from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from portal.core.locale import language_choices, timezone_choices


def _optional_int(value):
    return int(value) if value not in (None, "", "None") else None


class PersonForm(FlaskForm):
    email = EmailField(
        "Email", validators=[DataRequired("Enter an email address."), Length(max=254)]
    )
    name = StringField(
        "Full name", validators=[DataRequired("Enter the person's name."), Length(max=120)]
    )
    role = SelectField("Role", validate_choice=False)  # the service explains a refused role
    partner_id = SelectField("Partner", coerce=_optional_int, validate_choice=False)
    team_id = SelectField("Team", coerce=_optional_int, validate_choice=False)
    hire_date = DateField(
        "Hire date", validators=[Optional()], description="Starts the 90-day onboarding path."
    )
    language = SelectField("Language", validators=[Optional()])
    timezone = SelectField("Time zone", validators=[Optional()])
    submit = SubmitField("Save")

    def __init__(self, *args, roles=(), partners=(), teams=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = [(r.value, r.label) for r in roles]
        self.partner_id.choices = (
            [("", "— Company staff (no partner) —")] if any(r.is_staff for r in roles) else []
        )
        self.partner_id.choices += [(p.id, p.name) for p in partners]
        self.team_id.choices = [("", "— No team —")] + [
            (t.id, f"{t.partner.name} — {t.name}") for t in teams
        ]
        self.language.choices = [("", "Same as the team")] + language_choices()
        self.timezone.choices = [("", "Same as the team")] + timezone_choices()


class ProfileForm(FlaskForm):
    name = StringField("Full name", validators=[DataRequired("Enter your name."), Length(max=120)])
    language = SelectField("Language")
    timezone = SelectField("Time zone", validate_choice=False)  # the service names the problem
    submit = SubmitField("Save profile")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = language_choices()
        self.timezone.choices = timezone_choices()

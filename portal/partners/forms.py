"""Forms for partners and teams."""

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from portal.core.locale import language_choices, timezone_choices


class PartnerForm(FlaskForm):
    name = StringField(
        "Name", validators=[DataRequired("Enter the partner's name."), Length(max=120)]
    )
    slug = StringField(
        "Short name (slug)",
        description="Lower-case letters, digits and hyphens; used in commands and exports.",
        validators=[DataRequired("Enter a slug."), Length(max=60)],
    )
    country = StringField(
        "Country code", description="Two letters, e.g. PH", validators=[Optional(), Length(max=2)]
    )
    timezone = SelectField("Default time zone", default="UTC")
    submit = SubmitField("Save")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = timezone_choices()


class TeamForm(FlaskForm):
    partner_id = SelectField("Partner", coerce=int)
    name = StringField("Name", validators=[DataRequired("Enter the team's name."), Length(max=120)])
    timezone = SelectField("Time zone")
    language = SelectField("Language", default="en")
    submit = SubmitField("Save")

    def __init__(self, *args, partners=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.partner_id.choices = [(p.id, p.name) for p in partners]
        self.timezone.choices = [("", "Same as the partner")] + timezone_choices()
        self.language.choices = language_choices()


class ConfirmForm(FlaskForm):
    """A button that changes something: only its CSRF token matters."""

    submit = SubmitField("Confirm")

"""Forms for uploading a roster file and applying its preview."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, FileSize
from wtforms import BooleanField, SelectField, SubmitField

from portal.roster.reading import MAX_FILE_BYTES


def _optional_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class UploadForm(FlaskForm):
    partner_id = SelectField("Partner", coerce=_optional_int, validate_choice=False)
    file = FileField(
        "Roster file (CSV)",
        description=(
            "One row per person, with the columns email, name, team, role, hire_date, language "
            "and timezone (dates as YYYY-MM-DD). Saved from Excel or Google Sheets as CSV or "
            f"Unicode text; at most {MAX_FILE_BYTES // (1024 * 1024)} MB."
        ),
        validators=[
            FileRequired("Choose a CSV file to upload."),
            FileSize(
                MAX_FILE_BYTES,
                message=f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB. "
                "Split it up.",
            ),
        ],
        render_kw={"accept": ".csv,.txt,text/csv"},
    )
    submit = SubmitField("Upload and preview")

    def __init__(self, *args, partners=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.partner_id.choices = [(p.id, p.name) for p in partners]


class ApplyForm(FlaskForm):
    send_invitations = BooleanField("Send invitation emails to new people", default=True)
    submit = SubmitField("Apply")

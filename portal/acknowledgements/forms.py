"""The acknowledgement form under a document."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import Length


def _version_id(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class AcknowledgeForm(FlaskForm):
    # The version the reader had on screen: the service refuses it if a newer one came since.
    version_id = HiddenField(filters=[_version_id])
    typed_name = StringField(
        "Type your full name",
        validators=[Length(max=120, message="Names are at most 120 characters.")],
        description="As it appears on your profile.",
    )

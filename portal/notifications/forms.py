"""The email preferences form: one switch per optional category."""

from flask_wtf import FlaskForm
from wtforms import BooleanField

from portal.notifications.models import Category


class PreferencesForm(FlaskForm):
    announcement = BooleanField(Category.ANNOUNCEMENT.label)
    document_version = BooleanField(Category.DOCUMENT_VERSION.label)

    def choices(self) -> dict[str, bool]:
        return {
            Category.ANNOUNCEMENT.value: self.announcement.data,
            Category.DOCUMENT_VERSION.value: self.document_version.data,
        }

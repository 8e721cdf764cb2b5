"""The upload form on a document page (removing a file needs only the CSRF token)."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired


class UploadForm(FlaskForm):
    """One file for a document; its size, type and content are checked by the service."""

    file = FileField("Add a file", validators=[FileRequired("Choose a file to upload.")])


class RemoveForm(FlaskForm):
    """Only the CSRF token: removing a file asks nothing else."""

"""Forms for writing documents: details, text, publishing, reviews, comparing versions."""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal.audiences.forms import AudienceFields, audience_spec, fill_audience
from portal.library.models import KIND_LABELS, ChangeLevel, DocumentKind
from portal.library.services import MAX_BODY, DocumentDetails

DATE_HELP = "Enter a date such as 2027-06-30."


KIND_CHOICES = [SelectChoice(kind.value, KIND_LABELS[kind]) for kind in DocumentKind]
CHANGE_LEVEL_CHOICES = [
    SelectChoice(
        ChangeLevel.MATERIAL.value,
        "Material: the meaning changed, so everyone who must acknowledge it does so again",
    ),
    SelectChoice(
        ChangeLevel.MINOR.value,
        "Minor: wording, typos or layout; acknowledgements already given stay valid",
    ),
]
MARKDOWN_HELP = (
    "Markdown: ## headings, - lists, | tables |, ``` code blocks ```, [links](https://…) and "
    "images of this document's attachments as ![caption](attachment:file-name.png)."
)


class DetailsFields(AudienceFields):
    """Everything about a document except its text (mixed into the forms below)."""

    kind = SelectField("Kind", choices=KIND_CHOICES, validate_choice=False)
    slug = StringField(
        "Short name (slug)",
        validators=[Optional(), Length(max=80, message="Slugs are at most 80 characters.")],
        description="Used in links and in content files. Leave empty to make one from the title.",
    )
    tags = StringField(
        "Tags",
        validators=[Optional(), Length(max=500, message="Keep the tags under 500 characters.")],
        description="Separate tags with commas, e.g. billing, refunds.",
    )
    requires_ack = BooleanField("Readers must acknowledge that they have read and understood it")
    attestation = BooleanField(
        "…by typing their full name",
        description="Only applies when readers must acknowledge the document.",
    )
    review_by = DateField(
        "Review by",
        invalid_value_message=DATE_HELP,
        validators=[Optional()],
        description="After this date the document appears on the Reviews list of its authors.",
    )

    def details(self, *, title: str = "") -> DocumentDetails:
        """The typed details as the service takes them."""
        return DocumentDetails(
            title=title,
            kind=self.kind.data or "",
            slug=self.slug.data or "",
            tags=[t.strip() for t in (self.tags.data or "").split(",") if t.strip()],
            audience=audience_spec(self),
            requires_ack=bool(self.requires_ack.data),
            attestation=bool(self.attestation.data),
            review_by=self.review_by.data,
        )

    def fill_details(self, document) -> None:
        """Show a stored document's details (for a GET of the settings page)."""
        self.kind.data = document.kind
        self.slug.data = document.slug
        self.tags.data = ", ".join(document.tags)
        self.requires_ack.data = document.requires_ack
        self.attestation.data = document.attestation
        self.review_by.data = document.review_by
        fill_audience(self, document.audience)


def _title_field():
    return StringField(
        "Title",
        validators=[
            DataRequired("Give the document a title."),
            Length(max=200, message="Titles are at most 200 characters."),
        ],
    )


def _body_field():
    return TextAreaField(
        "Text",
        validators=[
            Length(max=MAX_BODY, message=f"The text is longer than {MAX_BODY:,} characters.")
        ],
        description=MARKDOWN_HELP,
    )


class NewDocumentForm(DetailsFields, FlaskForm):
    title = _title_field()
    body = _body_field()
    save = SubmitField("Save draft")
    preview = SubmitField("Preview")


class SettingsForm(DetailsFields, FlaskForm):
    save = SubmitField("Save settings")


class DraftForm(FlaskForm):
    """The text of the next version."""

    title = _title_field()
    body = _body_field()
    summary = StringField(
        "What changed",
        validators=[Length(max=300, message="Keep the change summary under 300 characters.")],
        description="One sentence readers see in the history, e.g. “Refund limit raised to $150”.",
    )
    change_level = RadioField(
        "Change level",
        choices=CHANGE_LEVEL_CHOICES,
        default=ChangeLevel.MATERIAL.value,
        validate_choice=False,
    )
    save = SubmitField("Save draft")
    preview = SubmitField("Preview")


class ReviewForm(FlaskForm):
    next_review_by = DateField(
        "Next review by",
        invalid_value_message=DATE_HELP,
        validators=[InputRequired("Choose the date of the next review.")],
    )
    note = TextAreaField(
        "Note",
        validators=[Optional(), Length(max=500, message="Keep the note under 500 characters.")],
        description="Optional: what you checked.",
    )
    save = SubmitField("Confirm it is still accurate")


class ConfirmForm(FlaskForm):
    """A button that changes something (publish, archive, restore): only CSRF matters."""

    submit = SubmitField("Confirm")

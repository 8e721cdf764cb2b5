"""Forms for writing, publishing and acknowledging announcements.

Times are typed in the author's own time zone and converted to UTC here; the services only
see aware datetimes.
"""

from datetime import datetime

from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import Optional

from portal.access.visibility import visible_documents
from portal.announcements.models import Priority
from portal.announcements.services import AnnouncementDetails
from portal.audiences.forms import AudienceFields, audience_spec, fill_audience
from portal.core.clock import local, zone
from portal.extensions import db
from portal.library.models import Document, DocumentStatus, DocumentVersion

TIME_HELP = "Your time zone ({tz})."
PRIORITY_CHOICES = [
    SelectChoice(Priority.INFO.value, "Info: in the feed"),
    SelectChoice(Priority.IMPORTANT.value, "Important: highlighted in the feed"),
    SelectChoice(Priority.URGENT.value, "Urgent: a banner on every page until read"),
]


def _optional_int(value):
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def to_utc(value: datetime | None, tz_name: str) -> datetime | None:
    """A naive local time typed by ``tz_name``'s person, as an aware UTC datetime."""
    return value.replace(tzinfo=zone(tz_name)) if value is not None else None


def to_local(value: datetime | None, tz_name: str) -> datetime | None:
    """An aware UTC time as the naive local time a datetime-local input shows."""
    return local(value, tz_name).replace(tzinfo=None) if value is not None else None


class AnnouncementForm(AudienceFields, FlaskForm):
    title = StringField("Title")
    body = TextAreaField(
        "Text",
        description="Markdown: ## headings, - lists, **bold**, [links](https://…).",
        render_kw={"rows": 10},
    )
    priority = SelectField("Priority", choices=PRIORITY_CHOICES, validate_choice=False)
    expires_at = DateTimeLocalField(
        "Expires", validators=[Optional()], invalid_value_message="Enter a date and time."
    )
    pinned = BooleanField("Pin it to the top of the feed")
    requires_ack = BooleanField("Readers must acknowledge it")
    document_version_id = SelectField(
        "Process change: the document version it announces",
        coerce=_optional_int,
        validate_choice=False,
        description="Leave empty for a plain announcement. Readers see what changed and, when "
        "they acknowledge the announcement, acknowledge that version too.",
    )
    effective_on = DateField(
        "Takes effect on",
        validators=[Optional()],
        invalid_value_message="Enter a date such as 2027-06-30.",
    )
    save = SubmitField("Save draft")

    def prepare(self, viewer) -> None:
        """Choices for ``viewer``: published versions of the documents they can edit."""
        tz = viewer.timezone
        self.expires_at.description = "Optional. " + TIME_HELP.format(tz=tz)
        documents = visible_documents(viewer).where(Document.status == DocumentStatus.PUBLISHED)
        if not viewer.is_staff:
            documents = documents.where(Document.partner_id == viewer.partner_id)
        rows = db.session.execute(
            select(DocumentVersion.id, DocumentVersion.number, Document.title)
            .join(Document, Document.id == DocumentVersion.document_id)
            .where(
                Document.id.in_(documents.with_only_columns(Document.id)),
                DocumentVersion.published_at.is_not(None),
            )
            .order_by(Document.title, DocumentVersion.number.desc())
        ).all()
        self.document_version_id.choices = [SelectChoice("", "Not a process change")] + [
            SelectChoice(row.id, f"{row.title} — version {row.number}") for row in rows
        ]

    def details(self, tz_name: str) -> AnnouncementDetails:
        return AnnouncementDetails(
            title=self.title.data or "",
            body=self.body.data or "",
            priority=self.priority.data or "",
            audience=audience_spec(self),
            expires_at=to_utc(self.expires_at.data, tz_name),
            pinned=bool(self.pinned.data),
            requires_ack=bool(self.requires_ack.data),
            document_version_id=self.document_version_id.data,
            effective_on=self.effective_on.data,
        )

    def fill(self, announcement, tz_name: str) -> None:
        self.title.data = announcement.title
        self.body.data = announcement.body
        self.priority.data = announcement.priority
        fill_audience(self, announcement.audience)
        self.expires_at.data = to_local(announcement.expires_at, tz_name)
        self.pinned.data = announcement.pinned
        self.requires_ack.data = announcement.requires_ack
        self.document_version_id.data = announcement.document_version_id
        self.effective_on.data = announcement.effective_on


class PublishForm(FlaskForm):
    when = RadioField(
        "When",
        choices=[SelectChoice("now", "Publish now"), SelectChoice("later", "Schedule for")],
        default="now",
        validate_choice=False,
    )
    publish_at = DateTimeLocalField(
        "Publish at", validators=[Optional()], invalid_value_message="Enter a date and time."
    )
    submit = SubmitField("Publish")

    def publish_time(self, tz_name: str) -> datetime | None:
        return to_utc(self.publish_at.data, tz_name) if self.when.data == "later" else None


class AcknowledgeForm(FlaskForm):
    typed_name = StringField("Type your full name")

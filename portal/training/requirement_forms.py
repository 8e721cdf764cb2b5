"""The form for requiring a course, or the acknowledgement of a document, of an audience.

The form only reads what was typed; every rule (a due rule chosen and complete, days not
negative, a published target the author can see, an audience within a trainer's partner) is
``create_requirement``'s and comes back as its ``InvalidInput`` messages on the field they name.
"""

from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectChoice, SelectField
from wtforms.validators import Optional

from portal.access.visibility import visible_courses, visible_documents
from portal.audiences.forms import AudienceFields, audience_spec
from portal.core.errors import InvalidInput
from portal.core.forms import apply_errors
from portal.extensions import db
from portal.library.models import Document, DocumentStatus
from portal.training.forms import WholeNumberField
from portal.training.models import Course, CourseStatus, DueRule, RequirementKind
from portal.training.requirements import RequirementDetails

DUE_RULE_CHOICES = [
    SelectChoice(DueRule.FIXED_DATE.value, "On a fixed date"),
    SelectChoice(DueRule.AFTER_HIRE.value, "A number of days after each person's hire date"),
    SelectChoice(DueRule.AFTER_REQUIRED.value, "A number of days from today"),
]
TARGET_GROUPS = {
    RequirementKind.COURSE.value: "Complete a course",
    RequirementKind.DOCUMENT.value: "Acknowledge a document",
}


def target_value(kind: str, target_id: int) -> str:
    """The option value of a course or document in the target list, e.g. ``course:7``."""
    return f"{kind}:{target_id}"


class RequirementForm(AudienceFields, FlaskForm):
    target = SelectField(
        "What they must do",
        validate_choice=False,
        description="Published courses, and published documents that ask for acknowledgement.",
    )
    due_rule = RadioField("When it is due", choices=DUE_RULE_CHOICES, validate_choice=False)
    due_on = DateField(
        "Due date",
        validators=[Optional()],
        invalid_value_message="Enter a date such as 2027-01-31.",
        description="For “on a fixed date”.",
    )
    due_days = WholeNumberField(
        "Days",
        what="number of days",
        example=14,
        description="For the rules counted in days, e.g. 14: due two weeks after hire, or two "
        "weeks from today. Someone who joins later always gets time to do it.",
    )
    warning_days = WholeNumberField(
        "Warning before a certificate expires (days)",
        what="number of warning days",
        example=30,
        default=30,
        description="For courses that must be redone: people are asked to renew this many "
        "days before their completion expires.",
    )

    def prepare(self, viewer) -> None:
        """Targets ``viewer`` may require: the courses and documents they see, published."""
        if not viewer.is_staff:
            self.audience_teams.description = (
                "Your requirements apply to your own partner's people only. None chosen: all "
                "of them."
            )
        courses = db.session.execute(
            visible_courses(viewer)
            .where(Course.status == CourseStatus.PUBLISHED)
            .with_only_columns(Course.id, Course.title)
            .order_by(Course.title, Course.id)
        ).all()
        documents = db.session.execute(
            visible_documents(viewer)
            .where(Document.status == DocumentStatus.PUBLISHED, Document.requires_ack)
            .with_only_columns(Document.id, Document.title)
            .order_by(Document.title, Document.id)
        ).all()
        self.target.choices = {
            None: [SelectChoice("", "Choose a course or a document…")],
            TARGET_GROUPS[RequirementKind.COURSE]: [
                SelectChoice(target_value(RequirementKind.COURSE, c.id), c.title) for c in courses
            ],
            TARGET_GROUPS[RequirementKind.DOCUMENT]: [
                SelectChoice(target_value(RequirementKind.DOCUMENT, d.id), d.title)
                for d in documents
            ],
        }

    def preselect(self, *, course_id: int | None, document_id: int | None) -> None:
        """Choose the target a link named (``?course_id=`` or ``?document_id=``)."""
        if course_id is not None:
            self.target.data = target_value(RequirementKind.COURSE, course_id)
        elif document_id is not None:
            self.target.data = target_value(RequirementKind.DOCUMENT, document_id)

    def _target(self) -> tuple[str | None, int | None]:
        kind, _, number = (self.target.data or "").partition(":")
        try:
            return kind, int(number)
        except ValueError:
            return (kind or None), None

    def details(self) -> RequirementDetails:
        kind, target_id = self._target()
        return RequirementDetails(
            kind=kind,
            target_id=target_id,
            due_rule=self.due_rule.data or None,
            due_on=self.due_on.data,
            due_days=self.due_days.data,
            warning_days=self.warning_days.data,
            audience=audience_spec(self),
        )

    def show_errors(self, error: InvalidInput) -> None:
        """The service's messages on their fields; the kind and the target are one field here."""
        errors = dict(error.errors)
        target = [errors.pop(key) for key in ("kind", "target_id") if key in errors]
        if target:
            self.target.errors = [*self.target.errors, *target]
        apply_errors(self, InvalidInput(errors))

"""Forms for the path builder: a path's details, its phase names, a step, the publish note.

The forms only read what was typed; every rule (a due day from 1 to 90, a document that is
published and asks for acknowledgement ...) is the path services' and comes back as their
``InvalidInput`` messages, shown on the field they name.
"""

from flask_wtf import FlaskForm
from sqlalchemy import or_
from wtforms import (
    BooleanField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    ValidationError,
)

from portal.access.visibility import visible_courses, visible_documents
from portal.audiences.forms import AudienceFields, audience_spec, fill_audience
from portal.extensions import db
from portal.library.models import Document, DocumentStatus
from portal.onboarding.models import PATH_DAYS, StepKind
from portal.onboarding.paths import PathDetails, StepDetails, phase_label
from portal.training.models import Course, CourseStatus


def _target_id(value):
    """A posted id as an int; anything else stays as typed so the service can name it."""
    text = str(value if value is not None else "").strip()
    if not text:
        return None
    return int(text) if text.isdigit() else text


class DueDayField(StringField):
    """The day a step is due: empty is None; text that is not a number is refused here."""

    raw, invalid = "", False

    def __init__(self, label, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "numeric"})
        super().__init__(label, **kwargs)

    def process_formdata(self, valuelist):
        self.raw = (valuelist[0] if valuelist else "").strip()
        try:
            self.data = int(self.raw) if self.raw else None
        except ValueError:
            self.data, self.invalid = None, True
        else:
            self.invalid = False

    def pre_validate(self, form):
        if self.invalid:
            raise ValidationError(
                f"The due day is a whole number from 1 to {PATH_DAYS}, such as 5, not “{self.raw}”."
            )

    def _value(self):
        if self.invalid:
            return self.raw
        return "" if self.data is None else str(self.data)


class PathForm(AudienceFields, FlaskForm):
    title = StringField("Title", description="E.g. “Agent 90-day path”.")
    description = TextAreaField(
        "Description",
        description="What the path is for; new hires see it above their steps.",
        render_kw={"rows": 3},
    )
    save = SubmitField("Save details")

    def details(self) -> PathDetails:
        return PathDetails(
            title=self.title.data or "",
            description=self.description.data or "",
            audience=audience_spec(self),
        )

    def fill(self, path) -> None:
        self.title.data = path.title
        self.description.data = path.description
        fill_audience(self, path.audience)


class PhaseNamesForm(FlaskForm):
    phase_1 = StringField("Phase 1", description=f"Steps due on {phase_label(1)}.")
    phase_2 = StringField("Phase 2", description=f"Steps due on {phase_label(2)}.")
    phase_3 = StringField("Phase 3", description=f"Steps due on {phase_label(3)}.")
    save_phases = SubmitField("Save phase names")

    def names(self) -> list[str]:
        return [self.phase_1.data or "", self.phase_2.data or "", self.phase_3.data or ""]

    def fill(self, version) -> None:
        self.phase_1.data, self.phase_2.data, self.phase_3.data = version.phase_names


class PublishForm(FlaskForm):
    note = StringField(
        "What changed",
        description="Optional, up to 300 characters; shown in the list of versions.",
    )


class StepForm(FlaskForm):
    kind = RadioField(
        "What the new hire does",
        choices=[
            SelectChoice(StepKind.DOCUMENT.value, "Acknowledge a library document"),
            SelectChoice(StepKind.COURSE.value, "Complete a course"),
            SelectChoice(StepKind.TASK.value, "A hands-on task a trainer signs off"),
        ],
        default=StepKind.TASK.value,
        validate_choice=False,
    )
    document_id = SelectField(
        "Document",
        coerce=_target_id,
        validate_choice=False,
        description="Published documents that ask for acknowledgement. The step is done once "
        "the new hire has acknowledged it.",
    )
    course_id = SelectField(
        "Course",
        coerce=_target_id,
        validate_choice=False,
        description="Published courses. The step is done once the new hire completes it.",
    )
    title = StringField(
        "Title",
        description="For a document or course, leave empty to use its title. For a task, "
        "say what to do, e.g. “Shadow five live calls”.",
    )
    description = TextAreaField(
        "Instructions", description="Optional: how to do it, who to ask.", render_kw={"rows": 3}
    )
    due_day = DueDayField(
        "Due on day",
        description=f"1 to {PATH_DAYS}; day 1 is the start date. The day decides the phase.",
    )
    required = BooleanField(
        "Required for production-ready",
        description="Untick for a step that is encouraged but not required.",
        default=True,
    )
    save = SubmitField("Save step")

    def prepare(self, viewer, path, step=None) -> None:
        """Offer the documents and courses a step of ``path`` may point at; keep the step's
        own target in the list even if it no longer qualifies, so the form shows it."""
        partner_ids = [None] if path.partner_id is None else [None, path.partner_id]
        self.document_id.choices = self._choices(
            visible_documents(viewer).where(
                Document.status == DocumentStatus.PUBLISHED, Document.requires_ack
            ),
            Document,
            partner_ids,
            "Choose a document",
            step.document_id if step else None,
        )
        self.course_id.choices = self._choices(
            visible_courses(viewer).where(Course.status == CourseStatus.PUBLISHED),
            Course,
            partner_ids,
            "Choose a course",
            step.course_id if step else None,
        )

    @staticmethod
    def _choices(stmt, model, partner_ids, prompt, current_id) -> list:
        place = [model.partner_id.is_(None)]
        if len(partner_ids) > 1:
            place.append(model.partner_id == partner_ids[1])
        rows = db.session.execute(
            stmt.where(or_(*place))
            .with_only_columns(model.id, model.title)
            .order_by(model.title, model.id)
        ).all()
        choices = [SelectChoice("", prompt)] + [SelectChoice(r.id, r.title) for r in rows]
        if current_id is not None and current_id not in {r.id for r in rows}:
            current = db.session.get(model, current_id)
            choices.append(SelectChoice(current_id, f"{current.title} ({current.status})"))
        return choices

    def fill(self, step) -> None:
        for name in ("kind", "document_id", "course_id", "title", "description", "due_day"):
            getattr(self, name).data = getattr(step, name)
        self.required.data = step.required

    def details(self) -> StepDetails:
        return StepDetails(
            kind=self.kind.data or "",
            title=self.title.data or "",
            description=self.description.data or "",
            due_day=self.due_day.data,
            document_id=self.document_id.data,
            course_id=self.course_id.data,
            required=bool(self.required.data),
        )

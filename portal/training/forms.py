"""Forms for the course builder: course details, a lesson, a quiz question.

The forms only read what was typed; every rule (a pass mark from 0 to 100, exactly one right
answer for a single-choice question ...) is the training services' and comes back as their
``InvalidInput`` messages, shown on the field they name.
"""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    ValidationError,
)

from portal.access.visibility import visible_documents
from portal.audiences.forms import AudienceFields, audience_spec, fill_audience
from portal.core.errors import InvalidInput
from portal.core.forms import apply_errors
from portal.extensions import db
from portal.library.models import Document, DocumentStatus
from portal.training.models import QuestionKind
from portal.training.quizzes import MAX_CHOICES
from portal.training.services import CourseDetails

ANSWER_ROWS = 6  # blank answer rows a new question offers; blank rows are ignored
TEXT, DOCUMENT = "text", "document"
LESSON_HELP = "Markdown: ## headings, - lists, **bold**, [links](https://…)."


class WholeNumberField(StringField):
    """An optional whole number: empty is None; anything else that is not a number is refused
    with a message naming the field, instead of WTForms' generic one."""

    raw, invalid = "", False

    def __init__(self, label, *, what: str, example: int, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "numeric"})
        super().__init__(label, **kwargs)
        self.what, self.example = what, example

    def process_formdata(self, valuelist):
        self.raw = (valuelist[0] if valuelist else "").strip()
        try:
            self.data = int(self.raw) if self.raw else None
        except ValueError:
            self.data = None
            self.invalid = True
        else:
            self.invalid = False

    def pre_validate(self, form):
        if self.invalid:
            raise ValidationError(f"The {self.what} is a whole number, such as {self.example}.")

    def _value(self):
        if self.invalid:
            return self.raw
        return "" if self.data is None else str(self.data)


class CourseForm(AudienceFields, FlaskForm):
    title = StringField("Title")
    slug = StringField(
        "Short name (slug)",
        description="Used in links. Leave empty to make one from the title.",
    )
    description = TextAreaField(
        "Description",
        description="What learners get out of it; shown on the course page.",
        render_kw={"rows": 3},
    )
    estimated_minutes = WholeNumberField(
        "Estimated minutes", what="estimated time", example=20, description="Optional."
    )
    has_quiz = BooleanField("The course ends with a quiz")
    pass_mark = WholeNumberField(
        "Pass mark (%)", what="pass mark", example=80, description="From 0 to 100, e.g. 80."
    )
    max_attempts = WholeNumberField(
        "Maximum attempts",
        what="maximum number of attempts",
        example=3,
        description="Empty: unlimited.",
    )
    validity_days = WholeNumberField(
        "Valid for (days)",
        what="validity in days",
        example=365,
        description="Empty: never expires. Otherwise people must complete it again after this "
        "many days, e.g. 365 for a yearly refresher.",
    )
    save = SubmitField("Save details")

    def details(self) -> CourseDetails:
        return CourseDetails(
            title=self.title.data or "",
            slug=self.slug.data or "",
            description=self.description.data or "",
            estimated_minutes=self.estimated_minutes.data,
            audience=audience_spec(self),
            has_quiz=bool(self.has_quiz.data),
            pass_mark=self.pass_mark.data,
            max_attempts=self.max_attempts.data,
            validity_days=self.validity_days.data,
        )

    def fill(self, course) -> None:
        for name in (
            "title",
            "slug",
            "description",
            "estimated_minutes",
            "has_quiz",
            "pass_mark",
            "max_attempts",
            "validity_days",
        ):
            getattr(self, name).data = getattr(course, name)
        fill_audience(self, course.audience)


class LessonForm(FlaskForm):
    title = StringField("Lesson title")
    source = RadioField(
        "What learners read",
        choices=[
            SelectChoice(TEXT, "Text written here"),
            SelectChoice(DOCUMENT, "A document from the library, shown in place"),
        ],
        default=TEXT,
        validate_choice=False,
    )
    document_id = SelectField(
        "Library document",
        coerce=lambda value: int(value) if str(value or "").isdigit() else None,
        validate_choice=False,
        description="Published documents you can see. Learners always read its current "
        "published version.",
    )
    body = TextAreaField("Text", description=LESSON_HELP)
    save = SubmitField("Save lesson")
    preview = SubmitField("Preview")

    def prepare(self, viewer, current_document=None) -> None:
        """Offer the published documents ``viewer`` can see (and the lesson's own, if it is
        no longer published, so the form shows what the lesson is now)."""
        rows = db.session.execute(
            visible_documents(viewer)
            .where(Document.status == DocumentStatus.PUBLISHED)
            .with_only_columns(Document.id, Document.title)
            .order_by(Document.title, Document.id)
        ).all()
        choices = [SelectChoice("", "Choose a document")]
        choices += [SelectChoice(row.id, row.title) for row in rows]
        if current_document is not None and current_document.id not in {r.id for r in rows}:
            choices.append(
                SelectChoice(current_document.id, f"{current_document.title} (not published)")
            )
        self.document_id.choices = choices

    def fill(self, lesson) -> None:
        self.title.data = lesson.title
        self.source.data = DOCUMENT if lesson.document_id else TEXT
        self.document_id.data = lesson.document_id
        self.body.data = lesson.body or ""

    def lesson(self) -> dict:
        """The service's keyword arguments: the text, or the document (never both)."""
        if self.source.data == DOCUMENT:
            if self.document_id.data is None:
                raise InvalidInput({"document_id": "Choose the library document to show."})
            return {"title": self.title.data or "", "document_id": self.document_id.data}
        return {"title": self.title.data or "", "body": self.body.data or ""}


class AnswerRow(Form):
    text = StringField("Answer")
    correct = BooleanField("Correct")


class QuestionForm(FlaskForm):
    text = TextAreaField("Question", render_kw={"rows": 2})
    kind = RadioField(
        "Kind",
        choices=[
            SelectChoice(QuestionKind.SINGLE.value, "Single choice: exactly one answer is right"),
            SelectChoice(
                QuestionKind.MULTIPLE.value,
                "Multiple choice: learners tick every right answer and no wrong one",
            ),
        ],
        default=QuestionKind.SINGLE.value,
        validate_choice=False,
    )
    answers = FieldList(FormField(AnswerRow), min_entries=ANSWER_ROWS, max_entries=MAX_CHOICES)
    explanation = TextAreaField(
        "Explanation",
        description="Optional. Shown with the feedback after an attempt: why the right answer "
        "is right.",
        render_kw={"rows": 2},
    )
    save = SubmitField("Save question")
    answer_errors: list[str]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.answer_errors = []

    def fill(self, question) -> None:
        self.text.data = question.text
        self.kind.data = question.kind
        self.explanation.data = question.explanation
        while len(self.answers.entries):
            self.answers.pop_entry()
        for choice in question.choices:
            self.answers.append_entry({"text": choice.text, "correct": choice.correct})

    def pad(self) -> None:
        """Blank rows to add answers in: at least ``ANSWER_ROWS`` rows, two spare, at most
        ``MAX_CHOICES``."""
        written = sum(1 for row in self.answers.entries if row.form.text.data)
        wanted = min(MAX_CHOICES, max(ANSWER_ROWS, written + 2))
        while len(self.answers.entries) < wanted:
            self.answers.append_entry()

    def question(self) -> dict:
        """The service's keyword arguments; blank answer rows are left out."""
        choices = []
        for number, row in enumerate(self.answers.entries, 1):
            text = (row.form.text.data or "").strip()
            if text:
                choices.append((text, bool(row.form.correct.data)))
            elif row.form.correct.data:
                raise InvalidInput(
                    {"choices": f"Answer {number} is marked correct but has no text."}
                )
        return {
            "text": self.text.data or "",
            "kind": self.kind.data or "",
            "choices": choices,
            "explanation": self.explanation.data or "",
        }

    def show(self, error: InvalidInput) -> None:
        """Put a refusal's messages on the form; answer messages go above the answer rows."""
        errors = dict(error.errors)
        if "choices" in errors:
            self.answer_errors.append(errors.pop("choices"))
        if errors:
            apply_errors(self, InvalidInput(errors))


def ids(values) -> list:
    """Posted ids as ints; anything else stays as typed so the service can name it."""
    out = []
    for value in values:
        try:
            out.append(int(value))
        except (TypeError, ValueError):
            out.append(value)
    return out

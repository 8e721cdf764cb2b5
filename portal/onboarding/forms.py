"""Forms of the trainer's pages: enrol someone, move a start date, sign off a hands-on task.

The forms only read what was typed; every rule (a start date within the allowed window, a
reason given, who may sign off) is the enrolment and progress services', and comes back as
their ``InvalidInput`` messages, shown on the field they name.
"""

from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, SelectChoice, SelectField, SubmitField, TextAreaField
from wtforms.validators import Optional

from portal.access.roles import PARTNER_ROLES
from portal.extensions import db
from portal.onboarding.board import paths_for, scoped_people
from portal.onboarding.models import OnboardingPath, PathStatus
from portal.partners.models import Team
from portal.people.models import User

DATE_MESSAGE = "Enter a date such as 2026-03-02."


def _optional_int(value):
    text = str(value if value is not None else "").strip()
    return int(text) if text.isdigit() else None


class StepRecordForm(FlaskForm):
    """Sign off a hands-on task (comment optional) or reverse a sign-off (comment = why)."""

    comment = TextAreaField("Comment")


class MoveStartForm(FlaskForm):
    start_date = DateField(
        "New start date (day 1)",
        validators=[Optional()],
        invalid_value_message=DATE_MESSAGE,
    )
    reason = TextAreaField(
        "Why", description="Kept with the change, e.g. “started late after sick leave”."
    )
    move = SubmitField("Move start date")


class EnrolForm(FlaskForm):
    person = SelectField("Person", coerce=_optional_int, validate_choice=False)
    path = SelectField("Path", coerce=_optional_int, validate_choice=False)
    start_date = DateField(
        "Start date (day 1)",
        validators=[Optional()],
        invalid_value_message=DATE_MESSAGE,
        description="Usually their first day on the floor; at most 30 days ahead.",
    )
    reason = TextAreaField(
        "Why by hand", description="Kept with the enrolment, e.g. “moved to the billing queue”."
    )
    enrol = SubmitField("Enrol")

    def prepare(self, viewer, partner_id: int | None) -> None:
        """Choices: the active agents and trainers of ``partner_id`` (a trainer: their own),
        and the published paths open to that partner."""
        people = db.session.execute(
            select(User.id, User.name, User.email, Team.name.label("team"))
            .outerjoin(Team, Team.id == User.team_id)
            .where(
                User.id.in_(scoped_people(viewer)),
                User.partner_id == partner_id,
                User.role.in_([r.value for r in PARTNER_ROLES]),
            )
            .order_by(User.name, User.id)
        ).all()
        self.person.choices = [SelectChoice("", "Choose a person")] + [
            SelectChoice(p.id, f"{p.name} ({p.team or 'no team'}, {p.email})") for p in people
        ]
        paths = db.session.scalars(
            paths_for(viewer, partner_id).where(OnboardingPath.status == PathStatus.PUBLISHED.value)
        ).all()
        self.path.choices = [SelectChoice("", "Choose a path")] + [
            SelectChoice(p.id, p.title) for p in paths
        ]
        self.people_ids = {p.id for p in people}
        self.path_ids = {p.id for p in paths}

"""Where someone is on their path, derived from records in SQL, and trainers' sign-offs.

A step is done at the moment its record appeared: the person's first acknowledgement of the
document (any version), their first completion of the course, or the standing sign-off of a
hands-on task (the latest sign-off record of that step says ``signed``). Nothing is ticked
by hand and nothing is copied: an acknowledgement made in the library completes the step.

:func:`step_rows` gives one row per (enrolment, step) and :func:`enrolment_rows` one row per
enrolment with its counts, overdue steps and the moment it became production-ready (every
required step done); both are one statement whatever the number of people, so the trainer's
board and the PRM's cohorts never loop over people in Python.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import BindParameter

from portal.access.roles import Role
from portal.audit.services import record
from portal.core.clock import utcnow
from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.library.models import Acknowledgement
from portal.onboarding.models import (
    PATH_DAYS,
    Enrolment,
    PathStep,
    SignOff,
    StepKind,
)
from portal.people.models import User
from portal.reminders.localdays import day_number
from portal.training.models import Completion
from portal.training.requirements import day_of

MAX_COMMENT = 1000
SIGNED_OFF = "onboarding.signed_off"
SIGN_OFF_REVERSED = "onboarding.sign_off_reversed"


def _latest_sign_offs():
    latest = (
        select(
            SignOff.enrolment_id,
            SignOff.step_id,
            func.max(SignOff.sequence).label("sequence"),
        )
        .group_by(SignOff.enrolment_id, SignOff.step_id)
        .subquery("latest_sign_off")
    )
    return (
        select(SignOff.enrolment_id, SignOff.step_id, SignOff.signed, SignOff.at)
        .join(
            latest,
            and_(
                latest.c.enrolment_id == SignOff.enrolment_id,
                latest.c.step_id == SignOff.step_id,
                latest.c.sequence == SignOff.sequence,
            ),
        )
        .subquery("sign_off_state")
    )


def step_rows(*, enrolment_ids=None, where=()):
    """SQL select: one row per (enrolment, step) with when the step was done.

    Columns: enrolment_id, user_id, step_id, kind, required, due_day_number (the calendar
    day it is due, as a day number), done_at (None while not done). ``where`` adds
    conditions on :class:`Enrolment` (and may refer to ``User`` through the caller's join).
    """
    state = _latest_sign_offs()
    first_ack = (
        select(func.min(Acknowledgement.acknowledged_at))
        .where(
            Acknowledgement.user_id == Enrolment.user_id,
            Acknowledgement.document_id == PathStep.document_id,
        )
        .scalar_subquery()
    )
    first_completion = (
        select(func.min(Completion.completed_at))
        .where(Completion.user_id == Enrolment.user_id, Completion.course_id == PathStep.course_id)
        .scalar_subquery()
    )
    done_at = case(
        (PathStep.kind == StepKind.DOCUMENT.value, first_ack),
        (PathStep.kind == StepKind.COURSE.value, first_completion),
        else_=case((state.c.signed, state.c.at), else_=None),
    )
    stmt = (
        select(
            Enrolment.id.label("enrolment_id"),
            Enrolment.user_id.label("user_id"),
            PathStep.id.label("step_id"),
            PathStep.kind.label("kind"),
            PathStep.required.label("required"),
            (day_of(Enrolment.start_date) + PathStep.due_day - 1).label("due_day_number"),
            done_at.label("done_at"),
        )
        .select_from(Enrolment)
        .join(PathStep, PathStep.version_id == Enrolment.version_id)
        .outerjoin(
            state,
            and_(state.c.enrolment_id == Enrolment.id, state.c.step_id == PathStep.id),
        )
        .where(*where)
    )
    if enrolment_ids is not None:
        stmt = stmt.where(Enrolment.id.in_(list(enrolment_ids)))
    return stmt


def enrolment_rows(*, today: date, enrolment_ids=None, where=()):
    """SQL select: one row per enrolment with its progress as of ``today`` (a date, or a
    bound parameter holding a day number).

    Columns: enrolment_id, steps, done, required, required_done, overdue (steps past their
    due day and not done), ready_at (when the last required step was done, once every
    required one is; None before), ready_day_number.
    """
    rows = step_rows(enrolment_ids=enrolment_ids, where=where).subquery("steps")
    done = rows.c.done_at.is_not(None)
    required = rows.c.required
    today_number = today if isinstance(today, BindParameter) else literal(day_number(today))
    required_total = func.sum(case((required, 1), else_=0))
    required_done = func.sum(case((and_(required, done), 1), else_=0))
    ready_at = case(
        (
            and_(required_total > 0, required_total == required_done),
            func.max(case((required, rows.c.done_at), else_=None)),
        ),
        else_=None,
    )
    return select(
        rows.c.enrolment_id,
        func.count().label("steps"),
        func.sum(case((done, 1), else_=0)).label("done"),
        required_total.label("required"),
        required_done.label("required_done"),
        func.sum(case((and_(~done, rows.c.due_day_number < today_number), 1), else_=0)).label(
            "overdue"
        ),
        ready_at.label("ready_at"),
    ).group_by(rows.c.enrolment_id)


@dataclass
class StepState:
    """One step of one person's path, as the person or their trainer sees it."""

    step: PathStep
    due_on: date
    done_at: datetime | None
    status: str  # done, overdue, due (today or within the week), upcoming
    sign_off: SignOff | None = None  # the latest sign-off record of a hands-on task


@dataclass
class PathStanding:
    """Someone's whole path today: day N of 90, steps by phase, what is next."""

    enrolment: Enrolment
    today: date
    steps: list[StepState]

    @property
    def day(self) -> int:
        """Day N of the path (0 or less: not started yet; above 90: finished)."""
        return (self.today - self.enrolment.start_date).days + 1

    @property
    def days_total(self) -> int:
        return PATH_DAYS

    @property
    def done(self) -> list[StepState]:
        return [s for s in self.steps if s.done_at is not None]

    @property
    def overdue(self) -> list[StepState]:
        return [s for s in self.steps if s.status == "overdue"]

    @property
    def next_steps(self) -> list[StepState]:
        """The steps not done yet, most urgent first (overdue ones, then by due day)."""
        return [s for s in self.steps if s.done_at is None]

    @property
    def percent(self) -> int:
        return round(100 * len(self.done) / len(self.steps)) if self.steps else 0

    @property
    def ready_at(self) -> datetime | None:
        required = [s for s in self.steps if s.step.required]
        if not required or any(s.done_at is None for s in required):
            return None
        return max(s.done_at for s in required)

    def phase(self, index: int) -> list[StepState]:
        return [s for s in self.steps if s.step.phase == index]


def _status(due_on: date, done_at, today: date) -> str:
    if done_at is not None:
        return "done"
    if due_on < today:
        return "overdue"
    if due_on <= today + timedelta(days=7):
        return "due"
    return "upcoming"


def standing(enrolment: Enrolment, *, today: date) -> PathStanding:
    """``enrolment``'s steps with their state (three queries, whatever the number of steps)."""
    rows = {r.step_id: r for r in db.session.execute(step_rows(enrolment_ids=[enrolment.id]))}
    steps = db.session.scalars(
        select(PathStep)
        .where(PathStep.version_id == enrolment.version_id)
        .order_by(PathStep.due_day, PathStep.position)
    ).all()
    latest = {}
    for sign_off in db.session.scalars(
        select(SignOff).where(SignOff.enrolment_id == enrolment.id).order_by(SignOff.sequence)
    ):
        latest[sign_off.step_id] = sign_off
    states = []
    for step in steps:
        due_on = enrolment.start_date + timedelta(days=step.due_day - 1)
        done_at = rows[step.id].done_at if step.id in rows else None
        states.append(
            StepState(step, due_on, done_at, _status(due_on, done_at, today), latest.get(step.id))
        )
    return PathStanding(enrolment, today, states)


def can_sign_off(actor, person: User) -> bool:
    """Only an active trainer of ``person``'s own partner signs off their hands-on tasks."""
    return (
        actor is not None
        and getattr(actor, "is_active", False)
        and actor.role == Role.TRAINER.value
        and actor.partner_id is not None
        and actor.partner_id == person.partner_id
        and actor.id != person.id
    )


def sign_off(
    actor, enrolment: Enrolment, step: PathStep, *, comment: str, signed: bool = True, now=None
) -> SignOff:
    """Sign off (or, with ``signed`` false, reverse the sign-off of) a hands-on step.

    Written once: a second identical click finds the step already in that state and is
    refused with a message; two at once make one record (unique sequence).
    """
    person = db.session.get(User, enrolment.user_id)
    if not can_sign_off(actor, person):
        raise InvalidInput(
            "Only a trainer of this person's partner can sign off their hands-on tasks."
        )
    if step.version_id != enrolment.version_id or step.kind != StepKind.TASK:
        raise InvalidInput("That is not a hands-on task of this person's path.")
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise InvalidInput({"comment": f"Keep the comment under {MAX_COMMENT} characters."})
    if not signed and not comment:
        raise InvalidInput({"comment": "Say why the sign-off is reversed, for the record."})
    latest = db.session.scalars(
        select(SignOff)
        .where(SignOff.enrolment_id == enrolment.id, SignOff.step_id == step.id)
        .order_by(SignOff.sequence.desc())
        .limit(1)
    ).first()
    if signed and latest is not None and latest.signed:
        raise InvalidInput(f"“{step.title}” is already signed off.")
    if not signed and (latest is None or not latest.signed):
        raise InvalidInput(f"“{step.title}” is not signed off, so there is nothing to reverse.")
    entry = SignOff(
        enrolment_id=enrolment.id,
        step_id=step.id,
        sequence=(latest.sequence if latest else 0) + 1,
        signed=signed,
        comment=comment,
        by_id=actor.id,
        at=now or utcnow(),
    )
    try:
        with db.session.begin_nested():
            db.session.add(entry)
    except IntegrityError:
        raise InvalidInput(
            f"Someone else recorded a sign-off of “{step.title}” at the same moment; "
            "look at the step again."
        ) from None
    record(
        SIGNED_OFF if signed else SIGN_OFF_REVERSED,
        actor=actor,
        partner_id=person.partner_id,
        target=entry,
        summary=(
            f"{'Signed off' if signed else 'Reversed the sign-off of'} “{step.title}” for "
            f"{person.email}" + (f": {comment}" if comment else "")
        )[:500],
    )
    return entry

"""The 90-day onboarding path: templates with versioned steps, enrolments and sign-offs.

A *path* has an audience and a series of *versions*; each version holds the steps and the
phase names. Only a draft version (``published_at`` empty) is edited; publishing freezes it,
and the next edit starts a new draft copied from it. An *enrolment* pins the version it
started on, so editing a path never rewrites the progress of people already on it.

Progress is derived from records, never ticked by hand: a document step is done when the
person's acknowledgement of the document exists, a course step when their completion exists,
and a hands-on task when a trainer's sign-off stands. Sign-offs are written once; a mistaken
one is reversed by a new record (``signed`` false), so the latest record of a (enrolment,
step) says whether it stands. A start date moved by a trainer leaves a written-once change.
"""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.audiences.models import Audience
from portal.audit.models import AppendOnlyError
from portal.core.clock import UTCDateTime, utcnow
from portal.extensions import db

PATH_DAYS = 90
# The last day of each phase; the phases are days 1-30, 31-60 and 61-90.
PHASE_ENDS = (30, 60, 90)
DEFAULT_PHASE_NAMES = ("Days 1-30", "Days 31-60", "Days 61-90")


def phase_of(due_day: int) -> int:
    """The phase (0, 1 or 2) a due day falls in."""
    return next(i for i, end in enumerate(PHASE_ENDS) if due_day <= end)


class PathStatus(StrEnum):
    DRAFT = "draft"  # never published
    PUBLISHED = "published"
    ARCHIVED = "archived"  # no new enrolments; people on it keep their progress


class StepKind(StrEnum):
    DOCUMENT = "document"  # acknowledge a library document
    COURSE = "course"  # complete a course
    TASK = "task"  # a hands-on task a trainer signs off


class EnrolmentHow(StrEnum):
    AUTOMATIC = "automatic"  # in the audience, hired within the path's 90 days
    MANUAL = "manual"  # a trainer or PRM enrolled them, with a reason


class OnboardingPath(db.Model):
    __tablename__ = "onboarding_path"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default=PathStatus.DRAFT, index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    # Set for a trainer's path, local to their partner; empty for company-wide.
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id"), index=True)
    # New hires in this audience are enrolled automatically.
    audience_id: Mapped[int] = mapped_column(ForeignKey("audience.id"), unique=True)
    # The version new enrolments start on (the latest published one).
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("onboarding_path_version.id", use_alter=True, name="fk_path_current_version")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    audience: Mapped[Audience] = relationship(lazy="joined")
    owner = relationship("User", lazy="raise")
    partner = relationship("Partner", lazy="raise")
    current_version: Mapped["PathVersion | None"] = relationship(
        foreign_keys=[current_version_id], lazy="raise", post_update=True
    )


class PathVersion(db.Model):
    """One version of a path's steps and phase names; frozen once published."""

    __tablename__ = "onboarding_path_version"
    __table_args__ = (UniqueConstraint("path_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    path_id: Mapped[int] = mapped_column(ForeignKey("onboarding_path.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1 for the first version
    phase_names: Mapped[list] = mapped_column(JSON, default=lambda: list(DEFAULT_PHASE_NAMES))
    note: Mapped[str] = mapped_column(String(300), default="")  # what changed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    path: Mapped[OnboardingPath] = relationship(foreign_keys=[path_id], lazy="raise")
    steps: Mapped[list["PathStep"]] = relationship(
        lazy="raise", order_by="(PathStep.due_day, PathStep.position)", viewonly=True
    )

    @property
    def is_draft(self) -> bool:
        return self.published_at is None


class PathStep(db.Model):
    __tablename__ = "onboarding_step"
    __table_args__ = (
        CheckConstraint("due_day >= 1 AND due_day <= 90", "due_day_in_path"),
        CheckConstraint(
            "(kind = 'document' AND document_id IS NOT NULL AND course_id IS NULL) OR "
            "(kind = 'course' AND course_id IS NOT NULL AND document_id IS NULL) OR "
            "(kind = 'task' AND document_id IS NULL AND course_id IS NULL)",
            "one_target",
        ),
        Index("ix_onboarding_step_version", "version_id", "due_day", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("onboarding_path_version.id"))
    position: Mapped[int] = mapped_column(Integer)  # order among steps due the same day
    due_day: Mapped[int] = mapped_column(Integer)  # 1-90, day 1 being the start date
    kind: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"), index=True)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("course.id"), index=True)
    # Production-ready means every required step is done; optional ones are encouraged.
    required: Mapped[bool] = mapped_column(Boolean, default=True)

    version: Mapped[PathVersion] = relationship(lazy="raise")
    document = relationship("Document", lazy="raise")
    course = relationship("Course", lazy="raise")

    @property
    def phase(self) -> int:
        return phase_of(self.due_day)


class Enrolment(db.Model):
    """A person on a path, on the version they started with, from their start date (day 1)."""

    __tablename__ = "onboarding_enrolment"
    __table_args__ = (
        UniqueConstraint("user_id", "path_id"),
        Index("ix_onboarding_enrolment_path_start", "path_id", "start_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    path_id: Mapped[int] = mapped_column(ForeignKey("onboarding_path.id"))
    version_id: Mapped[int] = mapped_column(ForeignKey("onboarding_path_version.id"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    how: Mapped[str] = mapped_column(String(10), default=EnrolmentHow.AUTOMATIC)
    reason: Mapped[str] = mapped_column(String(500), default="")
    enrolled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user = relationship("User", foreign_keys=[user_id], lazy="raise")
    path: Mapped[OnboardingPath] = relationship(lazy="raise")
    version: Mapped[PathVersion] = relationship(lazy="raise")
    enrolled_by = relationship("User", foreign_keys=[enrolled_by_id], lazy="raise")


class StartDateChange(db.Model):
    """A trainer moved someone's start date, and why. Written once."""

    __tablename__ = "onboarding_start_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("onboarding_enrolment.id"), index=True)
    old_start: Mapped[date] = mapped_column(Date)
    new_start: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(500))
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    changed_by = relationship("User", lazy="raise")


class SignOff(db.Model):
    """A trainer signed off a hands-on step (``signed``) or reversed a sign-off. Written once.

    ``sequence`` numbers the records of one (enrolment, step); the unique key turns two
    simultaneous clicks into one record, and the latest record says whether the step is done.
    """

    __tablename__ = "onboarding_sign_off"
    __table_args__ = (UniqueConstraint("enrolment_id", "step_id", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("onboarding_enrolment.id"))
    step_id: Mapped[int] = mapped_column(ForeignKey("onboarding_step.id"), index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    signed: Mapped[bool] = mapped_column(Boolean)  # False: reverses the sign-off before it
    comment: Mapped[str] = mapped_column(String(1000), default="")
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    by = relationship("User", lazy="raise")


@db.event.listens_for(StartDateChange, "before_update")
@db.event.listens_for(StartDateChange, "before_delete")
@db.event.listens_for(SignOff, "before_update")
@db.event.listens_for(SignOff, "before_delete")
def _refuse_rewrite(_mapper, _connection, target):
    raise AppendOnlyError(f"{type(target).__name__} records are written once")

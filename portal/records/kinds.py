"""What ``records export`` writes: the compliance records, and the names they point at.

Records are the written-once evidence (acknowledgements, reviews, read receipts, lesson
progress, quiz attempts, completions, start-date changes, sign-offs, audit events), every
column. References are the few columns of people, partners and content that make those ids
readable once the database is gone; secrets (password hashes) and bodies are left out.
"""

from dataclasses import dataclass

from sqlalchemy import Select, Table, select

from portal.announcements.models import Announcement, AnnouncementAck, AnnouncementRead
from portal.audit.models import AuditEvent
from portal.library.models import Acknowledgement, Document, DocumentReview, DocumentVersion
from portal.onboarding.models import (
    Enrolment,
    OnboardingPath,
    PathStep,
    SignOff,
    StartDateChange,
)
from portal.partners.models import Partner, Team
from portal.people.models import User
from portal.training.models import Completion, Course, Lesson, LessonProgress, QuizAttempt


@dataclass(frozen=True)
class RecordKind:
    """One ``type`` of line in the export: a table and the columns kept (all when empty)."""

    table: Table
    columns: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.table.name

    def select(self) -> Select:
        """Every row, oldest first."""
        columns = [self.table.c[name] for name in self.columns] or [self.table]
        return select(*columns).order_by(self.table.c.id)


REFERENCES = (
    RecordKind(Partner.__table__, ("id", "slug", "name", "country", "active")),
    RecordKind(Team.__table__, ("id", "partner_id", "name")),
    RecordKind(
        User.__table__,
        ("id", "email", "name", "role", "partner_id", "team_id", "hire_date", "active"),
    ),
    RecordKind(Document.__table__, ("id", "slug", "title", "kind", "partner_id")),
    RecordKind(
        DocumentVersion.__table__,
        ("id", "document_id", "number", "title", "change_level", "summary", "published_at"),
    ),
    RecordKind(Announcement.__table__, ("id", "title", "partner_id", "document_version_id")),
    RecordKind(Course.__table__, ("id", "slug", "title", "partner_id")),
    RecordKind(Lesson.__table__, ("id", "course_id", "position", "title")),
    RecordKind(OnboardingPath.__table__, ("id", "title", "partner_id")),
    RecordKind(PathStep.__table__, ("id", "version_id", "due_day", "kind", "title")),
    RecordKind(
        Enrolment.__table__, ("id", "user_id", "path_id", "version_id", "start_date", "how")
    ),
)

RECORDS = tuple(
    RecordKind(model.__table__)
    for model in (
        Acknowledgement,
        DocumentReview,
        AnnouncementRead,
        AnnouncementAck,
        LessonProgress,
        QuizAttempt,
        Completion,
        StartDateChange,
        SignOff,
        AuditEvent,
    )
)

ALL_KINDS = REFERENCES + RECORDS

"""One person's compliance: what they must do, have done and are late on, and their records.

Obligations come from :func:`portal.compliance.obligations.obligations`, narrowed to the person
and sorted into three sections: *late* (overdue), *to do* (pending, and expiring
certifications) and *done*. The overview shows up to :data:`GROUP_CAP` rows of each kind in
each section, picked and counted by window functions in the same statement, so the page costs
the same few statements for a person with five obligations or five thousand.

Records are what the person did, written once: acknowledgements, quiz attempts, completions,
onboarding sign-offs and announcement acknowledgements. They survive deactivation, so a
deactivated person's page shows them although the person no longer has obligations.
"""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Select, and_, case, func, literal, select
from sqlalchemy.orm import aliased

from portal.announcements.models import Announcement, AnnouncementAck
from portal.compliance.obligations import KIND_LABELS, KINDS, obligations
from portal.extensions import db
from portal.library.models import Acknowledgement, Document
from portal.onboarding.models import Enrolment, OnboardingPath, PathStep, SignOff
from portal.people.models import User
from portal.training.models import Completion, Course, QuizAttempt

# Sections of the page, in order, with the obligation statuses each holds.
SECTIONS = {"late": ("overdue",), "todo": ("pending", "expiring"), "done": ("done",)}
SECTION_LABELS = {"late": "Late", "todo": "To do", "done": "Done"}
GROUP_CAP = 10  # rows of one kind shown in a section of the overview; "show all" pages on
PER_PAGE = 25

RECORDS = {
    "acknowledgements": "Document acknowledgements",
    "attempts": "Quiz attempts",
    "completions": "Course completions",
    "sign_offs": "Onboarding sign-offs",
    "announcements": "Announcement acknowledgements",
}


def not_counted_reason(person: User) -> str | None:
    """Why ``person`` has no obligations and counts in no rate, or None if they do."""
    if not person.active:
        return "deactivated"
    if person.is_staff:
        return "staff"
    if person.partner is not None and not person.partner.active:
        return "partner_paused"
    return None


# --- obligations ----------------------------------------------------------------------------


def _section_of(status):
    return case(
        (status == "overdue", "late"),
        (status == "done", "done"),
        else_="todo",
    )


def _rank(column, values):
    return case(*[(column == value, n) for n, value in enumerate(values)], else_=len(values))


def _obligations_of(person: User, today: date):
    """(select of the person's obligations with section and enrolment id, its subquery)."""
    sub = obligations(today=today, partner_ids=[person.partner_id], user_id=person.id).subquery(
        "obligation"
    )
    stmt = (
        select(
            sub.c.kind,
            sub.c.item_id,
            sub.c.title,
            sub.c.due_day,
            sub.c.done_at,
            sub.c.status,
            _section_of(sub.c.status).label("section"),
            Enrolment.id.label("enrolment_id"),
        )
        .select_from(sub)
        .outerjoin(
            Enrolment,
            and_(
                sub.c.kind == "path",
                Enrolment.user_id == sub.c.user_id,
                Enrolment.path_id == sub.c.item_id,
            ),
        )
        .where(sub.c.user_id == person.id)
    )
    return stmt, sub


def _order(sub):
    """Within a section: late and to-do by due date, soonest first; done by when, latest first."""
    done = sub.c.status == "done"
    return (
        case((done, literal(0)), else_=sub.c.due_day),
        case((done, sub.c.done_at), else_=None).desc(),
        sub.c.title,
        sub.c.item_id,
    )


def obligation_list(person: User, today: date, *, section=None, kind=None) -> Select:
    """Select of the person's obligations by section, kind and urgency (the CSV, the pages).

    ``section`` (a key of :data:`SECTIONS`) and ``kind`` (one of :data:`KINDS`) narrow it.
    """
    stmt, sub = _obligations_of(person, today)
    if section is not None:
        stmt = stmt.where(sub.c.status.in_(SECTIONS[section]))
    if kind is not None:
        stmt = stmt.where(sub.c.kind == kind)
    return stmt.order_by(
        _rank(_section_of(sub.c.status), list(SECTIONS)), _rank(sub.c.kind, KINDS), *_order(sub)
    )


@dataclass
class Group:
    """The obligations of one kind in one section: the first few rows and how many in all."""

    kind: str
    total: int
    rows: list = field(default_factory=list)

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def more(self) -> int:
        return self.total - len(self.rows)


@dataclass
class Overview:
    """The person's obligations by section, and the figures at the top of the page."""

    sections: dict = field(default_factory=lambda: {key: [] for key in SECTIONS})
    expiring: int = 0

    def count(self, section: str) -> int:
        return sum(group.total for group in self.sections[section])

    @property
    def total(self) -> int:
        return sum(self.count(section) for section in SECTIONS)

    @property
    def complete(self) -> int:
        """Done, plus certifications still valid though expiring soon."""
        return self.count("done") + self.expiring

    @property
    def percent_complete(self) -> int | None:
        return round(100 * self.complete / self.total) if self.total else None


def overview(person: User, today: date) -> Overview:
    """The person's obligations, up to :data:`GROUP_CAP` of each kind per section (one query)."""
    stmt, sub = _obligations_of(person, today)
    section = _section_of(sub.c.status)
    partition = (section, sub.c.kind)
    ranked = stmt.add_columns(
        func.row_number().over(partition_by=partition, order_by=_order(sub)).label("n"),
        func.count().over(partition_by=partition).label("group_total"),
        func.sum(case((sub.c.status == "expiring", 1), else_=0))
        .over(partition_by=partition)
        .label("group_expiring"),
    ).subquery("ranked")
    rows = db.session.execute(
        select(ranked)
        .where(ranked.c.n <= GROUP_CAP)
        .order_by(_rank(ranked.c.section, list(SECTIONS)), _rank(ranked.c.kind, KINDS), ranked.c.n)
    ).all()
    result = Overview()
    for row in rows:
        groups = result.sections[row.section]
        if not groups or groups[-1].kind != row.kind:
            groups.append(Group(row.kind, row.group_total))
            result.expiring += row.group_expiring or 0
        groups[-1].rows.append(row)
    return result


# --- records --------------------------------------------------------------------------------


def _record_selects(person: User) -> dict[str, Select]:
    signer = aliased(User)
    return {
        "acknowledgements": select(
            Acknowledgement.id,
            Acknowledgement.document_id,
            Document.title,
            Acknowledgement.version_number,
            Acknowledgement.acknowledged_at.label("at"),
            Acknowledgement.method,
            Acknowledgement.typed_name,
        )
        .join(Document, Document.id == Acknowledgement.document_id)
        .where(Acknowledgement.user_id == person.id)
        .order_by(Acknowledgement.acknowledged_at.desc(), Acknowledgement.id.desc()),
        "attempts": select(
            QuizAttempt.id,
            QuizAttempt.course_id,
            Course.title,
            QuizAttempt.number,
            QuizAttempt.score,
            QuizAttempt.pass_mark,
            QuizAttempt.passed,
            QuizAttempt.started_at,
            QuizAttempt.submitted_at,
        )
        .join(Course, Course.id == QuizAttempt.course_id)
        .where(QuizAttempt.user_id == person.id)
        .order_by(QuizAttempt.started_at.desc(), QuizAttempt.id.desc()),
        "completions": select(
            Completion.id,
            Completion.course_id,
            Course.title,
            Completion.score,
            Completion.completed_at.label("at"),
            Completion.expires_at,
            Completion.verification_code,
        )
        .join(Course, Course.id == Completion.course_id)
        .where(Completion.user_id == person.id)
        .order_by(Completion.completed_at.desc(), Completion.id.desc()),
        "sign_offs": select(
            SignOff.id,
            SignOff.enrolment_id,
            OnboardingPath.title.label("path_title"),
            PathStep.title.label("step_title"),
            SignOff.signed,
            SignOff.comment,
            signer.name.label("by_name"),
            SignOff.at,
        )
        .join(Enrolment, Enrolment.id == SignOff.enrolment_id)
        .join(OnboardingPath, OnboardingPath.id == Enrolment.path_id)
        .join(PathStep, PathStep.id == SignOff.step_id)
        .outerjoin(signer, signer.id == SignOff.by_id)
        .where(Enrolment.user_id == person.id)
        .order_by(SignOff.at.desc(), SignOff.id.desc()),
        "announcements": select(
            AnnouncementAck.id,
            AnnouncementAck.announcement_id,
            Announcement.title,
            AnnouncementAck.acknowledged_at.label("at"),
        )
        .join(Announcement, Announcement.id == AnnouncementAck.announcement_id)
        .where(AnnouncementAck.user_id == person.id)
        .order_by(AnnouncementAck.acknowledged_at.desc(), AnnouncementAck.id.desc()),
    }


def record_counts(person: User) -> dict[str, int]:
    """How many records of each kind the person has (one query)."""
    counts = [
        select(func.count())
        .select_from(stmt.order_by(None).with_only_columns(literal(1)).subquery())
        .scalar_subquery()
        .label(key)
        for key, stmt in _record_selects(person).items()
    ]
    return db.session.execute(select(*counts)).one()._asdict()


def record_rows(person: User, kind: str) -> Select:
    """Select of the person's records of one kind (a key of :data:`RECORDS`), latest first."""
    return _record_selects(person)[kind]

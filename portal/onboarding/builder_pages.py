"""What the path builder's pages show: the list of paths, a path's versions, a version's
steps by phase. Each list is one statement whatever the number of rows it shows."""

from sqlalchemy import Select, func, select
from sqlalchemy.orm import aliased

from portal.extensions import db
from portal.library.models import Document
from portal.onboarding.models import (
    PHASE_ENDS,
    Enrolment,
    OnboardingPath,
    PathStep,
    PathVersion,
    phase_of,
)
from portal.onboarding.paths import editable_paths, phase_label
from portal.partners.models import Partner
from portal.people.models import User
from portal.training.models import Course


def _per_path(column, *where):
    return select(column).where(*where).correlate(OnboardingPath).scalar_subquery()


def path_list(actor, status: str = "") -> Select:
    """SQL select of the paths ``actor`` may edit (optionally in one status), by title.

    Rows: the path, current_number (its current version), draft_number (the version being
    drafted), steps (of the current version, or of the first draft), people (enrolled on any
    version) and partner_name (for a partner-local path).
    """
    current = aliased(PathVersion)
    shown = (PathVersion.id == func.coalesce(OnboardingPath.current_version_id, -1)) | (
        OnboardingPath.current_version_id.is_(None) & PathVersion.published_at.is_(None)
    )
    stmt = (
        editable_paths(actor)
        .add_columns(
            current.number.label("current_number"),
            _per_path(
                PathVersion.number,
                PathVersion.path_id == OnboardingPath.id,
                PathVersion.published_at.is_(None),
            ).label("draft_number"),
            _per_path(
                func.count(PathStep.id),
                PathStep.version_id == PathVersion.id,
                PathVersion.path_id == OnboardingPath.id,
                shown,
            ).label("steps"),
            _per_path(func.count(Enrolment.id), Enrolment.path_id == OnboardingPath.id).label(
                "people"
            ),
            Partner.name.label("partner_name"),
        )
        .outerjoin(current, current.id == OnboardingPath.current_version_id)
        .outerjoin(Partner, Partner.id == OnboardingPath.partner_id)
        .order_by(OnboardingPath.title, OnboardingPath.id)
    )
    if status:
        stmt = stmt.where(OnboardingPath.status == status)
    return stmt


def _per_version(column, *where):
    return select(column).where(*where).correlate(PathVersion).scalar_subquery()


def version_list(path: OnboardingPath) -> Select:
    """SQL select of the path's versions, newest first, with published_by (a name), steps
    and people (enrolled on that version)."""
    return (
        select(
            PathVersion,
            User.name.label("published_by"),
            _per_version(func.count(PathStep.id), PathStep.version_id == PathVersion.id).label(
                "steps"
            ),
            _per_version(func.count(Enrolment.id), Enrolment.version_id == PathVersion.id).label(
                "people"
            ),
        )
        .outerjoin(User, User.id == PathVersion.published_by_id)
        .where(PathVersion.path_id == path.id)
        .order_by(PathVersion.number.desc())
    )


def phases_of(version: PathVersion, steps: list[PathStep]) -> list[dict]:
    """The version's three phases: number, name, days ('days 1-30'), first_day and steps."""
    firsts = (1, *(end + 1 for end in PHASE_ENDS[:-1]))
    phases = [
        {"number": n, "name": name, "days": phase_label(n), "first_day": first, "steps": []}
        for n, (name, first) in enumerate(zip(version.phase_names, firsts, strict=True), 1)
    ]
    for step in steps:
        phases[phase_of(step.due_day)]["steps"].append(step)
    return phases


def step_targets(steps: list[PathStep]) -> dict:
    """(kind, id) -> (title, status) of the documents and courses the steps point at."""
    targets = {}
    for kind, model, name in (
        ("document", Document, "document_id"),
        ("course", Course, "course_id"),
    ):
        ids = {getattr(step, name) for step in steps if getattr(step, name)}
        if ids:
            rows = db.session.execute(
                select(model.id, model.title, model.status).where(model.id.in_(ids))
            )
            targets.update({(kind, row.id): (row.title, row.status) for row in rows})
    return targets

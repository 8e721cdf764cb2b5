"""Writing onboarding paths: details and audience, versions, phase names, steps, publishing.

Rules that live here: staff write company paths, a trainer only paths local to their own
partner, addressed to that partner's people. Steps and phase names change on the path's
draft version only; publishing freezes the draft, makes it the version new hires start on and
enrols the new hires already in the audience. The next edit starts a new draft copied from the
published version, so people already on a version keep exactly its steps. A step points at a
published document that asks for acknowledgement, a published course, or is a hands-on task.
Services add to the session and flush; the caller commits once.
"""

from dataclasses import dataclass, field

from sqlalchemy import Select, false, func, select

from portal.access.permissions import AUTHOR_DOCUMENTS
from portal.audiences.models import Audience
from portal.audiences.services import AudienceSpec, apply_audience, check_audience
from portal.audit.services import record
from portal.core.clock import utcnow
from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.onboarding.enrolment import enrol_new_hires
from portal.onboarding.models import (
    DEFAULT_PHASE_NAMES,
    PHASE_ENDS,
    OnboardingPath,
    PathStatus,
    PathStep,
    PathVersion,
)
from portal.onboarding.step_checks import (
    MAX_DESCRIPTION,
    MAX_TITLE,
    StepDetails,
    check_step,
    publish_problems,
)

MAX_PHASE_NAME = 60
MAX_NOTE = 300


@dataclass
class PathDetails:
    """Everything about a path except its versions and steps."""

    title: str
    description: str = ""
    audience: AudienceSpec = field(default_factory=AudienceSpec)


def can_edit_path(actor, path: OnboardingPath) -> bool:
    """Whether ``actor`` may edit, publish or archive ``path``.

    Staff edit every path; a trainer only their own partner's local paths.
    """
    if not AUTHOR_DOCUMENTS(actor):
        return False
    return actor.is_staff or (path.partner_id is not None and path.partner_id == actor.partner_id)


def editable_paths(actor) -> Select:
    """SQL select of the paths ``actor`` may edit (the builder's list)."""
    stmt = select(OnboardingPath)
    if not AUTHOR_DOCUMENTS(actor):
        return stmt.where(false())
    if actor.is_staff:
        return stmt
    return stmt.where(OnboardingPath.partner_id == actor.partner_id)


def _check_author(actor, path: OnboardingPath | None = None, *, editing=True) -> None:
    """Refuse unless ``actor`` may write ``path``; None is an operator command (demo, CLI)."""
    if actor is not None and (
        not AUTHOR_DOCUMENTS(actor) or (path is not None and not can_edit_path(actor, path))
    ):
        raise InvalidInput("You cannot edit this onboarding path.")
    if editing and path is not None and path.status == PathStatus.ARCHIVED:
        raise InvalidInput("This path is archived. Restore it before editing.")


def _record(action: str, actor, path: OnboardingPath, summary: str, **details) -> None:
    record(
        f"onboarding.{action}",
        actor=actor,
        partner_id=path.partner_id,
        target=path,
        summary=summary,
        **details,
    )


# --- reading ----------------------------------------------------------------------------------


def draft_of(path: OnboardingPath) -> PathVersion | None:
    """The version being edited, if one is."""
    return db.session.scalars(
        select(PathVersion).where(
            PathVersion.path_id == path.id, PathVersion.published_at.is_(None)
        )
    ).first()


def versions_of(path: OnboardingPath) -> list[PathVersion]:
    """Every version of the path, newest first."""
    return db.session.scalars(
        select(PathVersion)
        .where(PathVersion.path_id == path.id)
        .order_by(PathVersion.number.desc())
    ).all()


def steps_of(version: PathVersion) -> list[PathStep]:
    """The version's steps in path order: by due day, then as added."""
    return db.session.scalars(
        select(PathStep)
        .where(PathStep.version_id == version.id)
        .order_by(PathStep.due_day, PathStep.position, PathStep.id)
    ).all()


# --- the path itself --------------------------------------------------------------------------


def _check_details(details: PathDetails, partner_id) -> dict:
    errors = {}
    details.title = (details.title or "").strip()
    details.description = (details.description or "").strip()
    if not details.title:
        errors["title"] = "Give the path a title, e.g. “Agent 90-day path”."
    elif len(details.title) > MAX_TITLE:
        errors["title"] = f"Titles are at most {MAX_TITLE} characters."
    if len(details.description) > MAX_DESCRIPTION:
        errors["description"] = f"Keep the description under {MAX_DESCRIPTION:,} characters."
    errors.update(check_audience(details.audience, partner_id=partner_id))
    return errors


def create_path(actor, details: PathDetails) -> OnboardingPath:
    """Create a path and its version 1 draft; a trainer's path is local to their partner."""
    _check_author(actor)
    partner_id = actor.partner_id if actor is not None and not actor.is_staff else None
    if errors := _check_details(details, partner_id):
        raise InvalidInput(errors)
    path = OnboardingPath(
        title=details.title,
        description=details.description,
        status=PathStatus.DRAFT,
        owner_id=getattr(actor, "id", None),
        partner_id=partner_id,
        audience=apply_audience(Audience(), details.audience),
    )
    db.session.add(path)
    db.session.flush()
    db.session.add(PathVersion(path_id=path.id, number=1, phase_names=list(DEFAULT_PHASE_NAMES)))
    _record("path_created", actor, path, f"Created the onboarding path “{path.title}”")
    db.session.flush()
    return path


def update_path(actor, path: OnboardingPath, details: PathDetails) -> OnboardingPath:
    """Change the title, description and audience (they are not versioned).

    A wider audience enrols its new hires the next time enrolment runs for them.
    """
    _check_author(actor, path)
    if errors := _check_details(details, path.partner_id):
        raise InvalidInput(errors)
    before = AudienceSpec.of(path.audience)
    path.title, path.description = details.title, details.description
    apply_audience(path.audience, details.audience)
    _record(
        "path_updated",
        actor,
        path,
        f"Changed the onboarding path “{path.title}”",
        audience_changed=before != details.audience,
    )
    db.session.flush()
    return path


# --- versions ---------------------------------------------------------------------------------


def check_draft(actor, version: PathVersion) -> OnboardingPath:
    """The path of ``version``; refused unless ``actor`` may edit it and it is a draft."""
    path = db.session.get(OnboardingPath, version.path_id)
    _check_author(actor, path)
    if not version.is_draft:
        draft = draft_of(path)
        then = (
            f"edit version {draft.number}, the draft, instead"
            if draft
            else f"start version {version.number + 1} to change it"
        )
        raise InvalidInput(
            f"Version {version.number} is published and cannot change: {then}. People on it "
            "keep exactly its steps."
        )
    return path


def start_draft(actor, path: OnboardingPath) -> PathVersion:
    """Start the next version as a draft copy of the current one (its steps and phase names)."""
    _check_author(actor, path)
    if (draft := draft_of(path)) is not None:
        raise InvalidInput(f"Version {draft.number} is already a draft: edit it.")
    current = db.session.get(PathVersion, path.current_version_id or -1)
    if current is None:
        raise InvalidInput("This path has no published version to copy.")
    number = db.session.scalar(
        select(func.max(PathVersion.number)).where(PathVersion.path_id == path.id)
    )
    draft = PathVersion(
        path_id=path.id, number=(number or 0) + 1, phase_names=list(current.phase_names)
    )
    db.session.add(draft)
    db.session.flush()
    for step in steps_of(current):
        db.session.add(
            PathStep(
                version_id=draft.id,
                position=step.position,
                due_day=step.due_day,
                kind=step.kind,
                title=step.title,
                description=step.description,
                document_id=step.document_id,
                course_id=step.course_id,
                required=step.required,
            )
        )
    _record(
        "draft_started",
        actor,
        path,
        f"Started version {draft.number} of “{path.title}”",
        version=draft.number,
    )
    db.session.flush()
    return draft


def phase_label(number: int) -> str:
    """'days 31-60' for phase 2 (numbered from 1)."""
    first = 1 if number == 1 else PHASE_ENDS[number - 2] + 1
    return f"days {first}-{PHASE_ENDS[number - 1]}"


def set_phase_names(actor, version: PathVersion, names) -> None:
    """Rename the draft's three phases (the days they cover do not change)."""
    path = check_draft(actor, version)
    names = [(name or "").strip() for name in list(names or [])[: len(PHASE_ENDS)]]
    names += [""] * (len(PHASE_ENDS) - len(names))
    errors = {}
    for number, name in enumerate(names, 1):
        if not name:
            errors[f"phase_{number}"] = f"Name phase {number} ({phase_label(number)})."
        elif len(name) > MAX_PHASE_NAME:
            errors[f"phase_{number}"] = f"Phase names are at most {MAX_PHASE_NAME} characters."
        elif name.casefold() in (other.casefold() for other in names[: number - 1]):
            errors[f"phase_{number}"] = "Give each phase its own name."
    if errors:
        raise InvalidInput(errors)
    version.phase_names = names
    _record(
        "phases_renamed",
        actor,
        path,
        f"Renamed the phases of “{path.title}”",
        version=version.number,
        names=names,
    )
    db.session.flush()


# --- steps ------------------------------------------------------------------------------------


def _fill_step(step: PathStep, details: StepDetails) -> None:
    step.kind = str(details.kind)
    step.title = details.title
    step.description = details.description
    step.due_day = details.due_day
    step.document_id = details.document_id
    step.course_id = details.course_id
    step.required = details.required


def add_step(actor, version: PathVersion, details: StepDetails) -> PathStep:
    """Add a step to the draft; among steps due the same day it comes last."""
    path = check_draft(actor, version)
    if errors := check_step(actor, path, details):
        raise InvalidInput(errors)
    last = db.session.scalar(
        select(func.max(PathStep.position)).where(PathStep.version_id == version.id)
    )
    step = PathStep(version_id=version.id, position=(last or 0) + 1)
    _fill_step(step, details)
    db.session.add(step)
    db.session.flush()
    _record("step_added", actor, path, f"Added the step “{step.title}”", version=version.number)
    db.session.flush()
    return step


def update_step(actor, step: PathStep, details: StepDetails) -> PathStep:
    """Change a step of the draft."""
    version = db.session.get(PathVersion, step.version_id)
    path = check_draft(actor, version)
    if errors := check_step(actor, path, details):
        raise InvalidInput(errors)
    _fill_step(step, details)
    _record("step_updated", actor, path, f"Changed the step “{step.title}”", version=version.number)
    db.session.flush()
    return step


def remove_step(actor, step: PathStep) -> None:
    """Take a step out of the draft (nobody is on a draft, so nothing refers to it)."""
    version = db.session.get(PathVersion, step.version_id)
    path = check_draft(actor, version)
    db.session.delete(step)
    _record("step_removed", actor, path, f"Removed the step “{step.title}”", version=version.number)
    db.session.flush()


# --- publishing and archiving -----------------------------------------------------------------


def publish_path(actor, path: OnboardingPath, note: str = "") -> PathVersion:
    """Publish the draft: frozen from now on, the version new hires start on.

    People already on an earlier version stay on it. New hires in the audience who are not
    on the path yet are enrolled at once.
    """
    _check_author(actor, path)
    draft = draft_of(path)
    if draft is None:
        raise InvalidInput("There is no draft to publish. Start a new version to change the path.")
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise InvalidInput({"note": f"Keep the note under {MAX_NOTE} characters."})
    steps = steps_of(draft)
    if not steps:
        raise InvalidInput(f"Add at least one step before publishing version {draft.number}.")
    if problems := publish_problems(actor, path, steps):
        raise InvalidInput(f"Version {draft.number} cannot be published yet. " + " ".join(problems))
    now = utcnow()
    draft.note = note
    draft.published_at = now
    draft.published_by_id = getattr(actor, "id", None)
    path.current_version_id = draft.id
    path.status = PathStatus.PUBLISHED
    path.published_at = now
    _record(
        "path_published",
        actor,
        path,
        f"Published version {draft.number} of “{path.title}”",
        version=draft.number,
        steps=len(steps),
    )
    db.session.flush()
    enrol_new_hires(path_ids=[path.id])
    return draft


def archive_path(actor, path: OnboardingPath) -> None:
    """Take a path out of use: nobody new is enrolled; people on it keep their progress."""
    _check_author(actor, path, editing=False)
    if path.status == PathStatus.ARCHIVED:
        raise InvalidInput("This path is already archived.")
    path.status = PathStatus.ARCHIVED
    path.archived_at = utcnow()
    _record("path_archived", actor, path, f"Archived the onboarding path “{path.title}”")
    db.session.flush()


def restore_path(actor, path: OnboardingPath) -> None:
    """Bring an archived path back: published (and enrolling again) if it ever was."""
    _check_author(actor, path, editing=False)
    if path.status != PathStatus.ARCHIVED:
        raise InvalidInput("Only archived paths can be restored.")
    path.status = PathStatus.PUBLISHED if path.current_version_id else PathStatus.DRAFT
    path.archived_at = None
    _record("path_restored", actor, path, f"Restored the onboarding path “{path.title}”")
    db.session.flush()
    if path.current_version_id:
        enrol_new_hires(path_ids=[path.id])

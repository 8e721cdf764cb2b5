"""What a path's step may point at, checked when it is saved and again when it is published.

A document step needs a published library document that asks for acknowledgement (its
acknowledgement is what completes the step), a course step a published course; both must be
visible to the author and company-wide, or local to the path's own partner. A hands-on task
needs a title. The checks write nothing and return messages keyed by form field.
"""

from dataclasses import dataclass

from sqlalchemy import select

from portal.access.visibility import visible_courses, visible_documents
from portal.extensions import db
from portal.library.models import Document
from portal.onboarding.models import PATH_DAYS, OnboardingPath, PathStep, StepKind
from portal.training.models import Course

MAX_TITLE = 200
MAX_DESCRIPTION = 5_000
DRAFT, ARCHIVED = "draft", "archived"  # document and course states


@dataclass
class StepDetails:
    """One step as typed; only the target that matches ``kind`` is kept."""

    kind: str
    title: str = ""
    description: str = ""
    due_day: int | None = None
    document_id: int | None = None
    course_id: int | None = None
    required: bool = True


_TARGETS = {
    StepKind.DOCUMENT: (
        "document_id",
        Document,
        visible_documents,
        "library document",
        "Choose the library document people acknowledge.",
    ),
    StepKind.COURSE: (
        "course_id",
        Course,
        visible_courses,
        "course",
        "Choose the course people complete.",
    ),
}


def find_targets(actor, kind: StepKind, ids) -> dict:
    """The documents or courses among ``ids`` that ``actor`` can see, by id."""
    _, model, visible, _, _ = _TARGETS[kind]
    ids = [i for i in ids if isinstance(i, int) and not isinstance(i, bool)]
    if not ids:
        return {}
    stmt = visible(actor) if actor is not None else select(model)
    return {target.id: target for target in db.session.scalars(stmt.where(model.id.in_(ids)))}


def target_problem(path: OnboardingPath, kind: StepKind, target_id, target) -> str | None:
    """Why a step of ``path`` cannot point at ``target`` (None when it can)."""
    _, _, _, what, missing = _TARGETS[kind]
    if target_id is None:
        return missing
    if target is None:
        return f"There is no {what} #{target_id} that you can see; choose one from the list."
    if target.status == DRAFT:
        return f"“{target.title}” is a draft {what}: publish it before a path points at it."
    if target.status == ARCHIVED:
        return f"“{target.title}” is archived; choose a published {what}."
    if target.partner_id not in (None, path.partner_id):
        return (
            f"“{target.title}” is local to one partner; a company-wide path can only point "
            f"at company-wide {what}s."
            if path.partner_id is None
            else f"“{target.title}” belongs to another partner; choose one of this partner's "
            f"{what}s or a company-wide one."
        )
    if kind == StepKind.DOCUMENT and not target.requires_ack:
        return (
            f"“{target.title}” does not ask readers to acknowledge it, so nobody could complete "
            "this step. Turn acknowledgement on in the library, or make the step a hands-on task."
        )
    return None


def check_step(actor, path: OnboardingPath, details: StepDetails) -> dict:
    """Messages for what is wrong with ``details`` as a step of ``path``; normalizes it.

    A document or course step left without a title takes its target's title.
    """
    errors = {}
    details.title = (details.title or "").strip()
    details.description = (details.description or "").strip()
    details.required = bool(details.required)
    day = details.due_day
    if day is None or day == "":
        errors["due_day"] = f"Give the day the step is due: 1 to {PATH_DAYS}."
    elif isinstance(day, bool) or not isinstance(day, int) or not 1 <= day <= PATH_DAYS:
        errors["due_day"] = (
            f"The due day is a whole number from 1 to {PATH_DAYS} (day 1 is the start date)."
        )
    if details.kind not in tuple(StepKind):
        errors["kind"] = (
            "Choose what the step asks: acknowledge a document, complete a course, or a "
            "hands-on task a trainer signs off."
        )
    elif details.kind == StepKind.TASK:
        details.document_id = details.course_id = None
        if not details.title:
            errors["title"] = "Give the task a title, e.g. “Shadow five live calls”."
    else:
        kind = StepKind(details.kind)
        name = _TARGETS[kind][0]
        other = "course_id" if name == "document_id" else "document_id"
        setattr(details, other, None)
        target_id = getattr(details, name)
        target = find_targets(actor, kind, [target_id]).get(target_id)
        if problem := target_problem(path, kind, target_id, target):
            errors[name] = problem
        elif not details.title:
            details.title = target.title
    if len(details.title) > MAX_TITLE:
        errors["title"] = f"Titles are at most {MAX_TITLE} characters."
    if len(details.description) > MAX_DESCRIPTION:
        errors["description"] = f"Keep the description under {MAX_DESCRIPTION:,} characters."
    return errors


def publish_problems(actor, path: OnboardingPath, steps: list[PathStep]) -> list[str]:
    """What stops the draft's steps from being published (targets changed since added)."""
    problems = []
    for kind in (StepKind.DOCUMENT, StepKind.COURSE):
        name = _TARGETS[kind][0]
        pointing = [step for step in steps if step.kind == kind]
        targets = find_targets(actor, kind, [getattr(step, name) for step in pointing])
        for step in pointing:
            target_id = getattr(step, name)
            if problem := target_problem(path, kind, target_id, targets.get(target_id)):
                problems.append(f"Step “{step.title}” (day {step.due_day}): {problem}")
    return problems

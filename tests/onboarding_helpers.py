"""Shared by the onboarding tests: a path with its steps, built through the services.

Call these inside an app context (``with app.app_context():`` or ``ctx(app, user)``); they
commit and return attached objects.
"""

from sqlalchemy import func, select

from portal.audiences.services import AudienceSpec
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.onboarding.models import OnboardingPath, PathStep, PathVersion
from portal.onboarding.paths import (
    PathDetails,
    StepDetails,
    add_step,
    create_path,
    draft_of,
    publish_path,
)
from portal.people.models import User


def step_details(step: dict) -> StepDetails:
    """StepDetails from a dict such as {"kind": "task", "title": "Shadow five calls",
    "due_day": 5}; "document" and "course" may be objects or ids (kind defaults to task)."""
    step = dict(step)
    for name in ("document", "course"):
        if name in step:
            target = step.pop(name)
            step[f"{name}_id"] = getattr(target, "id", target)
    step.setdefault("kind", "task")
    return StepDetails(**step)


def path_with_steps(
    author,
    steps: list[dict],
    *,
    audience=None,
    publish=True,
    title="Agent 90-day path",
    note="",
) -> OnboardingPath:
    """A path by ``author`` (a User, or None: a company path made by an operator command)
    with ``steps``, published as version 1 unless ``publish=False`` (then a draft).

    ``audience`` is an AudienceSpec or a dict of its fields; documents in steps must be
    published and ask for acknowledgement (``make_document(..., requires_ack=True)``).
    """
    actor = db.session.get(User, author.id) if author is not None else None
    if isinstance(audience, dict):
        audience = AudienceSpec(**audience)
    path = create_path(actor, PathDetails(title=title, audience=audience or AudienceSpec()))
    version = draft_of(path)
    for step in steps:
        add_step(actor, version, step_details(step))
    if publish:
        publish_path(actor, path, note)
    db.session.commit()
    return path


def path_rows() -> tuple:
    """How many paths, versions, steps and audit events there are (to prove nothing changed)."""
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (OnboardingPath, PathVersion, PathStep, AuditEvent)
    )

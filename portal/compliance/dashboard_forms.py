"""The compliance filters: what they may offer a viewer, and the URL arguments read strictly.

A partner, team or item outside what the viewer may see answers 404, like an id that does not
exist; so does an id that is not a number. Filters that make no sense together (a reversed date
range, a team of another partner than the one chosen) give a message and nothing is computed.
"""

from dataclasses import dataclass
from datetime import date

from flask import abort
from sqlalchemy import String, exists, literal, select, union_all
from sqlalchemy.orm import joinedload

from portal.access.visibility import (
    visible_announcements,
    visible_courses,
    visible_documents,
    visible_partners,
    visible_teams,
)
from portal.announcements.models import Announcement, AnnouncementStatus
from portal.compliance.dashboard import SORTS, Filters
from portal.compliance.obligations import KIND_LABELS, KINDS
from portal.extensions import db
from portal.library.models import Document, DocumentStatus
from portal.onboarding.board import paths_for
from portal.onboarding.models import OnboardingPath
from portal.partners.models import Partner, Team
from portal.training.models import Course, Requirement, RequirementKind

MAX_DUE_WITHIN = 3650
MAX_ID = 2**31 - 1


@dataclass
class Choices:
    """What the filters offer: active partners, their teams, required items (kind, id, title)."""

    partners: list
    teams: list
    items: list

    def partner(self, partner_id):
        return next((p for p in self.partners if p.id == partner_id), None)

    def team(self, team_id):
        return next((t for t in self.teams if t.id == team_id), None)

    def item(self, kind, item_id):
        return next((i for i in self.items if (i.kind, i.id) == (kind, item_id)), None)


def _required_items(viewer, now):
    """SQL: (kind, id, title) of every item the viewer may see that can be required."""

    def columns(kind, model):
        return (
            literal(kind, String).label("kind"),
            model.id.label("id"),
            model.title.label("title"),
        )

    documents = (
        visible_documents(viewer)
        .where(Document.status == DocumentStatus.PUBLISHED.value, Document.requires_ack)
        .with_only_columns(*columns("document", Document))
    )
    courses = (
        visible_courses(viewer)
        .where(
            exists().where(
                Requirement.course_id == Course.id,
                Requirement.kind == RequirementKind.COURSE.value,
                Requirement.withdrawn_at.is_(None),
            )
        )
        .with_only_columns(*columns("course", Course))
    )
    announcements = (
        visible_announcements(viewer, now)
        .where(
            Announcement.status == AnnouncementStatus.PUBLISHED.value,
            Announcement.requires_ack,
            Announcement.publish_at <= now,
        )
        .with_only_columns(*columns("announcement", Announcement))
    )
    paths = paths_for(viewer).order_by(None).with_only_columns(*columns("path", OnboardingPath))
    return union_all(documents, courses, announcements, paths).subquery("required_item")


def load_choices(viewer, now) -> Choices:
    """The filter choices (three statements, whatever the number of people)."""
    partners = db.session.scalars(
        visible_partners(viewer).where(Partner.active).order_by(Partner.name, Partner.id)
    ).all()
    teams = db.session.scalars(
        visible_teams(viewer)
        .join(Team.partner)
        .where(Partner.active)
        .options(joinedload(Team.partner))
        .order_by(Partner.name, Team.name, Team.id)
    ).all()
    items = _required_items(viewer, now)
    order = {kind: i for i, kind in enumerate(KINDS)}
    rows = db.session.execute(select(items).order_by(items.c.title, items.c.id)).all()
    return Choices(partners, teams, sorted(rows, key=lambda row: order[row.kind]))


def _id(args, name):
    """An id argument: None when absent or empty; 404 when it is not a plausible id."""
    value = (args.get(name) or "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) > MAX_ID:
        abort(404)
    return int(value)


def _date(args, name, label, errors):
    value = (args.get(name) or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append(f"“{value}” is not a date; give the {label} date as YYYY-MM-DD.")
        return None


def _item(args, errors):
    """(kind, item id) from ``kind`` and ``item`` ('12', or 'course:12' from the item list)."""
    kind = (args.get("kind") or "").strip() or None
    item = (args.get("item") or "").strip()
    if ":" in item:
        item_kind, item = item.split(":", 1)
        if kind is not None and kind != item_kind:
            errors.append("The item chosen is not of the kind chosen; choose one or the other.")
        kind = item_kind
    if kind is not None and kind not in KINDS:
        abort(404)
    item_id = _id({"item": item}, "item")
    if item_id is not None and kind is None:
        abort(404)  # an item number means nothing without its kind
    return kind, item_id


def _due_within(args, errors):
    value = (args.get("due_within") or "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) > MAX_DUE_WITHIN:
        errors.append(f"“Due within” takes a number of days from 0 to {MAX_DUE_WITHIN}.")
        return None
    return int(value)


def parse_filters(args, viewer, choices: Choices, statuses) -> tuple[Filters, list[str]]:
    """The filters asked for in ``args`` and the messages about them (empty when usable).

    404 for a partner, team or item the viewer may not see, or an id that is not a number.
    """
    errors = []
    partner_id = _id(args, "partner")
    if partner_id is not None and choices.partner(partner_id) is None:
        abort(404)
    team_arg = (args.get("team") or "").strip()
    no_team = team_arg == "none"
    team_id = None if no_team else _id(args, "team")
    if team_id is not None:
        team = choices.team(team_id)
        if team is None:
            abort(404)
        if partner_id is not None and team.partner_id != partner_id:
            errors.append(
                f"{team.name} is a team of {team.partner.name}, not of "
                f"{choices.partner(partner_id).name}; choose one of its teams or all teams."
            )
        elif viewer.is_staff:
            partner_id = team.partner_id
    kind, item_id = _item(args, errors)
    if item_id is not None and choices.item(kind, item_id) is None:
        abort(404)
    status = args.get("status") if args.get("status") in statuses else None
    due_within = _due_within(args, errors)
    due_from = _date(args, "due_from", "first due", errors)
    due_to = _date(args, "due_to", "last due", errors)
    if due_from and due_to and due_from > due_to:
        errors.append(
            f"The due date range is reversed: “from” ({due_from.isoformat()}) is after "
            f"“to” ({due_to.isoformat()}). Swap them to see the report."
        )
    filters = Filters(
        partner_id, team_id, no_team, kind, item_id, status, due_within, due_from, due_to
    )
    return filters, errors


def parse_sort(args) -> str:
    return args.get("sort") if args.get("sort") in SORTS else "due"


def item_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind)

"""The world of the access tests: two competing partners, their objects, and the URL walk.

Every URL argument that names an object maps to builders of one partner's objects of that
kind (``ID_ARGUMENTS``), so the walk in ``test_access`` can fill any id route with another
partner's ids.
"""

import itertools
from types import SimpleNamespace

import pytest
from sqlalchemy import select
from werkzeug.routing import IntegerConverter

from portal.extensions import db
from portal.onboarding.models import PathStep

# --- the world: two competing partners ------------------------------------------------------


@pytest.fixture
def world(app, make_partner, make_team, make_user):
    """Partners A and B, each with a busy team, an empty team, a trainer and agents; plus staff."""
    w = SimpleNamespace(app=app)
    for key, label in (("a", "Alpha"), ("b", "Bravo")):
        partner = make_partner(slug=f"{label.lower()}-bpo", name=f"{label} BPO")
        team = make_team(partner=partner, name=f"{label} Billing Queue")
        empty_team = make_team(partner=partner, name=f"{label} Empty Desk")
        trainer = make_user(
            role="trainer",
            partner=partner,
            team=team,
            name=f"{label} Trainer Tess",
            email=f"trainer@{label.lower()}.example",
        )
        agents = [
            make_user(
                role="agent",
                partner=partner,
                team=team,
                name=f"{label} Agent {n}",
                email=f"agent{n}@{label.lower()}.example",
            )
            for n in range(1, 3)
        ]
        invited = make_user(
            role="agent",
            partner=partner,
            team=team,
            password=None,
            name=f"{label} Invitee Ivo",
            email=f"invitee@{label.lower()}.example",
        )
        setattr(
            w,
            key,
            SimpleNamespace(
                partner=partner,
                team=team,
                empty_team=empty_team,
                trainer=trainer,
                agent=agents[0],
                agents=agents,
                invited=invited,
                people=[trainer, *agents, invited],
            ),
        )
    w.admin = make_user(role="admin", name="Ada Admin", email="admin@company.example")
    w.prm = make_user(role="prm", name="Pia Prm", email="prm@company.example")
    return w


def _roster_import(app, side):
    """A roster import of ``side``'s partner (only built when an import route exists)."""
    from portal.roster.models import RosterImport

    with app.app_context():
        row = RosterImport(
            partner_id=side.partner.id,
            uploaded_by_id=side.trainer.id,
            filename="roster.csv",
            content="email,name\n",
            rows=[],
            summary={},
        )
        db.session.add(row)
        db.session.commit()
        return row.id


def build_document(app, side):
    """A published partner-local document of ``side`` with one attachment (built once)."""
    if not hasattr(side, "document_id"):
        import io

        from portal.attachments.services import add_attachment
        from portal.audiences.services import AudienceSpec
        from portal.library import services
        from portal.people.models import User

        with app.app_context():
            trainer = db.session.get(User, side.trainer.id)
            document = services.create_document(
                trainer,
                services.DocumentDetails(
                    title=f"{side.partner.name} floor rules",
                    kind="playbook",
                    requires_ack=True,
                    audience=AudienceSpec(),
                ),
                body="# Floor rules\n\nBe kind.",
            )
            services.publish(trainer, document)
            attachment = add_attachment(
                trainer, document, "notes.txt", io.BytesIO(b"Floor notes\n")
            )
            db.session.commit()
            side.document_id, side.attachment_id = document.id, attachment.id
    return side.document_id


def _attachment(app, side):
    build_document(app, side)
    return side.attachment_id


def _announcement(app, side):
    """A live partner-local announcement of ``side`` asking for acknowledgement (built once).

    Publishing it notifies ``side``'s people, which gives the walk their notifications and
    queued emails too.
    """
    if not hasattr(side, "announcement_id"):
        from portal.announcements import services
        from portal.people.models import User

        with app.app_context():
            trainer = db.session.get(User, side.trainer.id)
            announcement = services.create_announcement(
                trainer,
                services.AnnouncementDetails(
                    title=f"{side.partner.name} floor news", body="Be kind.", requires_ack=True
                ),
            )
            services.publish(trainer, announcement)
            db.session.commit()
            side.announcement_id = announcement.id
    return side.announcement_id


def _notifications(app, side):
    from portal.notifications.models import Notification

    _announcement(app, side)
    with app.app_context():
        ids = db.session.scalars(
            select(Notification.id).where(Notification.user_id == side.agent.id)
        ).all()
    assert ids, "publishing the announcement should have notified the agent"
    return ids


def _outbox_messages(app, side):
    from portal.mail.models import OutboxMessage

    _announcement(app, side)
    with app.app_context():
        ids = db.session.scalars(
            select(OutboxMessage.id).where(OutboxMessage.user_id == side.agent.id)
        ).all()
    assert ids, "a required announcement should have queued an email to the agent"
    return ids


def _training(app, side):
    """A published partner-local course of ``side`` with a lesson and a quiz question, a
    requirement of it, and the trainer's failed and passed attempts and completion (built once).
    """
    if not hasattr(side, "course_id"):
        from portal.people.models import User
        from portal.training import quizzes, taking
        from portal.training.requirements import RequirementDetails, create_requirement
        from portal.training.services import CourseDetails, add_lesson, create_course
        from portal.training.services import publish_course as publish

        with app.app_context():
            trainer = db.session.get(User, side.trainer.id)
            course = create_course(
                trainer,
                CourseDetails(
                    title=f"{side.partner.name} floor course", has_quiz=True, pass_mark=100
                ),
            )
            lesson = add_lesson(trainer, course, title="Welcome", body="Be kind.")
            question = quizzes.add_question(
                trainer, course, text="Kind?", kind="single", choices=[("Yes", True), ("No", False)]
            )
            publish(trainer, course)
            requirement = create_requirement(
                trainer,
                RequirementDetails(
                    kind="course", target_id=course.id, due_rule="after_hire", due_days=14
                ),
            )
            taking.complete_lesson(trainer, course, lesson)
            attempts = []
            for right in (False, True):
                attempt = taking.start_attempt(trainer, course)
                (asked,) = attempt.questions
                key = next(c["key"] for c in asked["choices"] if c["correct"] == right)
                taking.submit_attempt(trainer, attempt, {asked["key"]: [key]})
                attempts.append(attempt.id)
            db.session.commit()
            side.course_id, side.lesson_id, side.question_id = course.id, lesson.id, question.id
            side.requirement_id, side.attempt_ids = requirement.id, attempts
            side.completion_id = taking.progress(trainer, course).completion.id
    return side


def _onboarding(app, side):
    """A published partner-local onboarding path of ``side`` with a hands-on step, and the
    agent enrolled on it by hand with the step signed off (built once)."""
    if not hasattr(side, "path_id"):
        from portal.core.clock import utcnow
        from portal.onboarding.enrolment import enrol_by_hand
        from portal.onboarding.progress import sign_off
        from portal.people.models import User
        from tests.onboarding_helpers import path_with_steps

        with app.app_context():
            trainer = db.session.get(User, side.trainer.id)
            path = path_with_steps(
                trainer,
                [{"kind": "task", "title": "Shadow five calls", "due_day": 5}],
                title=f"{side.partner.name} new hire path",
            )
            (step,) = db.session.scalars(
                select(PathStep).where(PathStep.version_id == path.current_version_id)
            ).all()
            agent = db.session.get(User, side.agent.id)
            enrolment = enrol_by_hand(
                trainer, agent, path, start=utcnow().date(), reason="Joined the floor"
            )
            sign_off(trainer, enrolment, step, comment="Shadowed five calls")
            db.session.commit()
            side.path_id, side.step_id, side.enrolment_id = path.id, step.id, enrolment.id
    return side


# Every URL argument that names an object, mapped to the ids of one partner's objects of that
# kind. A route with an id argument not listed here fails the walk until someone adds it.
ID_ARGUMENTS = {
    "partner_id": lambda app, side: [side.partner.id],
    "team_id": lambda app, side: [side.team.id, side.empty_team.id],
    "person_id": lambda app, side: [p.id for p in side.people],
    "import_id": lambda app, side: [_roster_import(app, side)],
    "document_id": lambda app, side: [build_document(app, side)],
    "attachment_id": lambda app, side: [_attachment(app, side)],
    "number": lambda app, side: [1],  # a version number within the document
    "announcement_id": lambda app, side: [_announcement(app, side)],
    "notification_id": _notifications,
    "message_id": _outbox_messages,
    "course_id": lambda app, side: [_training(app, side).course_id],
    "lesson_id": lambda app, side: [_training(app, side).lesson_id],
    "question_id": lambda app, side: [_training(app, side).question_id],
    "requirement_id": lambda app, side: [_training(app, side).requirement_id],
    "attempt_id": lambda app, side: _training(app, side).attempt_ids,
    "completion_id": lambda app, side: [_training(app, side).completion_id],
    "path_id": lambda app, side: [_onboarding(app, side).path_id],
    "step_id": lambda app, side: [_onboarding(app, side).step_id],
    "enrolment_id": lambda app, side: [_onboarding(app, side).enrolment_id],
}
# Other URL arguments the walk fills with a fixed value.
OTHER_ARGUMENTS = {"filename": "notes.txt"}

WALKED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# What a POST in the walk sends: enough of every form that a leak would change something.
HIJACK = {
    "name": "Hijacked",
    "slug": "hijacked",
    "role": "trainer",
    "active": "0",
    "language": "en",
    "timezone": "UTC",
}


def id_rules(app):
    """Every URL rule with an integer argument: (rule, names of its int arguments)."""
    rules = []
    for rule in app.url_map.iter_rules():
        int_args = [
            name for name in rule.arguments if isinstance(rule._converters[name], IntegerConverter)
        ]
        if int_args:
            rules.append((rule, int_args))
    return sorted(rules, key=lambda item: item[0].rule)


def unclassified(app) -> list[str]:
    return sorted(
        f"{rule.rule} ({name})"
        for rule, names in id_rules(app)
        for name in names
        if name not in ID_ARGUMENTS
    )


def urls_for(app, side, rule, names):
    """Every URL of ``rule`` filled with ``side``'s objects."""
    choices = [ID_ARGUMENTS[name](app, side) for name in names]
    others = {name: OTHER_ARGUMENTS[name] for name in rule.arguments if name not in names}
    return [
        rule.build({**others, **dict(zip(names, ids, strict=True))})[1]
        for ids in itertools.product(*choices)
    ]


def snapshot(app) -> dict:
    """Every row of every table, to prove a refused request changed nothing."""
    with app.app_context():
        return {
            table.name: db.session.execute(select(table).order_by(*table.primary_key.columns)).all()
            for table in db.metadata.sorted_tables
        }

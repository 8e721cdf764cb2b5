"""Writing onboarding paths through the services: versions, steps, checks, who may write."""

from datetime import date
from functools import partial

import pytest
from sqlalchemy import select

from portal.audiences.services import AudienceSpec
from portal.audit.models import AuditEvent
from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.library import services as library
from portal.library.models import Document
from portal.onboarding import paths
from portal.onboarding.models import (
    DEFAULT_PHASE_NAMES,
    Enrolment,
    PathStep,
    PathVersion,
)
from portal.people.models import User
from portal.training.services import archive_course, publish_course
from tests.onboarding_helpers import path_rows, path_with_steps, step_details
from tests.training_helpers import course_by, ctx, quiz_course

STEPS = [
    {"kind": "task", "title": "Meet your partner manager", "due_day": 3},
    {"kind": "task", "title": "Shadow five live calls", "due_day": 5},
    {"kind": "task", "title": "First QA calibration session", "due_day": 45, "required": False},
]


def refused(call, field=""):
    """Run ``call``, expect InvalidInput that wrote nothing; return the field's message."""
    before = path_rows()
    with pytest.raises(InvalidInput) as refusal:
        call()
    assert not (db.session.new or db.session.dirty or db.session.deleted)
    assert path_rows() == before
    db.session.rollback()
    return refusal.value.errors[field]


def _titles(version):
    return [step.title for step in paths.steps_of(version)]


def test_a_new_path_is_a_version_1_draft_local_to_a_trainers_partner(app, make_user):
    """create_path makes the path and an empty version 1 draft with the default phase names;
    a trainer's path belongs to their partner, a PRM's is company-wide."""
    trainer, prm = make_user(role="trainer"), make_user(role="prm")
    with ctx(app, trainer) as actor:
        local = path_with_steps(actor, [], publish=False, title="  Site path ")
        draft = paths.draft_of(local)
        assert (local.title, local.status, local.partner_id) == (
            "Site path",
            "draft",
            trainer.partner_id,
        )
        assert (draft.number, draft.phase_names, draft.is_draft) == (
            1,
            list(DEFAULT_PHASE_NAMES),
            True,
        )
        assert local.current_version_id is None
        assert db.session.scalars(select(AuditEvent.action)).all()[-1] == (
            "onboarding.path_created"
        )
    with ctx(app, prm) as actor:
        assert path_with_steps(actor, [], publish=False).partner_id is None


def test_publish_freeze_and_a_new_version_leave_enrolments_on_their_version(app, make_user):
    """Publishing v1 freezes it; v2 starts as a copy, changes, is published; someone enrolled
    on v1 keeps v1's steps, and v1 itself never changed."""
    prm = make_user(role="prm")
    agent = make_user(role="agent", hire_date=date(2019, 3, 4))
    with ctx(app, prm) as actor:
        path = path_with_steps(actor, STEPS, note="First version")
        v1 = db.session.get(PathVersion, path.current_version_id)
        assert (path.status, v1.number, v1.note, v1.published_by_id) == (
            "published",
            1,
            "First version",
            prm.id,
        )
        assert v1.published_at is not None and paths.draft_of(path) is None
        db.session.add(
            Enrolment(user_id=agent.id, path_id=path.id, version_id=v1.id, start_date=date.today())
        )
        db.session.commit()
        v1_steps = [(s.id, s.title, s.due_day) for s in paths.steps_of(v1)]

        v2 = paths.start_draft(actor, path)
        db.session.commit()
        assert (v2.number, v2.is_draft) == (2, True)
        assert _titles(v2) == _titles(v1)
        assert {s.id for s in paths.steps_of(v2)}.isdisjoint(s[0] for s in v1_steps)
        message = refused(lambda: paths.start_draft(actor, path))
        assert message == "Version 2 is already a draft: edit it."
        shadow = paths.steps_of(v2)[1]
        paths.update_step(actor, shadow, step_details({"title": "Shadow ten calls", "due_day": 8}))
        paths.remove_step(actor, paths.steps_of(v2)[0])
        paths.add_step(actor, v2, step_details({"title": "Handle calls alone", "due_day": 70}))
        paths.set_phase_names(actor, v2, ["Learn", "Practise", "Own it"])
        paths.publish_path(actor, path, "Ten calls; meeting dropped")
        db.session.commit()

        assert path.current_version_id == v2.id
        assert _titles(v2) == [
            "Shadow ten calls",
            "First QA calibration session",
            "Handle calls alone",
        ]
        assert [(s.id, s.title, s.due_day) for s in paths.steps_of(v1)] == v1_steps
        assert v1.phase_names == list(DEFAULT_PHASE_NAMES)
        enrolment = db.session.scalars(select(Enrolment).where(Enrolment.user_id == agent.id)).one()
        assert enrolment.version_id == v1.id
        on_path = db.session.scalars(
            select(PathStep.title)
            .where(PathStep.version_id == enrolment.version_id)
            .order_by(PathStep.due_day, PathStep.position)
        ).all()
        assert on_path == [title for _, title, _ in v1_steps]


def test_publishing_enrols_the_new_hires_in_the_audience(app, make_user, make_team):
    """A recent hire in the audience is enrolled on the published version; others are not."""
    team = make_team()
    recent = date.today()
    hire = make_user(role="agent", team=team, hire_date=recent)
    outsider = make_user(role="agent", hire_date=recent)
    with ctx(app, make_user(role="prm")) as actor:
        path = path_with_steps(actor, STEPS, audience={"team_ids": [team.id]})
        enrolled = db.session.scalars(select(Enrolment).where(Enrolment.path_id == path.id)).all()
        assert [(e.user_id, e.version_id) for e in enrolled] == [(hire.id, path.current_version_id)]
        assert outsider.id not in {e.user_id for e in enrolled}


def test_steps_are_ordered_by_due_day_then_as_added_and_titles_default_to_the_target(
    app, make_user, make_document
):
    """Same-day steps keep the order they were added in; an empty title takes the document's
    or course's own."""
    prm = make_user(role="prm")
    document = make_document("Brand voice", requires_ack=True)
    with ctx(app, prm) as actor:
        course = quiz_course(actor, "Refunds 101")
        publish_course(actor, course)
        path = path_with_steps(
            actor,
            [
                {"title": "Later", "due_day": 10},
                {"kind": "document", "document": document, "due_day": 2},
                {"kind": "course", "course": course, "due_day": 2, "title": ""},
                {"title": "Same day, added last", "due_day": 2},
            ],
            publish=False,
        )
        steps = paths.steps_of(paths.draft_of(path))
        assert [s.title for s in steps] == [
            "Brand voice",
            "Refunds 101",
            "Same day, added last",
            "Later",
        ]
        assert (steps[0].document_id, steps[1].course_id) == (document.id, course.id)
        assert [s.phase for s in steps] == [0, 0, 0, 0]


@pytest.mark.parametrize(
    ("step", "field", "message"),
    [
        ({"due_day": 0}, "due_day", "The due day is a whole number from 1 to 90"),
        ({"due_day": 91}, "due_day", "The due day is a whole number from 1 to 90"),
        ({"due_day": "5"}, "due_day", "The due day is a whole number from 1 to 90"),
        ({"due_day": None}, "due_day", "Give the day the step is due: 1 to 90."),
        ({"title": ""}, "title", "Give the task a title"),
        ({"title": "x" * 201}, "title", "Titles are at most 200 characters."),
        ({"kind": "quiz"}, "kind", "Choose what the step asks"),
        ({"kind": "document"}, "document_id", "Choose the library document people acknowledge."),
        ({"kind": "course"}, "course_id", "Choose the course people complete."),
        ({"kind": "document", "document_id": 999}, "document_id", "no library document #999"),
        ({"kind": "course", "course_id": 999}, "course_id", "There is no course #999"),
    ],
)
def test_bad_steps_are_refused_and_write_nothing(app, make_user, step, field, message):
    """Each bad step gets its message on the field it names; nothing is written."""
    with ctx(app, make_user(role="prm")) as actor:
        draft = paths.draft_of(path_with_steps(actor, [], publish=False))
        details = step_details({"title": "Shadow calls", "due_day": 5, **step})
        assert message in refused(lambda: paths.add_step(actor, draft, details), field)


def test_documents_must_be_published_visible_company_wide_and_ask_for_acknowledgement(
    app, make_user, make_document
):
    """A draft, archived, unseen, partner-local or acknowledgement-free document is refused,
    each with its own reason."""
    trainer = make_user(role="trainer")
    stranger = make_user(role="trainer")
    draft_doc = make_document("Draft doc", requires_ack=True, publish=False)
    archived = make_document("Old refunds", requires_ack=True)
    no_ack = make_document("FYI", requires_ack=False)
    local = make_document("Site rules", author=trainer, requires_ack=True)
    theirs = make_document("Their rules", author=stranger, requires_ack=True)
    with app.app_context():
        library.archive(None, db.session.get(Document, archived.id))
        db.session.commit()
    cases = [
        (None, draft_doc, "“Draft doc” is a draft library document: publish it"),
        (None, archived, "“Old refunds” is archived; choose a published library document."),
        (None, no_ack, "“FYI” does not ask readers to acknowledge it"),
        (None, local, "“Site rules” is local to one partner; a company-wide path"),
        (trainer, theirs, f"There is no library document #{theirs.id} that you can see"),
    ]
    for author, document, message in cases:
        with ctx(app, author or make_user(role="prm")) as actor:
            draft = paths.draft_of(path_with_steps(actor, [], publish=False))
            details = step_details({"kind": "document", "document": document, "due_day": 4})
            assert message in refused(partial(paths.add_step, actor, draft, details), "document_id")
    with ctx(app, trainer) as actor:
        draft = paths.draft_of(path_with_steps(actor, [], publish=False))
        step = paths.add_step(
            actor, draft, step_details({"kind": "document", "document": local, "due_day": 4})
        )
        assert step.title == "Site rules"


def test_courses_must_be_published_and_visible(app, make_user):
    """A draft, archived or another partner's course is refused with its reason."""
    prm, stranger, trainer = (
        make_user(role="prm"),
        make_user(role="trainer"),
        make_user(role="trainer"),
    )
    with ctx(app, prm) as actor:
        draft_id = course_by(actor, "Draft course").id
        old = quiz_course(actor, "Old course")
        publish_course(actor, old)
        archive_course(actor, old)
        db.session.commit()
        old_id = old.id
    with ctx(app, stranger) as actor:
        theirs = quiz_course(actor, "Their course")
        publish_course(actor, theirs)
        db.session.commit()
        theirs_id = theirs.id
    cases = [
        (prm, draft_id, "“Draft course” is a draft course: publish it"),
        (prm, old_id, "“Old course” is archived; choose a published course."),
        (trainer, theirs_id, f"There is no course #{theirs_id} that you can see"),
    ]
    for author, course_id, message in cases:
        with ctx(app, author) as actor:
            draft = paths.draft_of(path_with_steps(actor, [], publish=False))
            details = step_details({"kind": "course", "course": course_id, "due_day": 4})
            assert message in refused(partial(paths.add_step, actor, draft, details), "course_id")


def test_a_published_version_cannot_change(app, make_user):
    """Steps and phase names of a published version are refused: edit the draft."""
    with ctx(app, make_user(role="prm")) as actor:
        path = path_with_steps(actor, STEPS)
        v1 = db.session.get(PathVersion, path.current_version_id)
        step = paths.steps_of(v1)[0]
        new = step_details({"title": "Sneaked in", "due_day": 9})
        expected = "Version 1 is published and cannot change: start version 2 to change it."
        assert expected in refused(lambda: paths.add_step(actor, v1, new))
        assert expected in refused(lambda: paths.update_step(actor, step, new))
        assert expected in refused(lambda: paths.remove_step(actor, step))
        assert expected in refused(lambda: paths.set_phase_names(actor, v1, ["A", "B", "C"]))
        paths.start_draft(actor, path)
        db.session.commit()
        message = refused(lambda: paths.update_step(actor, step, new))
        assert "edit version 2, the draft, instead" in message


def test_publishing_needs_steps_a_short_note_and_targets_still_published(
    app, make_user, make_document
):
    """No steps, a long note, or a document archived since it was added stop publishing."""
    document = make_document("Refund policy", requires_ack=True)
    with ctx(app, make_user(role="prm")) as actor:
        path = path_with_steps(actor, [], publish=False)
        assert refused(lambda: paths.publish_path(actor, path, "")) == (
            "Add at least one step before publishing version 1."
        )
        paths.add_step(actor, paths.draft_of(path), step_details(STEPS[0]))
        paths.add_step(
            actor,
            paths.draft_of(path),
            step_details({"kind": "document", "document": document, "due_day": 6}),
        )
        db.session.commit()
        note = "x" * 301
        assert "under 300" in refused(lambda: paths.publish_path(actor, path, note), "note")
        library.archive(None, db.session.get(Document, document.id))
        db.session.commit()
        message = refused(lambda: paths.publish_path(actor, path, ""))
        assert "Step “Refund policy” (day 6): “Refund policy” is archived" in message


def test_phase_names_are_checked(app, make_user):
    """Three distinct names of at most 60 characters; the days they cover stay."""
    with ctx(app, make_user(role="prm")) as actor:
        draft = paths.draft_of(path_with_steps(actor, [], publish=False))
        set_names = paths.set_phase_names
        assert refused(lambda: set_names(actor, draft, ["A", "", "C"]), "phase_2") == (
            "Name phase 2 (days 31-60)."
        )
        assert "at most 60" in refused(
            lambda: set_names(actor, draft, ["A", "B", "c" * 61]), "phase_3"
        )
        assert refused(lambda: set_names(actor, draft, ["Learn", "learn", "C"]), "phase_2") == (
            "Give each phase its own name."
        )
        set_names(actor, draft, [" Learn ", "Practise", "Own it"])
        assert draft.phase_names == ["Learn", "Practise", "Own it"]


def test_who_may_write_which_path(app, make_user, make_team):
    """Staff edit every path; a trainer their partner's only, addressed to its people only;
    agents none."""
    people = {role: make_user(role=role) for role in ("prm", "trainer", "agent", "admin")}
    stranger_id = make_user(role="trainer").id
    other_team = make_team()
    cannot = "You cannot edit this onboarding path."
    with app.app_context():
        prm, trainer, agent, admin = (db.session.get(User, u.id) for u in people.values())
        stranger = db.session.get(User, stranger_id)
        company = path_with_steps(prm, STEPS)
        local = path_with_steps(trainer, STEPS, publish=False)
        assert paths.can_edit_path(trainer, local) and not paths.can_edit_path(trainer, company)
        assert paths.can_edit_path(admin, local) and paths.can_edit_path(prm, local)
        bad = paths.PathDetails(title="Mine", audience=AudienceSpec(team_ids=[other_team.id]))
        assert refused(lambda: paths.create_path(trainer, bad), "audience_teams") == (
            "Partner-local content can only name its own partner's teams."
        )
        assert refused(lambda: paths.start_draft(trainer, company)) == cannot
        assert not paths.can_edit_path(stranger, local)
        assert refused(lambda: paths.archive_path(stranger, local)) == cannot
        assert not paths.can_edit_path(agent, local)
        assert refused(lambda: paths.create_path(agent, paths.PathDetails(title="Mine"))) == cannot


def test_archive_and_restore(app, make_user):
    """An archived path refuses edits until restored; it comes back published if it was."""
    with ctx(app, make_user(role="prm")) as actor:
        published = path_with_steps(actor, STEPS)
        never = path_with_steps(actor, STEPS, publish=False, title="Unfinished")
        for path in (published, never):
            paths.archive_path(actor, path)
        db.session.commit()
        assert refused(lambda: paths.start_draft(actor, published)) == (
            "This path is archived. Restore it before editing."
        )
        assert refused(lambda: paths.archive_path(actor, published)) == (
            "This path is already archived."
        )
        for path in (published, never):
            paths.restore_path(actor, path)
        db.session.commit()
        assert (published.status, never.status) == ("published", "draft")
        assert published.archived_at is None
        assert refused(lambda: paths.restore_path(actor, never)) == (
            "Only archived paths can be restored."
        )

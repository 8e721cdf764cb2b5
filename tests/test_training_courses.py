"""Writing courses: details and lessons; refusals change nothing."""

import pytest
from sqlalchemy import select

from portal.audiences.services import AudienceSpec
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.people.models import User
from portal.training.models import (
    Course,
    CourseStatus,
    Lesson,
)
from portal.training.services import (
    CourseDetails,
    active_lessons,
    add_lesson,
    can_edit_course,
    create_course,
    remove_lesson,
    reorder_lessons,
    update_course,
    update_lesson,
)
from tests.training_helpers import course_by, ctx, refused


def test_staff_create_company_courses_with_a_slug_and_an_audit_record(app, make_user):
    """A PRM's course is a company-wide draft, slugged from its title, and audited."""
    prm = make_user(role="prm")
    with ctx(app, prm) as actor:
        course = course_by(actor, "Refunds 101 (2027)", estimated_minutes=20, validity_days=365)
        assert (course.slug, course.status, course.partner_id) == (
            "refunds-101-2027",
            CourseStatus.DRAFT,
            None,
        )
        assert course.version == 0 and course.owner_id == prm.id
        event = db.session.scalars(select(AuditEvent)).one()
        assert (event.action, event.target_id) == ("training.course_created", course.id)


@pytest.mark.parametrize(
    ("details", "field", "words"),
    [
        ({"title": "  "}, "title", "Give the course a title."),
        ({"pass_mark": 120}, "pass_mark", "from 0 to 100"),
        ({"pass_mark": -1}, "pass_mark", "from 0 to 100"),
        ({"max_attempts": 0}, "max_attempts", "above zero"),
        ({"max_attempts": -3}, "max_attempts", "above zero"),
        ({"validity_days": 0}, "validity_days", "above zero"),
        ({"estimated_minutes": -5}, "estimated_minutes", "above zero"),
        ({"slug": "Not a slug!"}, "slug", "lower-case letters"),
    ],
)
def test_bad_course_details_get_a_clear_message_and_write_nothing(
    app, make_user, details, field, words
):
    """Each bad course setting is refused with its own message, before anything is written."""
    prm = make_user(role="prm")
    with ctx(app, prm) as actor:
        details = {"title": "Refunds 101", **details}
        message = refused(lambda: create_course(actor, CourseDetails(**details)), field)
        assert words in message


def test_a_duplicate_slug_is_refused_on_create_and_update(app, make_user):
    """Two courses cannot share a slug; the message names it."""
    prm = make_user(role="prm")
    with ctx(app, prm) as actor:
        course_by(actor, "Refunds 101")
        other = course_by(actor, "Escalations")
        message = refused(lambda: create_course(actor, CourseDetails(title="Refunds 101")), "slug")
        assert message == "Another course already uses the slug “refunds-101”."
        refused(
            lambda: update_course(actor, other, CourseDetails(title="X", slug="refunds-101")),
            "slug",
        )
        assert db.session.get(Course, other.id).title == "Escalations"


def test_agents_cannot_write_courses(app, make_user):
    """An agent's attempt to create a course is refused."""
    agent = make_user(role="agent")
    with ctx(app, agent) as actor:
        assert refused(lambda: create_course(actor, CourseDetails(title="Mine"))) == (
            "You cannot edit this course."
        )


def test_a_trainers_course_is_local_to_their_partner(app, make_partner, make_team, make_user):
    """A trainer's course belongs to their partner, addresses only it, and others can't edit it."""
    alpha, bravo = make_partner(), make_partner()
    bravo_team = make_team(partner=bravo)
    trainer = make_user(role="trainer", partner=alpha)
    rival = make_user(role="trainer", partner=bravo)
    prm = make_user(role="prm")
    with ctx(app, trainer) as actor:
        message = refused(
            lambda: create_course(
                actor, CourseDetails(title="Ours", audience=AudienceSpec(partner_ids=[bravo.id]))
            ),
            "audience_partners",
        )
        assert message == "Partner-local content can only be addressed to its own partner."
        refused(
            lambda: create_course(
                actor, CourseDetails(title="Ours", audience=AudienceSpec(team_ids=[bravo_team.id]))
            ),
            "audience_teams",
        )
        course = course_by(actor, "Ours", audience=AudienceSpec(partner_ids=[alpha.id]))
        assert course.partner_id == alpha.id
        assert can_edit_course(actor, course)
        rival_user = db.session.get(User, rival.id)
        assert not can_edit_course(rival_user, course)
        assert can_edit_course(db.session.get(User, prm.id), course)
        assert refused(lambda: add_lesson(rival_user, course, title="Hijack", body="x")) == (
            "You cannot edit this course."
        )
        company = course_by(db.session.get(User, prm.id), "Company wide")
        assert not can_edit_course(actor, company)


def test_a_lesson_is_text_rendered_safely_or_a_visible_published_document(
    app, make_partner, make_user, make_document
):
    """Lessons take Markdown (sanitized) or a published library document the author can see."""
    alpha, bravo = make_partner(), make_partner()
    trainer = make_user(role="trainer", partner=alpha)
    bravo_trainer = make_user(role="trainer", partner=bravo)
    handbook = make_document("Refund handbook")
    bravo_doc = make_document("Bravo secrets", author=bravo_trainer)
    alpha_draft = make_document("Alpha draft", author=trainer, publish=False)
    with ctx(app, trainer) as actor:
        course = course_by(actor)
        text = add_lesson(actor, course, title="Intro", body="Hi <script>alert(1)</script> **you**")
        assert "<strong>you</strong>" in text.html and "<script" not in text.html
        doc_lesson = add_lesson(actor, course, title="Read", document_id=handbook.id)
        assert (doc_lesson.body, doc_lesson.document_id, doc_lesson.position) == (
            None,
            handbook.id,
            2,
        )
        db.session.commit()
        both = refused(
            lambda: add_lesson(actor, course, title="X", body="y", document_id=handbook.id), "body"
        )
        assert both == "A lesson is either its own text or a library document: give one of them."
        refused(lambda: add_lesson(actor, course, title="X", body="  "), "body")
        refused(lambda: add_lesson(actor, course, title=" ", body="y"), "title")
        hidden = refused(
            lambda: add_lesson(actor, course, title="X", document_id=bravo_doc.id), "document_id"
        )
        assert hidden == "There is no such library document, or you cannot see it."
        draft = refused(
            lambda: add_lesson(actor, course, title="X", document_id=alpha_draft.id),
            "document_id",
        )
        assert draft == "“Alpha draft” is not published; publish it first."
        update_lesson(actor, doc_lesson, title="Now text", body="# Plain")
        assert doc_lesson.document_id is None and "<h1" in doc_lesson.html


def _lessons(actor, course, count):
    lessons = [add_lesson(actor, course, title=f"L{n}", body=f"Lesson {n}") for n in range(count)]
    db.session.commit()
    return [lesson.id for lesson in lessons]


def _order(course):
    return [lesson.id for lesson in active_lessons(course)]


def test_lessons_are_reordered_and_removed(app, make_user):
    """Lessons follow the posted order; a removed lesson leaves the order but stays stored."""
    prm = make_user(role="prm")
    with ctx(app, prm) as actor:
        course = course_by(actor)
        a, b, c = _lessons(actor, course, 3)
        reorder_lessons(actor, course, [c, a, b])
        db.session.commit()
        assert _order(course) == [c, a, b]
        remove_lesson(actor, db.session.get(Lesson, a))
        db.session.commit()
        assert _order(course) == [c, b]
        assert db.session.get(Lesson, a).removed_at is not None
        assert refused(lambda: remove_lesson(actor, db.session.get(Lesson, a))) == (
            "This lesson is not part of the course any more."
        )
        reorder_lessons(actor, course, [b, c])
        assert _order(course) == [b, c]


def test_a_lesson_order_naming_other_lessons_isrefused(app, make_user):
    """Another course's lessons, a missing lesson or a repeated one: refused, order unchanged."""
    prm = make_user(role="prm")
    with ctx(app, prm) as actor:
        course, other = course_by(actor), course_by(actor, "Other")
        a, b = _lessons(actor, course, 2)
        (foreign,) = _lessons(actor, other, 1)
        message = refused(lambda: reorder_lessons(actor, course, [b, a, foreign]))
        assert message == f"The new order names lesson(s) {foreign}, which are not in this course."
        missing = refused(lambda: reorder_lessons(actor, course, [b]))
        assert missing == f"The new order leaves out lesson(s) {a}; list every one."
        twice = refused(lambda: reorder_lessons(actor, course, [b, a, b]))
        assert twice == f"The new order lists lesson(s) {b} more than once."
        refused(lambda: reorder_lessons(actor, course, ["x", a]))
        assert _order(course) == [a, b]

"""Training's foundation: who may see a course, and records that are never rewritten."""

import pytest
from sqlalchemy.exc import IntegrityError

from portal.access.visibility import visible_courses
from portal.audiences.models import Audience
from portal.audiences.services import AudienceSpec, apply_audience
from portal.audit.models import AppendOnlyError
from portal.core.clock import utcnow
from portal.extensions import db
from portal.people.models import User
from portal.training.models import Completion, Course, CourseStatus, QuizAttempt


def _course(app, slug, *, status=CourseStatus.PUBLISHED, partner=None, audience=None, **kw):
    with app.app_context():
        course = Course(
            slug=slug,
            title=slug.replace("-", " ").title(),
            status=status,
            partner_id=partner.id if partner else None,
            audience=apply_audience(Audience(), audience or AudienceSpec()),
            **kw,
        )
        db.session.add(course)
        db.session.commit()
        return course.id


def _visible(app, user):
    with app.app_context():
        viewer = db.session.get(User, user.id)
        return {c.slug for c in db.session.scalars(visible_courses(viewer))}


def test_courses_follow_the_same_visibility_rule_as_documents(
    app, make_partner, make_team, make_user
):
    """Agents see published courses for them; trainers their own drafts; no one another's."""
    alpha, bravo = make_partner(), make_partner()
    billing = make_team(partner=alpha)
    agent = make_user(role="agent", partner=alpha, team=billing)
    trainer = make_user(role="trainer", partner=alpha)
    rival = make_user(role="trainer", partner=bravo)
    prm = make_user(role="prm")
    _course(app, "brand-basics")
    _course(app, "billing-only", audience=AudienceSpec(team_ids=[billing.id]))
    _course(app, "trainers-only", audience=AudienceSpec(roles=["trainer"]))
    _course(app, "company-draft", status=CourseStatus.DRAFT)
    _course(app, "alpha-local-draft", status=CourseStatus.DRAFT, partner=alpha)
    _course(app, "bravo-local", partner=bravo)
    assert _visible(app, agent) == {"brand-basics", "billing-only"}
    assert _visible(app, trainer) == {
        "brand-basics",
        "billing-only",
        "trainers-only",
        "alpha-local-draft",
    }
    assert _visible(app, rival) == {"brand-basics", "trainers-only", "bravo-local"}
    assert len(_visible(app, prm)) == 6


def test_a_pass_mark_outside_0_to_100_is_refused_by_the_database(app):
    """Even past the forms, a course cannot hold a pass mark of 120 percent."""
    with pytest.raises(IntegrityError):
        _course(app, "impossible", has_quiz=True, pass_mark=120)


def test_completions_and_submitted_attempts_are_never_rewritten(app, make_user):
    """Completions and submitted quiz attempts refuse changes; an open attempt can be submitted."""
    agent = make_user(role="agent")
    course_id = _course(app, "privacy", has_quiz=True, pass_mark=80, validity_days=365)
    with app.app_context():
        attempt = QuizAttempt(
            user_id=agent.id,
            course_id=course_id,
            number=1,
            course_version=1,
            pass_mark=80,
            questions=[],
        )
        db.session.add(attempt)
        db.session.commit()
        attempt.answers, attempt.score, attempt.passed = {}, 100, True
        attempt.submitted_at = utcnow()
        db.session.commit()  # the one allowed change: submitting
        attempt.score = 0
        with pytest.raises(AppendOnlyError):
            db.session.commit()
        db.session.rollback()
        completion = Completion(
            user_id=agent.id,
            course_id=course_id,
            sequence=1,
            course_version=1,
            attempt_id=attempt.id,
            score=100,
            pass_mark=80,
            verification_code="ABCD-EFGH-JKLM",
        )
        db.session.add(completion)
        db.session.commit()
        completion.score = 50
        with pytest.raises(AppendOnlyError):
            db.session.commit()
        db.session.rollback()
        db.session.delete(completion)
        with pytest.raises(AppendOnlyError):
            db.session.commit()

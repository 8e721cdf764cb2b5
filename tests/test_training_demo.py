"""The demo's training: Lumen's courses with quizzes, requirements and people's records."""

from sqlalchemy import func, select

from portal.core.clock import utcnow
from portal.demo.services import NEW_HIRE_DAYS, PARTNERS, email_for, sign_in_rows
from portal.demo.training_courses import COURSES
from portal.extensions import db
from portal.people.models import User
from portal.training import overview, taking
from portal.training.models import (
    Completion,
    Course,
    Lesson,
    LessonProgress,
    Question,
    QuizAttempt,
    Requirement,
)
from portal.training.requirements import assignment_rows
from portal.training.services import active_lessons, active_questions

RECORDS = (Course, Lesson, Question, Requirement, LessonProgress, QuizAttempt, Completion)


def _load(runner):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    return result.output


def _counts():
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in RECORDS}


def _course(slug):
    return db.session.scalars(select(Course).where(Course.slug == slug)).one()


def _person(email):
    return db.session.scalars(select(User).where(User.email == email)).one()


def test_demo_load_adds_published_courses_with_quizzes_once(app, runner):
    """`demo load` publishes brand voice, escalations (3 attempts) and a yearly data-privacy
    refresher, each with lessons (one a library document) and a mixed 4-6 question quiz with
    explanations, plus an Atlas trainer's course for her team; loading again adds nothing."""
    output = _load(runner)
    assert f"Training:  {len(COURSES)} courses, {len(COURSES)} requirements" in output
    with app.app_context():
        first = _counts()
        brand, escalations, privacy = (
            _course(s)
            for s in ("brand-voice-basics", "handling-escalations", "annual-data-privacy-refresher")
        )
        for course in (brand, escalations, privacy):
            assert course.status == "published" and course.has_quiz and course.pass_mark == 80
            assert course.partner_id is None
            assert course.owner_id == _person("prm@lumen.example").id
            lessons = active_lessons(course)
            assert 2 <= len(lessons) <= 4
            assert any(x.document_id for x in lessons) and any(x.html for x in lessons)
            questions = active_questions(course)
            assert 4 <= len(questions) <= 6
            assert {q.kind for q in questions} == {"single", "multiple"}
            assert all(q.explanation for q in questions)
        assert (brand.max_attempts, escalations.max_attempts, privacy.max_attempts) == (
            None,
            3,
            None,
        )
        assert (brand.validity_days, privacy.validity_days) == (None, 365)
        local = _course("manila-billing-shift-handover")
        assert local.status == "published" and not local.has_quiz
        assert local.owner_id == _person("trainer@atlas.example").id
        requirements = db.session.scalars(select(Requirement)).all()
        assert sum(r.partner_id == local.partner_id for r in requirements) == 1

    again = _load(runner)
    assert "Training:  0 courses, 0 requirements, 0 quiz attempts and 0 completions" in again
    assert "nothing changed" in again
    with app.app_context():
        assert _counts() == first


def test_demo_people_are_overdue_expiring_in_progress_and_done(app, runner):
    """On the day the demo is loaded some people are overdue and some expiring soon; the first
    partner's printed agent is overdue on one course and expiring on another, while the
    printed new hire has courses due later and nothing overdue. The records are real:
    failed and passed attempts, an agent out of attempts, a recertification."""
    _load(runner)
    today = utcnow().date()
    with app.app_context():
        statuses = {row.status for row in assignment_rows(today=today)}
        assert {"overdue", "expiring", "completed", "pending"} <= statuses

        emails = {role: email for role, email, _ in sign_in_rows()[:5]}
        agent = _person(emails["agent"])
        assert agent.email.endswith(f"@{PARTNERS[0].domain}")
        rows = {row.course.slug: row for row in overview.my_training(agent, today=today)}
        assert rows["brand-voice-basics"].status == "overdue"
        assert rows["annual-data-privacy-refresher"].status == "expiring"
        assert rows["handling-escalations"].status == "in_progress"
        assert all(row.required for row in rows.values())

        newest = overview.my_training(_person(emails["agent (new hire)"]), today=today)
        assert newest and all(row.due_on > today for row in newest if row.required)
        assert {row.status for row in newest} <= {"not_started", "in_progress"}
        assert "in_progress" in {row.status for row in newest}

        attempts = db.session.scalars(select(QuizAttempt)).all()
        assert all(a.submitted_at and a.submitted_at.date() < today for a in attempts)
        assert {True, False} <= {a.passed for a in attempts}
        escalations = _course("handling-escalations")
        seasoned = [a for a in PARTNERS[0].agents if a.hired_days_ago > NEW_HIRE_DAYS]
        stuck = _person(email_for(seasoned[4], PARTNERS[0].domain))  # SEASONED[4] in the plan
        assert taking.progress(stuck, escalations).attempts_left == 0
        renewals = db.session.scalars(select(Completion).where(Completion.sequence == 2)).all()
        assert renewals and all(c.expires_at.date() > today for c in renewals)

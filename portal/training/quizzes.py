"""Writing a course's quiz: questions with single- or multiple-choice answers.

Quiz attempts keep their own copy of the questions they presented, so editing, reordering or
removing a question here never changes an attempt or a completion.
"""

from sqlalchemy import delete

from portal.core.clock import utcnow
from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.training.models import Choice, Course, Question, QuestionKind
from portal.training.services import (
    active_questions,
    apply_order,
    check_editor,
    check_live,
    course_of,
    next_position,
    record_course,
)

MIN_CHOICES, MAX_CHOICES = 2, 10


def _check_question(text: str, kind: str, choices, explanation: str) -> dict:
    errors = {}
    text = (text or "").strip()
    if not text:
        errors["text"] = "Write the question."
    elif len(text) > 1000:
        errors["text"] = "Questions are at most 1,000 characters."
    if len((explanation or "").strip()) > 1000:
        errors["explanation"] = "Keep the explanation under 1,000 characters."
    if kind not in set(QuestionKind):
        errors["kind"] = f"“{kind}” is not a kind of question; use single or multiple."
    choices = list(choices or [])
    if not MIN_CHOICES <= len(choices) <= MAX_CHOICES:
        errors["choices"] = f"Give {MIN_CHOICES} to {MAX_CHOICES} answers to choose from."
        return errors
    texts = [(choice_text or "").strip() for choice_text, _ in choices]
    right = sum(1 for _, correct in choices if correct)
    if not all(texts):
        errors["choices"] = "Every answer needs its text."
    elif any(len(t) > 500 for t in texts):
        errors["choices"] = "Answers are at most 500 characters."
    elif len(set(texts)) != len(texts):
        errors["choices"] = "Two answers have the same text."
    elif kind == QuestionKind.SINGLE and right != 1:
        errors["choices"] = "A single-choice question has exactly one correct answer."
    elif kind == QuestionKind.MULTIPLE and right < 1:
        errors["choices"] = "Mark at least one answer as correct."
    return errors


def _fill(question: Question, text, kind, choices, explanation) -> None:
    question.text = text.strip()
    question.kind = kind
    question.explanation = (explanation or "").strip()
    for position, (choice_text, correct) in enumerate(choices, 1):
        db.session.add(
            Choice(
                question_id=question.id,
                position=position,
                text=choice_text.strip(),
                correct=bool(correct),
            )
        )


def add_question(
    actor, course: Course, *, text: str, kind: str, choices: list, explanation: str = ""
) -> Question:
    """Add a question at the end of the quiz; ``choices`` are (text, correct) pairs."""
    check_editor(actor, course)
    if errors := _check_question(text, kind, choices, explanation):
        raise InvalidInput(errors)
    question = Question(course_id=course.id, position=next_position(Question, course))
    question.text, question.kind = text.strip(), kind
    db.session.add(question)
    db.session.flush()
    _fill(question, text, kind, choices, explanation)
    record_course("question_added", actor, course, "Added a quiz question", question=question.id)
    db.session.flush()
    db.session.expire(question, ["choices"])
    return question


def update_question(
    actor, question: Question, *, text: str, kind: str, choices: list, explanation: str = ""
) -> Question:
    """Rewrite a question and its answers (earlier attempts keep the version they showed)."""
    course = course_of(question)
    check_editor(actor, course)
    check_live(question, course, "question")
    if errors := _check_question(text, kind, choices, explanation):
        raise InvalidInput(errors)
    db.session.execute(delete(Choice).where(Choice.question_id == question.id))
    _fill(question, text, kind, choices, explanation)
    record_course(
        "question_updated", actor, course, "Changed a quiz question", question=question.id
    )
    db.session.flush()
    db.session.expire(question, ["choices"])
    return question


def remove_question(actor, question: Question) -> None:
    """Take a question out of the quiz."""
    course = course_of(question)
    check_editor(actor, course)
    check_live(question, course, "question")
    question.removed_at = utcnow()
    record_course(
        "question_removed", actor, course, "Removed a quiz question", question=question.id
    )
    db.session.flush()


def reorder_questions(actor, course: Course, question_ids: list[int]) -> None:
    """Put the quiz's questions in the order of ``question_ids`` (every question, once)."""
    check_editor(actor, course)
    apply_order(active_questions(course), question_ids, "question(s)")
    record_course("questions_reordered", actor, course, f"Reordered the quiz of “{course.title}”")
    db.session.flush()

"""Forms of the learner's pages.

The quiz's fields come from the attempt's snapshot (a name per question, a value per answer,
both keys of that attempt alone), so the quiz form holds only the CSRF token; the answers are
read from the request and checked by ``taking.submit_attempt``.
"""

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length


class QuizForm(FlaskForm):
    """The CSRF token of a quiz, a lesson's "done" button or "start the quiz"."""


class VerifyForm(FlaskForm):
    """A verification code, sent with GET so that a link can carry it (it changes nothing)."""

    class Meta:
        csrf = False

    code = StringField(
        "Verification code",
        validators=[
            Length(max=40, message="A code is 12 letters and digits, like K7QF-3M9X-PW2D.")
        ],
        description="As printed on the certificate, e.g. K7QF-3M9X-PW2D. Any case; hyphens "
        "and spaces are optional.",
    )

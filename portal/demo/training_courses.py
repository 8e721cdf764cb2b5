"""The demo courses: lessons and quizzes written for Lumen's partner agents.

A lesson is either its own Markdown, kept beside this module in ``lessons/<name>.md`` so
writers edit prose rather than Python, or a library document (by slug) shown in place. The
loader in ``portal.demo.training`` creates them through the real course services.
"""

from dataclasses import dataclass
from pathlib import Path

LESSONS_FOLDER = Path(__file__).with_name("lessons")


@dataclass(frozen=True)
class DemoLesson:
    title: str
    file: str | None = None  # name of its Markdown in LESSONS_FOLDER, without ".md"
    document: str | None = None  # slug of a library document shown in place

    @property
    def body(self) -> str | None:
        if self.file is None:
            return None
        return (LESSONS_FOLDER / f"{self.file}.md").read_text(encoding="utf-8").strip()


@dataclass(frozen=True)
class DemoQuestion:
    text: str
    choices: tuple[tuple[str, bool], ...]  # (answer, correct)
    explanation: str
    multiple: bool = False  # select every right answer (else exactly one is right)


@dataclass(frozen=True)
class DemoCourse:
    slug: str
    title: str
    description: str
    minutes: int
    lessons: tuple[DemoLesson, ...]
    questions: tuple[DemoQuestion, ...] = ()
    pass_mark: int | None = None
    max_attempts: int | None = None
    validity_days: int | None = None
    roles: tuple[str, ...] = ()  # the audience: everyone when empty
    published_days_ago: int = 0
    trainer_of: str | None = None  # partner slug: written by that partner's trainer ...
    team: str | None = None  # ... for this team of theirs


def _q(text, explanation, *choices, multiple=False) -> DemoQuestion:
    return DemoQuestion(text, tuple(choices), explanation, multiple)


BRAND_VOICE = DemoCourse(
    slug="brand-voice-basics",
    title="Brand voice basics",
    description=(
        "What Lumen stands for and how it sounds on every contact: the four values, replies "
        "rewritten the Lumen way, and the habits of each channel."
    ),
    minutes=25,
    lessons=(
        DemoLesson("Lumen's voice and values", document="brand-voice-and-values"),
        DemoLesson("Rewrite it the Lumen way", "rewrite-it-the-lumen-way"),
        DemoLesson("One voice on every channel", "one-voice-on-every-channel"),
    ),
    questions=(
        _q(
            "A customer asks why their return was refused. Which reply sounds like Lumen?",
            "Lead with the answer, give the reason in one sentence, then offer what you can do.",
            ("“As per our policy, refunds cannot be processed for this item.”", False),
            (
                "“It arrived 41 days ago, so it's outside our 30-day window and I can't refund "
                "it. What I can do is…”",
                True,
            ),
            ("“Kindly be informed that the refund request has been declined.”", False),
            ("“The system won't let me refund this, sorry.”", False),
        ),
        _q(
            "Which of these are Lumen's values?",
            "Own it, Make it simple, Be human and Protect the home. Scripts and saying yes to "
            "everything are what the values warn against.",
            ("Own it", True),
            ("Make it simple", True),
            ("Always say yes", False),
            ("Be human", True),
            ("Protect the home", True),
            ("Follow the script", False),
            multiple=True,
        ),
        _q(
            "A customer locked out of their account asks you to skip verification “just this "
            "once”. What do you do?",
            "Protect the home wins every time, but explain why in one friendly sentence and "
            "stay with the customer through the checks.",
            ("Skip it: making it simple comes first.", False),
            ("Say in one sentence why it protects their home, and guide them through it.", True),
            ("Tell them it is company policy and end the contact.", False),
        ),
        _q(
            "Which of these words should never appear in a reply to a customer?",
            "T2, macro and disposition code are internal words. Rooms and Event timeline are "
            "the app's own words: use them exactly as the customer sees them.",
            ("T2", True),
            ("Macro", True),
            ("Event timeline", False),
            ("Disposition code", True),
            ("Rooms", False),
            multiple=True,
        ),
        _q(
            "When do you say “I” and when “we”?",
            "“I've refunded the bulb; we'll email a receipt.” You own what you do; Lumen "
            "stands behind it.",
            ("“I” for what you do, “we” for Lumen.", True),
            ("Always “we”: it sounds more professional.", False),
            ("Always “I”: customers want a person, not a company.", False),
        ),
    ),
    pass_mark=80,
    published_days_ago=330,
)

ESCALATIONS = DemoCourse(
    slug="handling-escalations",
    title="Handling escalations",
    description=(
        "When to escalate, where it goes and how to hand over an upset customer so they never "
        "explain their problem twice. Three attempts at the quiz."
    ),
    minutes=35,
    lessons=(
        DemoLesson("Escalate at the right moment", "escalate-at-the-right-moment"),
        DemoLesson("The escalation playbook", document="escalation-playbook"),
        DemoLesson("Escalating when the customer is upset", "escalating-upset-customers"),
    ),
    questions=(
        _q(
            "A customer says their Lumen Hub smells of burning plastic. What do you do first?",
            "Safety first: the customer stops using the device, and you create the Safety "
            "escalation while they are still with you. Never troubleshoot or ask for it by post.",
            ("Walk them through a factory reset.", False),
            ("Tell them to stop using and unplug it, then escalate to Safety at once.", True),
            ("Ask them to post the Hub back for inspection.", False),
            ("Escalate to T2 Technical after the call.", False),
        ),
        _q(
            "A verified customer was charged twice and wants $620 back. Where does it go?",
            "Up to $150 is yours, your team lead approves up to $500, and anything above $500 "
            "goes to T2 Billing.",
            ("Refund it yourself.", False),
            ("Your team lead.", False),
            ("T2 Billing.", True),
            ("Executive Care.", False),
        ),
        _q(
            "What belongs in the escalation note?",
            "The specialist needs the goal, what was tried and what was promised. Opinions "
            "about the customer stay out, and card numbers are never written anywhere.",
            ("The customer's goal in one sentence", True),
            ("Each step you tried, with the KB article", True),
            ("What you promised the customer, and by when", True),
            ("Your opinion of the customer's attitude", False),
            ("The customer's card number, to save time", False),
            multiple=True,
        ),
        _q(
            "Which reply tells the customer what happens after you escalate?",
            "Who will pick it up, when (never sooner than the response target) and how. "
            "Never promise the outcome.",
            ("“Our billing specialists will email you by Thursday, 6 pm your time.”", True),
            ("“Someone will be in touch soon.”", False),
            ("“They'll definitely refund you by tomorrow.”", False),
        ),
        _q(
            "The response target has passed and the queue has not acted. What do you do?",
            "Tell your team lead. Escalating the same ticket twice only splits the history.",
            ("Escalate the same ticket again.", False),
            ("Tell your team lead.", True),
            ("Close the ticket and ask the customer to call back.", False),
        ),
        _q(
            "A customer threatens to go to the press and asks for a manager. What is right?",
            "Ask what a good outcome looks like first; Executive Care handles press, regulator "
            "and lawyer complaints; a transfer comes with a one-line summary for your lead.",
            ("Ask what a good outcome would look like before anything else", True),
            ("Refuse to transfer: managers are only for abuse", False),
            ("Escalate to Executive Care", True),
            ("Give your team lead a one-sentence summary before transferring", True),
            multiple=True,
        ),
    ),
    pass_mark=80,
    max_attempts=3,
    roles=("agent", "trainer"),
    published_days_ago=30,
)

DATA_PRIVACY = DemoCourse(
    slug="annual-data-privacy-refresher",
    title="Annual data-privacy refresher",
    description=(
        "The yearly refresher of how we handle Lumen customers' personal data, footage and "
        "requests, with situations from the floor. Valid for one year."
    ),
    minutes=20,
    lessons=(
        DemoLesson("Why we refresh this every year", "why-we-refresh-every-year"),
        DemoLesson("The data privacy policy", document="data-privacy-policy"),
        DemoLesson("Five situations from the floor", "five-situations-from-the-floor"),
    ),
    questions=(
        _q(
            "Besides the account's email address, which of these count towards verification?",
            "Two of: the card's last four digits, a device serial number, the billing postal "
            "code, a recent order number. A date of birth or Wi-Fi name is not a check.",
            ("The last four digits of the card on file", True),
            ("The serial number of a device on the account", True),
            ("The customer's date of birth", False),
            ("The billing postal code", True),
            ("The name of their Wi-Fi network", False),
            multiple=True,
        ),
        _q(
            "A verified customer wants to change the account's email address. What else?",
            "Changes to email, password, two-step login or payment also need a one-time code "
            "sent to the email on file, read back by the customer.",
            ("Nothing: they passed verification.", False),
            ("Send a one-time code to the email on file and have them read it back.", True),
            ("Ask for their password to confirm it is them.", False),
        ),
        _q(
            "A customer wants help with last night's doorbell clip. What do you do?",
            "You never open a customer's clips or timeline yourself; a clip shared with support "
            "is logged and deleted after 7 days.",
            ("Open their Event timeline and find the clip.", False),
            ("Ask them to send it with Share with support in the app.", True),
            ("Ask them to email the video to you.", False),
        ),
        _q(
            "Where may customers' personal data be kept?",
            "Only in Lumen's systems: never in notebooks, personal files, screenshots or "
            "messaging apps.",
            ("In Beacon", True),
            ("In the Lumen admin tools", True),
            ("In a notebook on your desk", False),
            ("In a spreadsheet on your own drive", False),
            ("In a screenshot sent to your team chat", False),
            multiple=True,
        ),
        _q(
            "You emailed an order summary to the wrong customer. When do you report it?",
            "Within 30 minutes, to your team lead and privacy@lumen.example, even if unsure. "
            "Reporting fast is what limits the harm.",
            ("Within 30 minutes.", True),
            ("By the end of your shift.", False),
            ("Only if the customer complains.", False),
        ),
        _q(
            "A verified customer asks you to delete all their data. What do you do?",
            "Data requests go to Privacy & Security with the request type, exact wording and "
            "date; the privacy team confirms within 3 business days. Deletion is irreversible.",
            ("Delete the account in the admin tools.", False),
            ("Escalate to Privacy & Security with the request type, wording and date.", True),
            ("Tell them it cannot be done.", False),
        ),
    ),
    pass_mark=80,
    validity_days=365,
    published_days_ago=420,
)

HANDOVER = DemoCourse(
    slug="manila-billing-shift-handover",
    title="Manila Billing: handing over a shift",
    description=(
        "How Manila Billing hands over open promises between shifts: the checklist and how "
        "to write a handover line the next shift can act on."
    ),
    minutes=10,
    lessons=(
        DemoLesson("The handover checklist", document="atlas-manila-shift-handover"),
        DemoLesson("A handover line the next shift can act on", "handover-lines"),
    ),
    published_days_ago=4,
    trainer_of="atlas",
    team="Manila Billing",
)

COURSES = (BRAND_VOICE, ESCALATIONS, DATA_PRIVACY, HANDOVER)

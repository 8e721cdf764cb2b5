"""Names, places and text for the generated data: support-centre vocabulary, no lorem ipsum."""

# Sites a partner may run: (country, time zone, city, languages its teams work in).
SITES = [
    ("PH", "Asia/Manila", "Manila", ("en", "tl")),
    ("PH", "Asia/Manila", "Cebu", ("en", "tl")),
    ("IN", "Asia/Kolkata", "Pune", ("en", "hi")),
    ("IN", "Asia/Kolkata", "Hyderabad", ("en", "hi")),
    ("CO", "America/Bogota", "Bogotá", ("es", "en")),
    ("MX", "America/Mexico_City", "Monterrey", ("es", "en")),
    ("BR", "America/Sao_Paulo", "Recife", ("pt",)),
    ("PL", "Europe/Warsaw", "Kraków", ("pl", "en", "de")),
    ("LT", "Europe/Vilnius", "Vilnius", ("lt", "en")),
    ("PT", "Europe/Lisbon", "Lisbon", ("pt", "fr", "en")),
    ("ES", "Europe/Madrid", "Barcelona", ("es", "fr", "it", "de")),
    ("EG", "Africa/Cairo", "Cairo", ("ar", "en")),
    ("MA", "Africa/Casablanca", "Casablanca", ("fr", "ar")),
    ("ZA", "Africa/Johannesburg", "Cape Town", ("en",)),
    ("MY", "Asia/Kuala_Lumpur", "Kuala Lumpur", ("en", "zh")),
    ("US", "America/Chicago", "San Antonio", ("en", "es")),
]

PARTNER_WORDS = (  # noqa: SIM905 (a word list reads better as text)
    "Northwind Bluepeak Meridian Harbor Summit Keystone Brightline Lumen Cascade Atlas Crescent "
    "Silverline Evergreen Horizon Pinnacle Redwood Sterling Tidewater Vantage Zenith Orchard "
    "Beacon Granite Juniper"
).split()
PARTNER_SUFFIXES = ["Contact Solutions", "CX", "Support Services", "Customer Care", "BPO", "Global"]

QUEUES = [
    "Billing",
    "Tier 1 Voice",
    "Tier 2 Voice",
    "Chat",
    "Email",
    "Retention",
    "Technical Support",
    "Escalations",
    "Onboarding Desk",
    "Social Care",
    "Premium Accounts",
    "Fraud & Disputes",
    "Shipping",
    "Returns",
    "Night Shift",
]

FIRST_NAMES = (  # noqa: SIM905 (a word list reads better as text)
    "Maria Jose Ana Juan Angelica Mark Kristine John Rhea Paolo Priya Rahul Anjali Vikram Neha "
    "Arjun Sofia Camila Valentina Santiago Mateo Lucia Diego Gabriela Joao Beatriz Pedro Larissa "
    "Piotr Anna Katarzyna Tomasz Agnieszka Jonas Ruta Lukas Egle Ines Tiago Marta Ahmed Fatima "
    "Omar Yasmin Karim Salma Thabo Naledi Sipho Lindiwe Wei Mei Jun Aisyah Hafiz Emily Daniel "
    "Grace Samuel Laura Carlos Elena Noor Leila Youssef Hannah Jonah Chloe Ivan Olga"
).split()
LAST_NAMES = (  # noqa: SIM905 (a word list reads better as text)
    "Santos Reyes Cruz Bautista Garcia Mendoza Sharma Patel Iyer Reddy Gupta Rodriguez Martinez "
    "Lopez Gomez Hernandez Silva Souza Costa Oliveira Pereira Kowalski Nowak Wisniewski "
    "Kazlauskas Petraitis Jankauskas Ferreira Almeida Hassan Mahmoud Ibrahim Haddad Benali "
    "Nkosi Dlamini Mokoena Tan Lim Wong Rahman Abdullah Smith Johnson Brown Nguyen Kim Novak"
).split()

TOPICS = [
    "refund requests",
    "chargebacks",
    "escalations to a supervisor",
    "account recovery",
    "identity verification",
    "subscription cancellations",
    "delivery delays",
    "damaged parcels",
    "warranty claims",
    "billing disputes",
    "payment failures",
    "plan upgrades",
    "data deletion requests",
    "phishing reports",
    "outage communication",
    "complaint handling",
    "callback scheduling",
    "vulnerable customers",
    "promotional vouchers",
    "order changes",
    "password resets",
    "privacy and consent",
    "fraud alerts",
    "social media replies",
    "handover between shifts",
]
PRODUCTS = ["Aurora", "Pulse", "Nimbus", "Vertex", "Orbit", "Quill", "Harbor", "Ember"]
TAGS = [
    "billing",
    "refunds",
    "escalation",
    "tone",
    "privacy",
    "security",
    "onboarding",
    "quality",
    "shipping",
    "accounts",
    "payments",
    "retention",
]

# Sentences for document, lesson and announcement bodies; {topic} is filled in.
SENTENCES = [
    "Confirm the customer's identity before you discuss {topic}.",
    "Read the account notes first: most repeat contacts about {topic} are explained there.",
    "Say what you will do and by when, then do it.",
    "Never promise a refund amount before the system shows it.",
    "If the customer is upset, acknowledge it before you explain the policy.",
    "Log the reason code for {topic} in the disposition field before you close the case.",
    "Escalate to a team lead when the amount is over the approval limit.",
    "Offer a callback when the wait for a specialist is longer than ten minutes.",
    "Use the customer's name, and keep sentences short on chat.",
    "Check the order status page: it is updated every fifteen minutes.",
    "Do not ask for the full card number; the last four digits are enough.",
    "Summarise the outcome in one sentence at the end of the contact.",
    "Quality reviews score empathy, accuracy and ownership equally.",
    "When in doubt about {topic}, ask in the team channel before you answer.",
]
HEADINGS = ["When this applies", "What to do", "What to say", "Exceptions", "Why it matters"]

ANNOUNCEMENT_TITLES = [
    "Holiday season volumes: what to expect",
    "New greeting for voice contacts",
    "Planned maintenance of the order system",
    "Quality scorecard changes",
    "Reminder: verify identity on every contact",
    "Outage resolved: check your backlog",
    "New escalation matrix",
    "Shift swap rules",
    "Customer satisfaction results for the quarter",
    "Phishing attempts targeting agents",
]

TASKS = [
    "Shadow a senior agent for a full shift",
    "Handle ten chats with a buddy listening in",
    "Complete a live call review with your team lead",
    "Set up your headset and softphone",
    "Pass the system access checklist",
    "Walk through the escalation matrix with your trainer",
    "Take live calls with your trainer nearby",
    "First solo shift review",
    "Nesting week sign-off",
]

"""Languages and time zones people may choose, and their validation."""

from functools import cache
from zoneinfo import available_timezones

# Languages the portal offers for people and teams (ISO 639-1 code: name in that language).
LANGUAGES = {
    "en": "English",
    "es": "Español",
    "pt": "Português",
    "fr": "Français",
    "de": "Deutsch",
    "it": "Italiano",
    "pl": "Polski",
    "lt": "Lietuvių",
    "tl": "Tagalog",
    "hi": "हिन्दी",
    "ar": "العربية",
    "zh": "中文",
}


@cache
def timezone_names() -> tuple[str, ...]:
    """Every IANA time zone name, sorted."""
    return tuple(sorted(n for n in available_timezones() if "/" in n or n == "UTC"))


def is_timezone(name: str) -> bool:
    """Whether ``name`` is a known IANA time zone."""
    return name in timezone_names()


def is_language(code: str) -> bool:
    """Whether ``code`` is a language the portal offers."""
    return code in LANGUAGES


def language_choices():
    """(code, label) pairs for a select field."""
    return [(code, f"{name} ({code})") for code, name in LANGUAGES.items()]


def timezone_choices():
    """(name, name) pairs for a select field."""
    return [(name, name) for name in timezone_names()]

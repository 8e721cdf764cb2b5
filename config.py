"""Settings for each environment, read from environment variables.

Pick one with ``PORTAL_ENV`` (development, testing or production); ``wsgi.py`` does.
Every backend named in DESIGN.md is chosen here with its embedded default first.
"""

import os
from datetime import timedelta

DEV_SECRET_KEY = "dev-only-secret-key-change-me"


def _env(name, default=None):
    value = os.environ.get(name)
    return default if value in (None, "") else value


def _env_bool(name, default):
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _env_int(name, default):
    value = _env(name)
    return default if value is None else int(value)


class Config:
    """Defaults shared by every environment."""

    SECRET_KEY = _env("SECRET_KEY", DEV_SECRET_KEY)
    # None means "a SQLite file in the instance folder"; create_app fills it in.
    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    # Backends: embedded default first, the one for several hosts second.
    SEARCH_BACKEND = _env("SEARCH_BACKEND", "whoosh")  # whoosh | postgres
    # Whoosh keeps its index in a local folder (None: instance/search-index); one per host.
    SEARCH_INDEX_PATH = _env("SEARCH_INDEX_PATH")
    STORAGE_BACKEND = _env("STORAGE_BACKEND", "local")  # local | s3
    # Local attachment folder (None: instance/attachments).
    STORAGE_PATH = _env("STORAGE_PATH")
    S3_BUCKET = _env("S3_BUCKET")
    S3_PREFIX = _env("S3_PREFIX", "attachments/")
    S3_REGION = _env("S3_REGION", "us-east-1")
    S3_ENDPOINT_URL = _env("S3_ENDPOINT_URL")  # for S3-compatible stores (MinIO, moto)
    # Presigned download links expire after this many seconds (at most five minutes).
    S3_URL_EXPIRES = min(_env_int("S3_URL_EXPIRES", 300), 300)
    MAIL_BACKEND = _env("MAIL_BACKEND", "console")  # console | smtp | memory
    MAIL_FROM = _env("MAIL_FROM", "Partner Portal <portal@localhost>")
    SMTP_HOST = _env("SMTP_HOST", "localhost")
    SMTP_PORT = _env_int("SMTP_PORT", 25)
    SMTP_USERNAME = _env("SMTP_USERNAME")
    SMTP_PASSWORD = _env("SMTP_PASSWORD")
    SMTP_STARTTLS = _env_bool("SMTP_STARTTLS", False)
    SMTP_SSL = _env_bool("SMTP_SSL", False)
    SMTP_TIMEOUT = _env_int("SMTP_TIMEOUT", 30)  # seconds to connect and for each reply
    # The outbox worker (flask --app wsgi mail send-pending): messages per SMTP connection,
    # tries before a message is marked failed, and the first retry delay (doubling each time).
    MAIL_BATCH_SIZE = _env_int("MAIL_BATCH_SIZE", 100)
    MAIL_MAX_ATTEMPTS = _env_int("MAIL_MAX_ATTEMPTS", 6)
    MAIL_RETRY_SECONDS = _env_int("MAIL_RETRY_SECONDS", 300)
    # A message claimed by a worker that died is offered again after this long.
    MAIL_CLAIM_TIMEOUT_SECONDS = _env_int("MAIL_CLAIM_TIMEOUT_SECONDS", 900)
    RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI", "memory://")  # or redis://host:6379
    # Prefix of the portal's keys in that store, when one Redis serves several portals.
    RATELIMIT_KEY_PREFIX = _env("RATELIMIT_KEY_PREFIX", "")

    # Links in mail and in operator commands are built from this address.
    PORTAL_BASE_URL = _env("PORTAL_BASE_URL", "http://127.0.0.1:5000")

    # Sign-in and accounts.
    LOGIN_LIMIT_PER_ACCOUNT = _env("LOGIN_LIMIT_PER_ACCOUNT", "5 per 15 minutes")
    LOGIN_LIMIT_PER_ADDRESS = _env("LOGIN_LIMIT_PER_ADDRESS", "30 per 15 minutes")
    PASSWORD_RESET_LIMIT = _env("PASSWORD_RESET_LIMIT", "5 per hour")
    INVITATION_MAX_AGE = timedelta(days=_env_int("INVITATION_MAX_AGE_DAYS", 7))
    PASSWORD_RESET_MAX_AGE = timedelta(hours=_env_int("PASSWORD_RESET_MAX_AGE_HOURS", 2))
    PASSWORD_MIN_LENGTH = 10
    PASSWORD_HASH_METHOD = "scrypt"  # Werkzeug's scrypt: n=2**15, r=8, p=1
    # Behind N load balancers/proxies, trust N X-Forwarded-For/-Proto hops (0: none).
    TRUSTED_PROXY_COUNT = _env_int("TRUSTED_PROXY_COUNT", 0)
    # A sign-in ends after this many minutes without a request, and this many hours after
    # the password was typed, whatever the activity; "keep me signed in" included.
    SESSION_IDLE_MINUTES = _env_int("SESSION_IDLE_MINUTES", 60)
    SESSION_MAX_HOURS = _env_int("SESSION_MAX_HOURS", 12)
    REMEMBER_COOKIE_DURATION = timedelta(hours=SESSION_MAX_HOURS)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=SESSION_MAX_HOURS)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"

    # Uploads: attachments up to MAX_UPLOAD_MB (roster files are smaller; see roster).
    MAX_UPLOAD_MB = _env_int("MAX_UPLOAD_MB", 25)
    MAX_CONTENT_LENGTH = (MAX_UPLOAD_MB + 1) * 1024 * 1024  # the form around the file

    PER_PAGE = 25

    # --- Reminders (flask --app wsgi reminders send) ---
    # Days before an item's due date on which a reminder goes out (0: on the due date).
    REMINDER_CADENCE = _env("REMINDER_CADENCE", "7,1,0")
    # While overdue, remind again every this many days (3: three, six, nine... days late).
    REMINDER_OVERDUE_EVERY_DAYS = _env_int("REMINDER_OVERDUE_EVERY_DAYS", 3)
    # A document asking for acknowledgement is due this many days after its latest material
    # version was published, or after the person joined, whichever is later.
    ACKNOWLEDGE_WITHIN_DAYS = _env_int("ACKNOWLEDGE_WITHIN_DAYS", 14)
    # --- end of reminders ---


class DevelopmentConfig(Config):
    """`make run`: one machine, everything embedded."""

    DEBUG = False  # the debugger shows stack traces; errors use the portal's own pages


class TestingConfig(Config):
    """pytest: a fresh database per test, mail kept in memory."""

    TESTING = True
    SECRET_KEY = "testing-secret-key"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    MAIL_BACKEND = "memory"
    PASSWORD_HASH_METHOD = "scrypt:1024:8:1"  # still scrypt, cheap enough for thousands of tests
    RATELIMIT_STORAGE_URI = "memory://"
    WTF_CSRF_ENABLED = True


class ProductionConfig(Config):
    """Several hosts behind a load balancer; refuses to start without a real secret."""

    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"

    @classmethod
    def check(cls, config):
        """Raise if the settings cannot be used in production."""
        key = config.get("SECRET_KEY") or ""
        if key in (DEV_SECRET_KEY, TestingConfig.SECRET_KEY) or len(key) < 32:
            raise RuntimeError(
                "SECRET_KEY must be set to a random value of at least 32 characters in "
                "production, e.g. python -c 'import secrets; print(secrets.token_hex(32))'"
            )
        if not config.get("SQLALCHEMY_DATABASE_URI"):
            raise RuntimeError("DATABASE_URL must be set in production.")


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}

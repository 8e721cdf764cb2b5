"""Configuration: environments, the production secret check, the wsgi entry point."""

import pytest

from config import DEV_SECRET_KEY
from portal import create_app


def test_production_refuses_the_development_secret():
    """Production will not start with the built-in development secret key."""
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production", SECRET_KEY=DEV_SECRET_KEY, SQLALCHEMY_DATABASE_URI="sqlite://")


def test_production_refuses_a_short_secret():
    """Production will not start with a guessable short secret."""
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production", SECRET_KEY="short", SQLALCHEMY_DATABASE_URI="sqlite://")


def test_production_needs_a_database_url():
    """Production names its database explicitly instead of falling back to a local file."""
    with pytest.raises(RuntimeError, match="DATABASE_URL"):
        create_app("production", SECRET_KEY="k" * 64, SQLALCHEMY_DATABASE_URI=None)


def test_production_starts_with_a_real_secret():
    """With a long random secret production starts, with secure cookies."""
    app = create_app("production", SECRET_KEY="k" * 64, SQLALCHEMY_DATABASE_URI="sqlite://")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


def test_unknown_environment_is_refused():
    """A typo in PORTAL_ENV stops start-up with a message naming the choices."""
    with pytest.raises(RuntimeError, match="PORTAL_ENV"):
        create_app("staging")


def test_unknown_mail_backend_is_refused():
    """A typo in MAIL_BACKEND stops start-up instead of silently dropping mail."""
    with pytest.raises(RuntimeError, match="MAIL_BACKEND"):
        create_app("testing", MAIL_BACKEND="pigeon")


def test_wsgi_exposes_app():
    """``wsgi:app`` is the Flask app gunicorn and ``flask --app wsgi`` use."""
    import wsgi

    assert wsgi.app.name == "portal"

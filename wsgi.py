"""Entry point for ``flask --app wsgi`` and for gunicorn (``gunicorn wsgi:app``).

The environment comes from ``PORTAL_ENV`` (development by default); see config.py.
"""

from portal import create_app

app = create_app()

"""The portal served for a real browser: a werkzeug server in a thread on 127.0.0.1.

Each server has its own database (a SQLite file in a temporary folder, or a private
PostgreSQL schema when ``TEST_DATABASE_URL`` is set), its own search index and attachment
folder. ``with_demo`` loads the demo data set as ``flask --app wsgi demo load`` does.
"""

import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from werkzeug.serving import make_server

from portal import create_app
from portal.demo import services as demo
from portal.demo.announcements import load_announcements
from portal.demo.library import load_library
from portal.demo.onboarding import load_onboarding
from portal.demo.training import load_training
from portal.extensions import db
from tests.helpers import private_schema

PG_URL = os.environ.get("TEST_DATABASE_URL")


@dataclass(frozen=True)
class LiveServer:
    """A running portal: its app (for setting data up in-process) and its address."""

    app: Flask
    url: str


@contextmanager
def _database(folder: Path):
    if PG_URL:
        with private_schema(PG_URL, "browser") as url:
            yield url
    else:
        yield f"sqlite:///{folder / 'portal.db'}"


def load_demo_data(app: Flask) -> None:
    """Everything ``flask --app wsgi demo load`` writes, in one commit."""
    with app.app_context():
        demo.load_demo()
        load_library()
        load_announcements()
        load_training()
        load_onboarding()
        db.session.commit()


@contextmanager
def live_server(folder: Path, *, with_demo: bool):
    """Serve a new portal from ``folder`` until the block ends; yields a LiveServer."""
    with _database(folder) as database_url:
        app = create_app(
            "testing",
            SQLALCHEMY_DATABASE_URI=database_url,
            SEARCH_INDEX_PATH=str(folder / "search-index"),
            STORAGE_PATH=str(folder / "attachments"),
        )
        with app.app_context():
            db.create_all()
        if with_demo:
            load_demo_data(app)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield LiveServer(app=app, url=f"http://127.0.0.1:{server.server_port}")
        finally:
            server.shutdown()
            thread.join()
            server.server_close()
            with app.app_context():
                db.engine.dispose()

"""Search: the library's full-text search behind a small backend interface.

``get_search()`` returns the backend chosen by ``SEARCH_BACKEND``: ``whoosh`` (an index in a
local folder, the default) or ``postgres`` (full-text search in the portal's PostgreSQL
database, shared by every host). ``portal.search.services.search_library`` is what pages call;
``portal.search.indexing`` keeps the index current after commits.
"""

import os

from flask import current_app

from portal.search import models  # noqa: F401 (the search_entry table is part of the schema)


def _make_backend(app):
    name = app.config.get("SEARCH_BACKEND") or "whoosh"
    if name == "whoosh":
        from portal.search.whoosh_backend import WhooshBackend

        path = app.config.get("SEARCH_INDEX_PATH") or os.path.join(
            app.instance_path, "search-index"
        )
        return WhooshBackend(path)
    if name == "postgres":
        from portal.extensions import db
        from portal.search.postgres_backend import PostgresBackend

        with app.app_context():
            engine = db.engine
        if engine.dialect.name != "postgresql":
            raise RuntimeError(
                "SEARCH_BACKEND=postgres needs the database on PostgreSQL "
                f"(SQLALCHEMY_DATABASE_URI=postgresql+psycopg://...), not {engine.dialect.name}; "
                "use SEARCH_BACKEND=whoosh."
            )
        return PostgresBackend(engine)
    raise RuntimeError(f"SEARCH_BACKEND must be whoosh or postgres, not {name!r}.")


def get_search(app=None):
    """The search backend (a ``portal.search.base.SearchBackend``) of ``app`` or the current
    app."""
    app = app or current_app
    backend = app.extensions.get("search")
    if backend is None:
        backend = app.extensions["search"] = _make_backend(app)
    return backend


def init_app(app):
    """Choose the backend from ``SEARCH_BACKEND`` and keep the index current after commits."""
    from portal.extensions import db
    from portal.search import indexing

    app.extensions["search"] = _make_backend(app)
    indexing.listen(db.session)

"""Search: the library's full-text search behind a small backend interface."""


def init_app(app):
    """Choose the backend from ``SEARCH_BACKEND`` and keep the index current after commits."""

"""File storage for attachments, behind the small interface in :mod:`portal.storage.backend`.

``STORAGE_BACKEND`` chooses the backend: ``local`` (a folder, ``STORAGE_PATH`` or
``instance/attachments``; the default) or ``s3`` (``S3_BUCKET``, ``S3_PREFIX``,
``S3_REGION``, ``S3_ENDPOINT_URL`` for S3-compatible stores, ``S3_URL_EXPIRES`` <= 300 s).
"""

from flask import current_app

from portal.storage.backend import FileStorage, content_disposition

__all__ = ["FileStorage", "content_disposition", "get_storage", "init_app"]


def _local(app):
    from portal.storage.local import LocalStorage

    return LocalStorage.from_config(app)


def _s3(app):
    from portal.storage.s3 import S3Storage

    return S3Storage.from_config(app)


BACKENDS = {"local": _local, "s3": _s3}


def _create(app) -> FileStorage:
    name = (app.config.get("STORAGE_BACKEND") or "local").strip().lower()
    if name not in BACKENDS:
        raise RuntimeError(f"STORAGE_BACKEND must be one of {', '.join(BACKENDS)}, not {name!r}.")
    return BACKENDS[name](app)


def get_storage(app=None) -> FileStorage:
    """The app's file storage, built from its config on first use and kept in app.extensions.

    Raises ``RuntimeError`` when ``STORAGE_BACKEND`` names no backend or S3 has no bucket.
    """
    app = app or current_app._get_current_object()
    storage = app.extensions.get("storage")
    if storage is None:
        storage = app.extensions["storage"] = _create(app)
    return storage


def init_app(app) -> None:
    """Build the storage at start-up, so a wrong ``STORAGE_BACKEND`` stops the app at once."""
    app.extensions.pop("storage", None)
    app.extensions["storage"] = _create(app)

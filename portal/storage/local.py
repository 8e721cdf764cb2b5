"""Files in a folder on this machine: the embedded default (``STORAGE_BACKEND=local``).

One host only: with several web hosts, use S3 (or a folder every host mounts).
"""

import contextlib
import os
import shutil
import tempfile
from datetime import UTC, datetime
from typing import BinaryIO

from flask import Response, request

from portal.storage.backend import FileStorage, content_disposition

CHUNK = 1024 * 1024


class LocalStorage(FileStorage):
    """Files under ``root``; a key is a path relative to it and can never leave it."""

    name = "local"

    def __init__(self, root: str):
        self.root = os.path.realpath(root)

    @classmethod
    def from_config(cls, app) -> "LocalStorage":
        return cls(app.config.get("STORAGE_PATH") or os.path.join(app.instance_path, "attachments"))

    def path(self, key: str) -> str:
        """The absolute path of ``key``, checked to lie inside the storage folder."""
        path = os.path.realpath(os.path.join(self.root, *self.check_key(key).split("/")))
        if os.path.commonpath([self.root, path]) != self.root or path == self.root:
            raise ValueError(f"storage key leaves the storage folder: {key!r}")
        return path

    def save(self, key: str, stream: BinaryIO, content_type: str) -> None:
        path = self.path(key)
        folder = os.path.dirname(path)
        os.makedirs(folder, exist_ok=True)
        # Write beside the target and rename: readers never see half a file, and a failed
        # write leaves nothing under the key.
        fd, temp_path = tempfile.mkstemp(dir=folder, prefix=".upload-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(stream, out, CHUNK)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp_path, path)
        except BaseException:
            os.unlink(temp_path)
            self._prune(folder)
            raise

    def open(self, key: str) -> BinaryIO:
        return open(self.path(key), "rb")  # noqa: SIM115 - the caller closes it

    def delete(self, key: str) -> None:
        path = self.path(key)
        try:
            os.remove(path)
        except FileNotFoundError:
            return
        self._prune(os.path.dirname(path))

    def exists(self, key: str) -> bool:
        return os.path.isfile(self.path(key))

    def download_response(
        self, key: str, *, filename: str, content_type: str, inline: bool
    ) -> Response:
        path = self.path(key)
        stat = os.stat(path)  # FileNotFoundError when the file is gone
        # The file is opened only when the server starts sending it, and closed at the end,
        # so a response that is never sent (HEAD, 304, a test) holds no file open.
        response = Response(_chunks(path), content_type=content_type, direct_passthrough=True)
        response.content_length = stat.st_size
        response.last_modified = datetime.fromtimestamp(stat.st_mtime, UTC)
        response.set_etag(f"{stat.st_mtime_ns:x}-{stat.st_size:x}")
        response.headers["Content-Disposition"] = content_disposition(filename, inline=inline)
        response.cache_control.private = True
        response.cache_control.no_cache = True  # revalidate: access may have changed
        return response.make_conditional(
            request.environ, accept_ranges=True, complete_length=stat.st_size
        )

    def _prune(self, folder: str) -> None:
        """Remove the file's own folder when it is empty.

        Only that one: a shared parent could be in use by a concurrent ``save``.
        """
        if folder != self.root:
            with contextlib.suppress(OSError):  # not empty, or already gone
                os.rmdir(folder)

    def __repr__(self):
        return f"<LocalStorage {self.root}>"


def _chunks(path: str):
    with open(path, "rb") as file:
        while chunk := file.read(CHUNK):
            yield chunk

"""The file-storage contract every backend fulfils.

A backend keeps opaque binary files under *keys*: relative, ``/``-separated paths such as
``documents/12/3f2a…/floor-plan.png``. A key never starts with ``/``, never contains an
empty, ``.`` or ``..`` segment, a backslash or a NUL; :meth:`FileStorage.check_key` refuses
anything else with ``ValueError`` before a backend touches it. Files are written once under a
fresh key and not rewritten; callers choose unique keys.

Subclasses override every method below with exactly the same signature.
"""

from typing import BinaryIO
from urllib.parse import quote

from flask import Response


class FileStorage:
    """Where attachments' bytes live: a local folder or an S3 bucket."""

    #: Short name used in ``STORAGE_BACKEND`` and in messages.
    name = "abstract"

    def save(self, key: str, stream: BinaryIO, content_type: str) -> None:
        """Store everything ``stream`` yields from its current position under ``key``.

        The write is all-or-nothing: when this raises, nothing is left under ``key``.
        ``content_type`` is recorded where the backend keeps metadata (S3 does).
        """
        raise NotImplementedError

    def open(self, key: str) -> BinaryIO:
        """A readable binary file object positioned at the start of the file.

        The caller closes it (``with storage.open(key) as f:``). Raises
        ``FileNotFoundError`` when nothing is stored under ``key``.
        """
        raise NotImplementedError

    def delete(self, key: str) -> None:
        """Remove the file under ``key``; deleting a missing file is not an error."""
        raise NotImplementedError

    def exists(self, key: str) -> bool:
        """Whether a file is stored under ``key``."""
        raise NotImplementedError

    def download_response(
        self, key: str, *, filename: str, content_type: str, inline: bool
    ) -> Response:
        """A response that delivers the file to a browser.

        The browser receives it as ``content_type``, with ``Content-Disposition: inline``
        when ``inline`` is true and ``attachment`` otherwise, named ``filename``. The local
        backend streams the bytes itself; S3 redirects to a short-lived presigned URL.
        Callers add their own security headers to the returned response. Raises
        ``FileNotFoundError`` when the backend can tell that nothing is stored under ``key``.
        """
        raise NotImplementedError

    @staticmethod
    def check_key(key: str) -> str:
        """``key`` if it is a well-formed storage key, else ``ValueError``."""
        if not isinstance(key, str) or not key or key.startswith("/"):
            raise ValueError(f"not a storage key: {key!r}")
        if "\\" in key or "\x00" in key:
            raise ValueError(f"not a storage key: {key!r}")
        if any(part in ("", ".", "..") for part in key.split("/")):
            raise ValueError(f"not a storage key: {key!r}")
        return key

    def __repr__(self):
        return f"<{type(self).__name__}>"


def content_disposition(filename: str, *, inline: bool) -> str:
    """A ``Content-Disposition`` value naming ``filename``, safe for any characters."""
    kind = "inline" if inline else "attachment"
    try:
        ascii_name = filename.encode("ascii").decode()
    except UnicodeEncodeError:
        return f"{kind}; filename*=UTF-8''{quote(filename, safe='')}"
    escaped = ascii_name.replace("\\", "\\\\").replace('"', '\\"')
    return f'{kind}; filename="{escaped}"'

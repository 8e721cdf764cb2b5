"""Helpers for the attachment tests: genuine sample files, impostors, a small world, and the
ways a person uploads, removes and downloads files.

Import the ``world`` fixture as ``from tests.attachment_helpers import world_fixture``.
"""

import io
import struct
import zipfile
import zlib
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.library.models import Attachment, Document
from portal.people.models import User
from tests.helpers import csrf_token, login

# --- sample files ------------------------------------------------------------------------


def png(width=2, height=2) -> bytes:
    """A real PNG image (red pixels)."""

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def pdf(padding: int = 0) -> bytes:
    """A minimal PDF; ``padding`` bytes of comment make it as large as a test needs."""
    body = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n"
    return body + b"%" + b"x" * padding + b"\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def office(folder: str) -> bytes:
    """An Office Open XML package whose parts live in ``folder`` ('word/', 'xl/', 'ppt/')."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        archive.writestr(f"{folder}main.xml", '<?xml version="1.0"?><document/>')
    return buffer.getvalue()


def plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "not an office document")
    return buffer.getvalue()


GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
JPEG = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    + b"\x00" * 32
    + b"\xff\xd9"
)
WEBP = (
    b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00"
    b"\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"
)
MP3 = b"ID3\x03\x00\x00\x00\x00\x00\x0a" + b"\x00" * 10 + b"\xff\xfb\x90\x64" + b"\x00" * 400
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00\x00\x00\x08free" + b"\x00" * 64
SVG = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b'<rect width="10" height="10" fill="#c00"/></svg>\n'
)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64 + b"PE\x00\x00"

# One genuine file per allowed extension.
GENUINE = {
    "guide.pdf": pdf(),
    "floor-plan.png": png(),
    "team.jpg": JPEG,
    "team-photo.jpeg": JPEG,
    "wave.gif": GIF,
    "badge.webp": WEBP,
    "logo.svg": SVG,
    "notes.txt": "Escalate within 24 hours — ¡gracias!\n".encode(),
    "queues.csv": b"queue,agents\nbilling,12\n",
    "readme.md": b"# Read me\n\nShort and *useful*.\n",
    "script.docx": office("word/"),
    "targets.xlsx": office("xl/"),
    "kickoff.pptx": office("ppt/"),
    "greeting.mp3": MP3,
    "walkthrough.mp4": MP4,
}


# --- people and their actions ------------------------------------------------------------


@pytest.fixture(name="world")
def world_fixture(make_partner, make_user, make_document):
    """Partner Alpha (trainer, agent) with a local document; Bravo's agent; a PRM."""
    alpha, bravo = make_partner(slug="alpha"), make_partner(slug="bravo")
    w = SimpleNamespace(
        alpha=alpha,
        bravo=bravo,
        trainer=make_user("trainer", partner=alpha),
        agent=make_user("agent", partner=alpha),
        other_agent=make_user("agent", partner=bravo),
        other_trainer=make_user("trainer", partner=bravo),
        prm=make_user("prm"),
    )
    w.doc = make_document("Alpha floor rules", author=w.trainer)
    return w


def attach(app, user, document, filename, data):
    """Attach through the service, as ``user`` (None: an operator); returns the row's id."""
    from portal.attachments.services import add_attachment

    with app.app_context():
        actor = db.session.get(User, user.id) if user is not None else None
        attachment = add_attachment(
            actor, db.session.get(Document, document.id), filename, io.BytesIO(data)
        )
        db.session.commit()
        return attachment.id


def sign_in(client, user):
    """Sign out whoever is signed in on ``client``, sign ``user`` in, keep their CSRF token."""
    if getattr(client, "csrf", None):
        client.post("/logout", data={"csrf_token": client.csrf})
    assert login(client, user).status_code == 302
    client.csrf = csrf_token(client, "/profile")


def upload(client, document, filename, data):
    """Upload through the document page's form (multipart, CSRF) as the signed-in person."""
    return client.post(
        f"/library/{document.id}/attachments",
        data={"file": (io.BytesIO(data), filename), "csrf_token": client.csrf},
    )


def remove(client, document, attachment_id):
    """Press a file's Remove button as the signed-in person."""
    return client.post(
        url_of(document, attachment_id) + "/remove", data={"csrf_token": client.csrf}
    )


def flashed(client) -> str:
    """The messages waiting to be shown on the next page, taken from the session."""
    with client.session_transaction() as session:
        return " ".join(message for _category, message in session.pop("_flashes", []))


def count_rows(app, model=Attachment, **where):
    with app.app_context():
        stmt = select(func.count()).select_from(model).filter_by(**where)
        return db.session.scalar(stmt)


def url_of(document, attachment_id, filename=None):
    base = f"/library/{document.id}/files/{attachment_id}"
    return f"{base}/{filename}" if filename else base

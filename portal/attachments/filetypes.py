"""Which files may be attached, and whether a file's content is what its name says.

The extension decides the kind; the content must then prove it: binary formats by their
signature (the ``filetype`` library), Office files by being a ZIP with the right part folder
inside, text by decoding as UTF-8 without NUL bytes, SVG by parsing as XML with an ``<svg>``
root. HTML pages and programs are refused whatever they are called. Only raster images are
ever shown inline; everything else, SVG included, is offered as a download.
"""

import codecs
import os
import zipfile
from dataclasses import dataclass, field
from xml.parsers import expat

import filetype
from werkzeug.utils import secure_filename

from portal.core.errors import InvalidInput

MAX_FILENAME = 200
HEAD_BYTES = 8192  # what the signature checks look at


@dataclass(frozen=True)
class FileKind:
    """One allowed kind of file."""

    label: str
    content_type: str  # what the portal serves it as
    check: str  # how content is verified: signature | office | text | svg
    signatures: tuple[str, ...] = ()  # filetype MIME types that prove a "signature" kind
    office_folder: str = ""  # the part folder inside an Office ZIP, e.g. "word/"
    inline: bool = False  # raster images only: may be shown in a page


_JPEG = FileKind("JPEG image", "image/jpeg", "signature", ("image/jpeg",), inline=True)
_OOXML = "application/vnd.openxmlformats-officedocument."
KINDS: dict[str, FileKind] = {
    "pdf": FileKind("PDF document", "application/pdf", "signature", ("application/pdf",)),
    "png": FileKind("PNG image", "image/png", "signature", ("image/png",), inline=True),
    "jpg": _JPEG,
    "jpeg": _JPEG,
    "gif": FileKind("GIF image", "image/gif", "signature", ("image/gif",), inline=True),
    "webp": FileKind("WebP image", "image/webp", "signature", ("image/webp",), inline=True),
    "svg": FileKind("SVG image", "image/svg+xml", "svg"),
    "txt": FileKind("Text", "text/plain; charset=utf-8", "text"),
    "csv": FileKind("CSV table", "text/csv; charset=utf-8", "text"),
    "md": FileKind("Markdown text", "text/markdown; charset=utf-8", "text"),
    "docx": FileKind(
        "Word document", _OOXML + "wordprocessingml.document", "office", office_folder="word/"
    ),
    "xlsx": FileKind(
        "Excel workbook", _OOXML + "spreadsheetml.sheet", "office", office_folder="xl/"
    ),
    "pptx": FileKind(
        "PowerPoint slides", _OOXML + "presentationml.presentation", "office", office_folder="ppt/"
    ),
    "mp3": FileKind("MP3 audio", "audio/mpeg", "signature", ("audio/mpeg",)),
    "mp4": FileKind("MP4 video", "video/mp4", "signature", ("video/mp4", "video/x-m4v")),
}
# Refused with their own message, whatever the allow-list says: pages a browser would run
# and programs a computer would.
NEVER = frozenset(
    {
        *("html", "htm", "xhtml", "xht", "shtml", "mht", "mhtml", "hta", "svgz", "js", "mjs"),
        *("exe", "dll", "com", "bat", "cmd", "msi", "msix", "scr", "pif", "cpl", "lnk", "reg"),
        *("ps1", "psm1", "vbs", "vbe", "wsf", "wsh", "jar", "sh", "bash", "zsh", "app", "apk"),
        *("dmg", "deb", "rpm", "bin", "elf", "so", "dylib", "iso"),
        *("php", "phtml", "asp", "aspx", "jsp", "cgi", "pl", "py", "rb"),
    }
)
_HTML_STARTS = ("<!doctype html", "<html", "<head", "<body", "<script", "<iframe")


def allowed_list() -> str:
    """'pdf, png, jpg, …' for messages and help text."""
    return ", ".join(KINDS)


def accept_attribute() -> str:
    """The file input's ``accept`` value: '.pdf,.png,…'."""
    return ",".join(f".{ext}" for ext in KINDS)


def clean_filename(name: str) -> tuple[str, FileKind]:
    """A safe file name (ASCII, extension in lower case, at most 200 characters) and its kind.

    Folders and unsafe characters are dropped (``Floor plan (v2).PNG`` becomes
    ``Floor_plan_v2.png``); a name with nothing left before the extension becomes ``file``.
    Raises InvalidInput when there is no file name or the type may not be attached.
    """
    base = os.path.basename((name or "").replace("\\", "/")).strip()
    if not base:
        raise InvalidInput("Choose a file to upload.")
    stem, dot, extension = base.rpartition(".")
    extension = secure_filename(extension).lower() if dot else ""
    if not extension:
        raise InvalidInput(
            f"“{base[:100]}” has no extension; name the file with one of: {allowed_list()}."
        )
    if extension in NEVER:
        raise InvalidInput(
            f"HTML pages and programs (.{extension}) are never accepted as attachments."
        )
    if extension not in KINDS:
        raise InvalidInput(
            f".{extension} files cannot be attached. Allowed types: {allowed_list()}."
        )
    stem = secure_filename(stem)[: MAX_FILENAME - len(extension) - 1].rstrip("._-") or "file"
    return f"{stem}.{extension}", KINDS[extension]


@dataclass
class ContentScan:
    """What one pass over an upload learns: its first bytes, and for text, whether it is UTF-8."""

    text: bool
    head: bytes = b""
    utf8: bool = True
    nul: bool = False
    _decoder: codecs.IncrementalDecoder = field(
        default_factory=lambda: codecs.getincrementaldecoder("utf-8")("strict")
    )

    def feed(self, chunk: bytes) -> None:
        if len(self.head) < HEAD_BYTES:
            self.head += chunk[: HEAD_BYTES - len(self.head)]
        if self.text and self.utf8 and not self.nul:
            self.nul = b"\x00" in chunk
            try:
                self._decoder.decode(chunk)
            except UnicodeDecodeError:
                self.utf8 = False

    def finish(self) -> None:
        if self.text and self.utf8:
            try:
                self._decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                self.utf8 = False


def check_content(filename: str, kind: FileKind, scan: ContentScan, file) -> None:
    """Raise InvalidInput unless the content is the kind its name says.

    ``file`` is the seekable upload; it is left at the position it had.
    """
    position = file.tell()
    try:
        problem = _CHECKS[kind.check](kind, scan, file)
    finally:
        file.seek(position)
    if problem is not None:
        extension = filename.rpartition(".")[2]
        raise InvalidInput(
            f"“{filename}” "
            + (
                problem
                or f"is not a {kind.label}: its content does not match the .{extension} extension."
            )
        )


# Each check returns None when the content is right, else why not ('' for "does not match").


def _signature(kind, scan, file):
    head = bytearray(scan.head)
    return None if any(filetype.get_type(mime=m).match(head) for m in kind.signatures) else ""


def _office(kind, scan, file):
    try:
        with zipfile.ZipFile(file) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return ""
    has_parts = any(name.startswith(kind.office_folder) for name in names)
    return None if "[Content_Types].xml" in names and has_parts else ""


def _text(kind, scan, file):
    if not scan.utf8:
        return "is not UTF-8 text; save it as UTF-8 and upload it again."
    if scan.nul:  # binary formats (programs, images) are full of NUL bytes; text never is
        return ""
    start = scan.head[:512].decode("utf-8", "ignore").lstrip("\ufeff \t\r\n").lower()
    if start.startswith(_HTML_STARTS):
        return "is an HTML page; HTML is never accepted as an attachment."
    return None


def _svg(kind, scan, file):
    parser = expat.ParserCreate(namespace_separator=" ")
    root = []

    def start(name, attributes):
        if not root:
            root.append(name.rpartition(" ")[2])

    def refuse_entities(*args):
        raise ValueError("entity declarations are not accepted in SVG files")

    parser.StartElementHandler = start
    parser.EntityDeclHandler = refuse_entities
    try:
        parser.ParseFile(file)
    except (expat.ExpatError, ValueError):
        return "is not a valid SVG image: it must be well-formed XML without entities."
    if root != ["svg"]:
        return "is not an SVG image: its XML does not start with <svg>."
    return None


_CHECKS = {"signature": _signature, "office": _office, "text": _text, "svg": _svg}

"""Reading an uploaded roster file: bytes to text to rows, or a message saying why not.

Spreadsheets save CSV in many shapes. Accepted: UTF-8 (with or without a byte-order mark),
Windows-1252 (Excel's "CSV" on Western Windows), UTF-16 with a byte-order mark (Excel's
"Unicode text"), CRLF or LF line endings, and comma, semicolon or tab between cells. Header
names are matched ignoring case, spaces and order.
"""

import codecs
import csv
import io
import re
from dataclasses import dataclass, field

from portal.core.errors import InvalidInput

COLUMNS = ("email", "name", "team", "role", "hire_date", "language", "timezone")
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000
DELIMITERS = (",", ";", "\t")
# Other spellings people type in a header row.
HEADER_ALIASES = {"e_mail": "email", "time_zone": "timezone", "hiredate": "hire_date"}

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_XLSX_MAGIC = b"PK\x03\x04"
_XLS_MAGIC = b"\xd0\xcf\x11\xe0"
_SAVE_AS_CSV = "In Excel choose File › Save As › “CSV UTF-8”, then upload that file."


@dataclass
class RosterRow:
    """One person's row: its number in the file (the header is row 1) and its cells."""

    number: int
    cells: dict[str, str]
    problem: str | None = None  # a reading problem that makes this row unusable


@dataclass
class RosterFile:
    text: str
    delimiter: str
    rows: list[RosterRow] = field(default_factory=list)


def _refuse(message: str):
    raise InvalidInput({"file": message})


def decode(data: bytes) -> str:
    """The file's text, or InvalidInput when it is empty, binary or not in a known encoding."""
    if len(data) > MAX_FILE_BYTES:
        _refuse(f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB. Split it up.")
    if data.startswith(_XLSX_MAGIC) or data.startswith(_XLS_MAGIC):
        _refuse(f"This is an Excel workbook, not a CSV file. {_SAVE_AS_CSV}")
    try:
        if data.startswith(codecs.BOM_UTF8):
            text = data[len(codecs.BOM_UTF8) :].decode("utf-8")
        elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            text = data.decode("utf-16")
        elif b"\x00" in data:
            text = None
        else:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                text = data.decode("cp1252")
    except UnicodeDecodeError:
        text = None
    if text is None or _CONTROL_CHARS.search(text):
        _refuse(f"This file is not a text CSV file (it holds binary data). {_SAVE_AS_CSV}")
    if not text.strip():
        _refuse("The file is empty. Upload a CSV file with a header row and one row per person.")
    return text


def sniff_delimiter(text: str) -> str:
    """The delimiter the header row uses most among comma, semicolon and tab (comma if none)."""
    header = text.lstrip("\r\n").split("\n", 1)[0]
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _header_name(cell: str) -> str:
    name = re.sub(r"[\s\-]+", "_", cell.strip().lstrip("\ufeff").strip().lower())
    return HEADER_ALIASES.get(name, name)


def _map_header(cells: list[str]) -> dict[int, str]:
    """Column index to column name; InvalidInput for missing, unknown or repeated names."""
    names = [_header_name(c) for c in cells]
    mapping = {i: n for i, n in enumerate(names) if n}
    unknown = [cells[i].strip() for i, n in mapping.items() if n not in COLUMNS]
    repeated = sorted({n for n in mapping.values() if list(mapping.values()).count(n) > 1})
    missing = [c for c in COLUMNS if c not in mapping.values()]
    problems = []
    if missing:
        problems.append(f"Missing columns: {', '.join(missing)}.")
    if unknown:
        problems.append(f"Unknown columns: {', '.join(_quote(u) for u in unknown)}.")
    if repeated:
        problems.append(f"Columns named more than once: {', '.join(repeated)}.")
    if problems:
        _refuse(
            " ".join(problems) + " The first row must name exactly these columns, in any order: "
            f"{', '.join(COLUMNS)} (cells under team, role, hire_date, language and timezone "
            "may be left blank)."
        )
    return mapping


def _quote(value: str) -> str:
    value = value if len(value) <= 40 else value[:39] + "…"
    return f"“{value}”"


def parse(text: str) -> RosterFile:
    """Split decoded text into rows keyed by column name; InvalidInput for file-level problems.

    Blank rows are skipped. A row with values beyond the header's columns is kept with a
    ``problem`` so the preview can say which row it is.
    """
    delimiter = sniff_delimiter(text)
    result = RosterFile(text=text, delimiter=delimiter)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    mapping = None
    number = 0
    try:
        for cells in reader:
            number += 1
            if not any(c.strip() for c in cells):
                continue
            if mapping is None:
                mapping = _map_header(cells)
                continue
            if len(result.rows) >= MAX_ROWS:
                _refuse(
                    f"The file has more than {MAX_ROWS:,} people rows. "
                    f"Split it into files of at most {MAX_ROWS:,} rows."
                )
            result.rows.append(_row(number, cells, mapping))
    except csv.Error as error:
        _refuse(f"The file could not be read as CSV near row {number + 1}: {error}.")
    if mapping is None:
        _refuse("The file is empty. Upload a CSV file with a header row and one row per person.")
    if not result.rows:
        _refuse("The file has a header row but no people in it. Add one row per person.")
    return result


def _row(number: int, cells: list[str], mapping: dict[int, str]) -> RosterRow:
    values = dict.fromkeys(COLUMNS, "")
    stray = False
    for i, cell in enumerate(cells):
        name = mapping.get(i)
        if name is not None:
            values[name] = cell.strip()
        elif cell.strip():
            stray = True
    problem = None
    if stray:
        problem = (
            f"This row has values in more columns than the header names ({len(cells)} cells). "
            "Check for a stray separator; put a value that contains one in double quotes."
        )
    return RosterRow(number=number, cells=values, problem=problem)


def read_roster(data: bytes) -> RosterFile:
    """Decode and parse an uploaded file; InvalidInput({'file': message}) if it cannot be used."""
    return parse(decode(data))

"""Writing every compliance record to one JSON Lines file, and checking such a file later.

The file is UTF-8 JSON Lines. Each record is a line ``{"record": {...}, "type": "<table>"}``,
kind by kind (see ``kinds.py``), oldest first. Then a manifest line (format, export time,
count per type, the audit chain head at export time), then a seal line holding the SHA-256 of
every byte before it, so ``head -n -1 FILE | sha256sum`` prints the sealed digest. Changing,
adding or removing any byte makes ``verify_export`` fail.
"""

import hashlib
import json
import os
import tempfile
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select

from portal.audit.chain import utc_text
from portal.audit.models import AuditChainHead, AuditEvent
from portal.core.clock import utcnow
from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.records.kinds import ALL_KINDS

FORMAT = "portal-records/1"

Progress = Callable[[str, int], None]


class DamagedExport(Exception):
    """A records file that is not what ``export_records`` wrote: the message says where."""


@dataclass
class ExportSummary:
    """What a records file holds, as written or as verified."""

    path: str
    counts: dict[str, int]
    sha256: str
    chain_head: dict = field(default_factory=dict)
    exported_at: str = ""

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _json_value(value):
    if isinstance(value, datetime):
        return utc_text(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot export a {type(value).__name__}")


def _line(obj) -> bytes:
    """One line of the file: sorted-key, compact JSON and a newline."""
    text = json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_value
    )
    return (text + "\n").encode("utf-8")


def _target(path: str, force: bool) -> Path:
    """The file to write, or InvalidInput saying why it cannot be (nothing is written)."""
    target = Path(path)
    if target.is_dir():
        raise InvalidInput({"path": f"{path} is a folder; name a file in it instead."})
    if target.exists() and not force:
        raise InvalidInput(
            {"path": f"{path} already exists; name a new file, or pass --force to replace it."}
        )
    if not target.parent.is_dir():
        raise InvalidInput({"path": f"{target.parent} is not an existing folder."})
    return target


def _chain_head(connection) -> dict:
    head = AuditChainHead.__table__
    row = connection.execute(select(head.c.last_event_id, head.c.last_hash)).one_or_none()
    return {"event_id": row.last_event_id, "hash": row.last_hash} if row else {}


def _kind_rows(connection, kind, head: dict, batch_size: int):
    stmt = kind.select()
    if kind.table is AuditEvent.__table__ and head.get("event_id") is not None:
        # Events written during the export follow the head it names: leave them out.
        stmt = stmt.where(kind.table.c.id <= head["event_id"])
    return connection.execution_options(yield_per=batch_size).execute(stmt).mappings()


def _write(stream, connection, path: str, batch_size: int, every, on_progress) -> ExportSummary:
    """Write every record, the manifest and the seal of the file ``path`` to ``stream``."""
    digest, counts = hashlib.sha256(), {}
    head = _chain_head(connection)
    for kind in ALL_KINDS:
        counts[kind.name] = 0
        for row in _kind_rows(connection, kind, head, batch_size):
            line = _line({"type": kind.name, "record": dict(row)})
            digest.update(line)
            stream.write(line)
            counts[kind.name] += 1
            if on_progress and counts[kind.name] % every == 0:
                on_progress(kind.name, counts[kind.name])
        if on_progress:
            on_progress(kind.name, counts[kind.name])
    exported_at = utc_text(utcnow())
    manifest = _line(
        {
            "type": "manifest",
            "format": FORMAT,
            "exported_at": exported_at,
            "counts": counts,
            "audit_chain_head": head,
        }
    )
    digest.update(manifest)
    stream.write(manifest)
    stream.write(_line({"type": "seal", "sha256": digest.hexdigest()}))
    return ExportSummary(path, counts, digest.hexdigest(), head, exported_at)


def export_records(
    path: str,
    *,
    force: bool = False,
    batch_size: int = 1000,
    every: int = 10_000,
    on_progress: Progress | None = None,
) -> ExportSummary:
    """Write every compliance record to the file ``path``, sealed with its SHA-256.

    Rows are streamed ``batch_size`` at a time, so memory stays flat however many there are.
    The file appears only when complete (it is written beside the target, then renamed); an
    existing file is replaced only with ``force``. On PostgreSQL the whole export reads one
    snapshot; on SQLite each kind is read as it comes (records are only ever added).
    ``on_progress(kind, count)`` is called every ``every`` rows and at the end of each kind.
    """
    target = _target(path, force)
    try:
        handle, partial = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".partial"
        )
    except OSError as error:
        raise InvalidInput(
            {"path": f"Cannot write in {target.parent}: {error.strerror}."}
        ) from None
    try:
        with os.fdopen(handle, "wb") as stream, db.engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection = connection.execution_options(
                    isolation_level="REPEATABLE READ", postgresql_readonly=True
                )
            summary = _write(stream, connection, str(target), batch_size, every, on_progress)
        os.replace(partial, target)
    except OSError as error:
        os.unlink(partial)
        raise InvalidInput({"path": f"Could not write {path}: {error.strerror}."}) from None
    except BaseException:
        os.unlink(partial)
        raise
    return summary


def _parse(line: bytes, number: int) -> dict:
    try:
        obj = json.loads(line)
    except ValueError:
        raise DamagedExport(f"Line {number} is damaged: it is not valid JSON.") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
        raise DamagedExport(f"Line {number} is damaged: it names no type.")
    return obj


def _check_seal(line: bytes, number: int, digest: str) -> None:
    seal = _parse(line, number)
    if seal.get("type") != "seal" or _line(seal) != line or set(seal) != {"type", "sha256"}:
        raise DamagedExport(f"The last line ({number}) is not the seal the export writes.")
    if seal["sha256"] != digest:
        raise DamagedExport(
            f"The content does not match its seal: SHA-256 {digest}, sealed {seal['sha256']}. "
            "The file was changed after it was written."
        )


def _check_manifest(line: bytes, number: int, counts: Counter) -> dict:
    manifest = _parse(line, number)
    if manifest["type"] != "manifest" or manifest.get("format") != FORMAT:
        raise DamagedExport(f"Line {number} is not a {FORMAT} manifest.")
    listed = manifest.get("counts")
    if not isinstance(listed, dict):
        raise DamagedExport(f"The manifest on line {number} lists no counts.")
    expected = {name: n for name, n in listed.items() if n}
    if expected != dict(counts):
        raise DamagedExport(
            f"The file holds {dict(sorted(counts.items()))} but its manifest lists "
            f"{dict(sorted(expected.items()))}."
        )
    return manifest


def verify_stream(stream, name: str, *, every: int = 100_000, on_progress=None) -> ExportSummary:
    """Check an export read from the binary ``stream``: its seal, every line, the counts.

    Read line by line (memory stays flat). Raises DamagedExport naming the first problem.
    ``on_progress(lines)`` is called every ``every`` lines.
    """
    digest, counts, last_two = hashlib.sha256(), Counter(), deque()
    for number, line in enumerate(stream, 1):
        last_two.append((number, line))
        if len(last_two) == 3:
            record_number, record = last_two.popleft()
            digest.update(record)
            counts[_parse(record, record_number)["type"]] += 1
        if on_progress and number % every == 0:
            on_progress(number)
    if len(last_two) < 2:
        raise DamagedExport(f"{name} is not a records export: it has no manifest and seal.")
    (manifest_number, manifest_line), (seal_number, seal_line) = last_two
    digest.update(manifest_line)
    _check_seal(seal_line, seal_number, digest.hexdigest())
    manifest = _check_manifest(manifest_line, manifest_number, counts)
    return ExportSummary(
        name,
        manifest["counts"],
        digest.hexdigest(),
        manifest.get("audit_chain_head", {}),
        manifest.get("exported_at", ""),
    )


def verify_export(path: str, **options) -> ExportSummary:
    """Check the file ``path`` that ``export_records`` wrote (see ``verify_stream``)."""
    try:
        with open(path, "rb") as stream:
            return verify_stream(stream, path, **options)
    except OSError as error:
        raise DamagedExport(f"Cannot read {path}: {error.strerror}.") from None

"""`records export` writes every compliance record to a sealed file; `records verify` checks it."""

import io
import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from portal.announcements.models import AnnouncementRead
from portal.audit.models import AuditChainHead
from portal.audit.services import Actions, record
from portal.extensions import db
from portal.library.models import DocumentReview
from portal.onboarding.models import Enrolment, PathStep, SignOff, StartDateChange
from portal.people.models import User
from portal.records import services
from portal.records.kinds import ALL_KINDS, RECORDS
from tests.compliance_helpers import compliance_world_fixture  # noqa: F401 - the compliance_world fixture

WHEN = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def records_world(app, compliance_world):
    """The compliance world, plus one record of each kind it does not make by itself."""
    w = compliance_world
    with app.app_context():
        enrolment = db.session.scalars(select(Enrolment).order_by(Enrolment.id)).first()
        step = db.session.scalars(select(PathStep).order_by(PathStep.id)).first()
        db.session.add_all(
            [
                AnnouncementRead(user_id=w.otto.id, announcement_id=w.announcement, read_at=WHEN),
                DocumentReview(document_id=w.document, reviewed_by_id=w.prm.id, note="Still true"),
                StartDateChange(
                    enrolment_id=enrolment.id,
                    old_start=date(2026, 3, 2),
                    new_start=date(2026, 3, 9),
                    reason="Started a week later, “as agreed”",
                    changed_by_id=w.tess.id,
                ),
                SignOff(
                    enrolment_id=enrolment.id,
                    step_id=step.id,
                    sequence=1,
                    signed=True,
                    comment="Shadowed two calls",
                    by_id=w.tess.id,
                ),
            ]
        )
        db.session.commit()
    return w


@pytest.fixture
def out(tmp_path):
    """An empty folder for exports (the app keeps its own files in ``tmp_path``)."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def _table_counts(app) -> dict[str, int]:
    with app.app_context():
        return {
            kind.name: db.session.scalar(select(func.count()).select_from(kind.table))
            for kind in ALL_KINDS
        }


def _export_file(app, path):
    with app.app_context():
        return services.export_records(str(path))


def _export(runner, path, *args):
    return runner.invoke(args=["records", "export", str(path), *args])


def _verify(runner, path):
    return runner.invoke(args=["records", "verify", str(path)])


def _refused(result, phrase):
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert phrase in result.stderr, result.stderr


def _lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def _reseal(path, lines: list[dict]) -> None:
    """Write ``lines`` with a correct seal, as someone forging a file would."""
    body = b"".join(services._line(obj) for obj in lines[:-1])
    seal = services._line({"type": "seal", "sha256": services.hashlib.sha256(body).hexdigest()})
    path.write_bytes(body + seal)


def test_export_then_verify(app, runner, records_world, tmp_path):
    """An export verifies: both commands name the same digest and the same counts."""
    path = tmp_path / "records.jsonl"
    exported = _export(runner, path)
    assert exported.exit_code == 0, exported.output
    assert f"to {path}" in exported.stdout and "acknowledgement 5" in exported.stdout
    verified = _verify(runner, path)
    assert verified.exit_code == 0, verified.output
    assert verified.stdout.startswith(f"OK: {path} is intact")
    digest = exported.stdout.split("SHA-256 ")[1].split()[0]
    assert f"SHA-256 {digest}" in verified.stdout
    head = _lines(path)[-2]["audit_chain_head"]
    assert f"event {head['event_id']}, hash {head['hash']}" in verified.stdout


def test_counts_match_the_database(app, records_world, tmp_path):
    """Every row of every kind is exported once: the manifest's counts are the tables' counts."""
    summary = _export_file(app, tmp_path / "records.jsonl")
    counts = _table_counts(app)
    assert summary.counts == counts
    assert all(counts[kind.name] > 0 for kind in RECORDS), counts
    lines = _lines(tmp_path / "records.jsonl")
    written = {}
    for line in lines[:-2]:
        written.setdefault(line["type"], []).append(line["record"]["id"])
    assert {name: len(ids) for name, ids in written.items()} == counts
    assert all(ids == sorted(set(ids)) for ids in written.values())
    with app.app_context():
        head = db.session.get(AuditChainHead, 1)
    assert lines[-2]["audit_chain_head"] == {"event_id": head.last_event_id, "hash": head.last_hash}
    assert written["audit_event"][-1] == head.last_event_id


def test_records_keep_their_values_and_no_secrets(app, records_world, tmp_path):
    """A record reads back as stored (UTC times, JSON answers); password hashes stay out."""
    path = tmp_path / "records.jsonl"
    _export_file(app, path)
    lines = _lines(path)
    by_type = {}
    for line in lines[:-2]:
        by_type.setdefault(line["type"], []).append(line["record"])
    (read,) = [r for r in by_type["announcement_read"] if r["user_id"] == records_world.otto.id]
    assert read["read_at"] == "2026-03-02T10:00:00.000000Z"
    (change,) = by_type["onboarding_start_change"]
    assert (change["new_start"], change["reason"]) == (
        "2026-03-09",
        "Started a week later, “as agreed”",
    )
    assert all(isinstance(a["questions"], list) for a in by_type["quiz_attempt"])
    assert "password_hash" not in by_type["user"][0]
    with app.app_context():
        hashes = db.session.scalars(select(User.password_hash)).all()
    text = path.read_text("utf-8")
    assert all(h not in text for h in hashes if h)


def test_any_changed_byte_is_found(app, make_user, tmp_path):
    """Flipping any single byte of an export, anywhere, makes verify fail."""
    pam = make_user(role="prm", name="Pam Ñúñez")
    with app.app_context():
        record(Actions.PERSON_CREATED, actor=pam, summary="Pam Ñúñez joined", source="test")
        db.session.commit()
    path = tmp_path / "records.jsonl"
    _export_file(app, path)
    original = path.read_bytes()
    assert services.verify_export(str(path)).total == 2  # the person and her creation event
    for at in range(len(original)):
        damaged = bytearray(original)
        damaged[at] ^= 0x01
        with pytest.raises(services.DamagedExport):
            services.verify_stream(io.BytesIO(bytes(damaged)), "damaged")


def test_verify_names_what_is_wrong(app, runner, records_world, tmp_path):
    """Verify explains a changed record, a cut file, an empty file and counts that differ."""
    path = tmp_path / "records.jsonl"
    _export_file(app, path)
    original = path.read_bytes()
    path.write_bytes(original.replace(b"Still true", b"Still TRUE"))
    _refused(_verify(runner, path), "The content does not match its seal")
    path.write_bytes(original.rsplit(b"\n", 2)[0] + b"\n")
    _refused(_verify(runner, path), "is not the seal the export writes")
    path.write_bytes(b"")
    _refused(_verify(runner, path), "is not a records export")
    lines = [json.loads(line) for line in original.splitlines()]
    del lines[0]  # a forger drops a record and seals the file again
    _reseal(path, lines)
    _refused(_verify(runner, path), "but its manifest lists")
    _refused(_verify(runner, tmp_path / "missing.jsonl"), "Cannot read")


def test_an_existing_file_is_kept_unless_forced(runner, records_world, out):
    """Export refuses to overwrite a file; --force replaces it with a sound export."""
    path = out / "records.jsonl"
    path.write_text("keep me")
    _refused(_export(runner, path), "already exists; name a new file, or pass --force")
    assert path.read_text() == "keep me"
    assert _export(runner, path, "--force").exit_code == 0
    assert _verify(runner, path).exit_code == 0
    assert [p.name for p in out.iterdir()] == ["records.jsonl"]


def test_unwritable_paths_get_a_message(runner, out):
    """A folder, a missing folder or a file in the way is named; nothing is written."""
    (out / "plain-file").write_text("")
    _refused(_export(runner, out), "is a folder; name a file in it instead")
    _refused(_export(runner, out / "nowhere" / "r.jsonl"), "is not an existing folder")
    _refused(_export(runner, out / "plain-file" / "r.jsonl"), "is not an existing folder")
    assert [p.name for p in out.iterdir()] == ["plain-file"]


def test_progress_goes_to_stderr(runner, records_world, tmp_path):
    """Progress lines go to stderr, one per kind and every N rows; stdout keeps the summary."""
    result = _export(runner, tmp_path / "records.jsonl", "--progress-every", "2")
    assert result.exit_code == 0, result.output
    assert "  acknowledgement: 2 exported" in result.stderr
    assert "  acknowledgement: 5 exported" in result.stderr
    assert "Exported" in result.stdout and "acknowledgement: 2 exported" not in result.stdout


@pytest.mark.parametrize("command", ["export", "verify"])
def test_help_exits_zero(runner, command):
    """Both commands explain themselves with --help."""
    result = runner.invoke(args=["records", command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output and "PATH" in result.output

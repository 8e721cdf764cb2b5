"""``flask --app wsgi content sync [DIR]``: company-wide documents kept as Markdown files."""

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.acknowledgements.services import ack_status, acknowledge
from portal.audit.models import AuditEvent
from portal.audit.services import Actions
from portal.demo.services import load_demo
from portal.extensions import db
from portal.library import services
from portal.library.models import Document, DocumentKind, DocumentVersion
from portal.library.sync import default_folder
from portal.people.models import User

REPO = Path(__file__).resolve().parent.parent


def _text(
    slug, *, title=None, kind="playbook", body="Read this first.\n\n## Steps\n\nDo it.", **fields
):
    """A content file: front matter from ``fields`` (values written as YAML) and a body."""
    lines = ["---", f"title: {title or slug.replace('-', ' ').capitalize()}", f"slug: {slug}"]
    lines.append(f"kind: {kind}")
    lines += [f"{key}: {value}" for key, value in fields.items()]
    return "\n".join([*lines, "---", body, ""])


def _write(folder, name, text):
    path = folder / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def _sync(runner, folder, *args):
    return runner.invoke(args=["content", "sync", str(folder), *args])


def _lines(output):
    """{file name: the rest of its output line}."""
    return {
        line.split()[0]: line.split(None, 1)[1]
        for line in output.splitlines()
        if line.split() and line.split()[0].endswith(".md")
    }


def _document(slug):
    return db.session.scalars(select(Document).where(Document.slug == slug)).first()


def _versions(document):
    return db.session.scalars(
        select(DocumentVersion)
        .where(DocumentVersion.document_id == document.id)
        .order_by(DocumentVersion.number)
    ).all()


def _count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_sync_creates_and_publishes_documents_with_their_settings(
    app, runner, tmp_path, make_partner, make_team
):
    """New files become published company-wide documents with the file's kind, tags, audience
    (partner slugs, partner/team names, roles, languages), acknowledgement and review date; each
    gets a 'created' line and an audit event; the folder's README is not a document."""
    atlas = make_partner(slug="atlas", name="Atlas")
    team = make_team(partner=atlas, name="Manila Billing")
    _write(tmp_path, "README.md", "# How to write these files\n")
    _write(
        tmp_path,
        "refunds.md",
        _text(
            "refund-requests",
            title="Refund requests",
            tags="[Billing, refunds, billing]",
            audience=(
                "\n  partners: [atlas]\n  teams: ['atlas/manila billing']"
                "\n  roles: [agent]\n  languages: [en, es]"
            ),
            requires_ack="true",
            attestation="true",
            summary="Refund limit raised to $150 without approval",
            review_by="2027-06-01",
        ),
    )
    _write(tmp_path, "brand.md", _text("brand-voice", kind="brand"))

    result = _sync(runner, tmp_path)

    assert result.exit_code == 0, result.output
    lines = _lines(result.output)
    assert set(lines) == {"refunds.md", "brand.md"}
    assert lines["refunds.md"].startswith("created")
    assert "2 files: 2 created, 0 errors." in result.output
    with app.app_context():
        document = _document("refund-requests")
        assert document.status == "published" and document.partner_id is None
        assert (document.title, document.kind, document.tags) == (
            "Refund requests",
            "playbook",
            ["billing", "refunds"],
        )
        audience = document.audience
        assert (audience.partner_ids, audience.team_ids) == ([atlas.id], [team.id])
        assert (audience.roles, audience.languages) == (["agent"], ["en", "es"])
        assert document.requires_ack and document.attestation
        assert document.review_by == date(2027, 6, 1)
        [version] = _versions(document)
        assert (version.number, version.change_level) == (1, "material")
        assert version.summary == "Refund limit raised to $150 without approval"
        assert version.body == "Read this first.\n\n## Steps\n\nDo it."
        assert "<h2" in version.html and document.ack_from_number == 1
        assert _document("brand-voice").audience.is_everyone
        assert _versions(_document("brand-voice"))[0].summary == "First version"
        synced = db.session.scalars(
            select(AuditEvent.target_id).where(AuditEvent.action == Actions.CONTENT_SYNCED)
        ).all()
        assert sorted(synced) == sorted(d.id for d in db.session.scalars(select(Document)))


def test_second_sync_reports_unchanged_and_writes_nothing(app, runner, tmp_path):
    """Syncing the same files again says 'unchanged' for each and writes no version or event."""
    _write(tmp_path, "a.md", _text("alpha"))
    _write(tmp_path, "b.md", _text("beta", kind="policy", requires_ack="true"))
    assert _sync(runner, tmp_path).exit_code == 0
    with app.app_context():
        before = (_count(DocumentVersion), _count(AuditEvent))

    result = _sync(runner, tmp_path)

    assert result.exit_code == 0
    assert _lines(result.output) == {"a.md": "unchanged  version 1", "b.md": "unchanged  version 1"}
    assert "2 files: 2 unchanged, 0 errors." in result.output
    with app.app_context():
        assert (_count(DocumentVersion), _count(AuditEvent)) == before


def test_changed_text_makes_a_material_or_minor_version(app, runner, tmp_path, make_user):
    """A changed body with change: material publishes a version that asks readers to
    acknowledge again (showing what changed since theirs); a minor one keeps their
    acknowledgement valid; a changed title alone is a new version too."""
    agent = make_user(role="agent")
    path = _write(tmp_path, "refunds.md", _text("refunds", requires_ack="true"))
    assert _sync(runner, tmp_path).exit_code == 0
    with app.app_context():
        document = _document("refunds")
        acknowledge(db.session.get(User, agent.id), document, document.current_version_id)
        db.session.commit()

    body = "Refund up to $150 without approval.\n\n## Steps\n\nDo it."
    _write(
        tmp_path,
        path.name,
        _text(
            "refunds",
            body=body,
            requires_ack="true",
            change="material",
            summary="Limit raised to $150",
        ),
    )
    result = _sync(runner, tmp_path)
    assert _lines(result.output)["refunds.md"] == "new version 2 (material)  Limit raised to $150"
    with app.app_context():
        document = _document("refunds")
        assert document.ack_from_number == 2
        status = ack_status(db.session.get(User, agent.id), document)
        assert status.needs_ack and status.since_number == 1
        acknowledge(db.session.get(User, agent.id), document, document.current_version_id)
        db.session.commit()

    _write(
        tmp_path,
        path.name,
        _text(
            "refunds",
            body=body + "\n\nTypo fixed.",
            requires_ack="true",
            change="minor",
            summary="Typo",
        ),
    )
    assert _lines(_sync(runner, tmp_path).output)["refunds.md"] == "new version 3 (minor)  Typo"
    _write(
        tmp_path,
        path.name,
        _text(
            "refunds",
            title="Refunds and credits",
            body=body + "\n\nTypo fixed.",
            requires_ack="true",
            change="minor",
            summary="Renamed",
        ),
    )
    assert _lines(_sync(runner, tmp_path).output)["refunds.md"] == "new version 4 (minor)  Renamed"
    with app.app_context():
        document = _document("refunds")
        assert [v.change_level for v in _versions(document)] == [
            "material",
            "material",
            "minor",
            "minor",
        ]
        assert document.ack_from_number == 2 and document.title == "Refunds and credits"
        assert not ack_status(db.session.get(User, agent.id), document).needs_ack


def test_changed_settings_update_the_document_without_a_version(app, runner, tmp_path):
    """Changing only tags, acknowledgement or review date updates the settings ('settings
    updated', naming them) and publishes no version; acknowledgements stay current."""
    _write(tmp_path, "a.md", _text("alpha", tags="[one]"))
    assert _sync(runner, tmp_path).exit_code == 0
    _write(
        tmp_path,
        "a.md",
        _text(
            "alpha", kind="policy", tags="[one, two]", requires_ack="true", review_by="2027-01-31"
        ),
    )

    result = _sync(runner, tmp_path)

    assert result.exit_code == 0
    assert _lines(result.output)["a.md"] == (
        "settings updated  changed kind, tags, requires_ack, review_by"
    )
    with app.app_context():
        document = _document("alpha")
        assert (document.kind, document.tags, document.requires_ack) == (
            "policy",
            ["one", "two"],
            True,
        )
        assert document.review_by == date(2027, 1, 31)
        assert len(_versions(document)) == 1 and document.ack_from_number == 1


def test_review_confirmed_in_the_portal_is_not_undone(app, runner, tmp_path, make_user):
    """A review confirmed in the portal moved review_by later; syncing the file with its older
    date leaves the later one and reports the file unchanged."""
    prm = make_user(role="prm")
    _write(tmp_path, "a.md", _text("alpha", review_by="2026-01-31"))
    assert _sync(runner, tmp_path).exit_code == 0
    with app.app_context():
        services.confirm_review(
            db.session.get(User, prm.id), _document("alpha"), next_review_by=date(2030, 1, 1)
        )
        db.session.commit()

    result = _sync(runner, tmp_path)

    assert _lines(result.output)["a.md"] == "unchanged  version 1"
    with app.app_context():
        assert _document("alpha").review_by == date(2030, 1, 1)


GOOD = _text("good-document")
BAD_FILES = [
    ("not YAML", _text("x", tags="[unclosed"), "the front matter is not valid YAML"),
    ("no front matter", "Just some text.\n", "the file has no front matter"),
    ("unknown kind", _text("x", kind="handbook"), "kind: “handbook” is not a kind of document"),
    ("unknown change", _text("x", change="major"), "change: “major” is not a change level"),
    (
        "unknown partner",
        _text("x", audience="\n  partners: [nowhere]"),
        "audience.partners: no partner has the slug “nowhere”",
    ),
    (
        "unknown team",
        _text("x", audience="\n  teams: ['atlas/Night Shift']"),
        "audience.teams: “atlas/Night Shift”: Atlas has no team “Night Shift”",
    ),
    (
        "team without partner",
        _text("x", audience="\n  teams: [Manila Billing]"),
        "write “Manila Billing” as partner-slug/Team name",
    ),
    ("unknown role", _text("x", audience="\n  roles: [admin]"), "audience.roles: Audiences are"),
    (
        "not UTF-8",
        "---\ntitle: Caf\xe9\nslug: x\nkind: brand\n---\nText\n".encode("latin-1"),
        "the file is not UTF-8 text (byte 0xe9",
    ),
    ("bad date", _text("x", review_by="2027-02-30"), "review_by: “2027-02-30” is not a date"),
    ("bad date format", _text("x", review_by="1 June 2027"), "review_by: “1 June 2027” is not"),
    ("missing title", "---\nslug: x\nkind: brand\n---\nText\n", "title: missing"),
    ("missing slug", "---\ntitle: X\nkind: brand\n---\nText\n", "slug: missing"),
    ("bad slug", _text("Not A Slug!"), "is not a slug"),
    ("misspelt field", _text("x", requires_acks="true"), "unknown field(s) requires_acks"),
    ("not a flag", _text("x", requires_ack="maybe"), "requires_ack: write true or false"),
    ("attestation alone", _text("x", attestation="true"), "attestation: a typed-name"),
    ("no text", _text("x", body=""), "the file has no text after the front matter"),
]


@pytest.mark.parametrize(
    ("content", "message"), [case[1:] for case in BAD_FILES], ids=[c[0] for c in BAD_FILES]
)
def test_a_bad_file_gets_a_message_and_changes_nothing(
    app, runner, tmp_path, make_partner, content, message
):
    """A bad file is reported as an error with a message saying what to fix and creates
    nothing; the good file beside it is applied; the command exits non-zero."""
    make_partner(slug="atlas", name="Atlas")
    _write(tmp_path, "a-bad.md", content)
    _write(tmp_path, "b-good.md", GOOD)

    result = _sync(runner, tmp_path)

    assert result.exit_code == 1
    lines = _lines(result.output)
    assert lines["a-bad.md"].startswith("error")
    assert message in lines["a-bad.md"]
    assert lines["b-good.md"].startswith("created")
    assert "2 files: 1 created, 1 error." in result.output
    assert "Files with errors changed nothing" in result.output
    with app.app_context():
        assert db.session.scalars(select(Document.slug)).all() == ["good-document"]
        assert _count(AuditEvent, AuditEvent.action == Actions.CONTENT_SYNCED) == 1


def test_a_bad_change_to_an_existing_document_changes_nothing(app, runner, tmp_path):
    """A known document whose file turns bad (here: an unknown kind and new text) keeps its
    settings and versions; so does one whose text changed without a new summary."""
    _write(tmp_path, "a.md", _text("alpha", summary="First"))
    _write(tmp_path, "b.md", _text("beta", summary="First"))
    assert _sync(runner, tmp_path).exit_code == 0
    _write(tmp_path, "a.md", _text("alpha", kind="handbook", body="New text."))
    _write(tmp_path, "b.md", _text("beta", body="New text.", summary="First", tags="[new]"))

    result = _sync(runner, tmp_path)

    assert result.exit_code == 1
    lines = _lines(result.output)
    assert "“handbook” is not a kind of document" in lines["a.md"]
    assert "“First” is the summary of version 1; say what changed this time" in lines["b.md"]
    with app.app_context():
        for slug in ("alpha", "beta"):
            document = _document(slug)
            assert (document.kind, document.tags, len(_versions(document))) == ("playbook", [], 1)


def test_files_sharing_a_slug_are_both_refused(app, runner, tmp_path):
    """Two files with one slug are both errors naming each other; other files are applied."""
    _write(tmp_path, "one.md", _text("same", title="One"))
    _write(tmp_path, "two.md", _text("same", title="Two"))
    _write(tmp_path, "three.md", _text("other"))

    result = _sync(runner, tmp_path)

    assert result.exit_code == 1
    lines = _lines(result.output)
    assert "slug: “same” is also the slug of two.md" in lines["one.md"]
    assert "slug: “same” is also the slug of one.md" in lines["two.md"]
    assert lines["three.md"].startswith("created")
    with app.app_context():
        assert db.session.scalars(select(Document.slug)).all() == ["other"]


def test_a_partner_local_slug_is_refused(app, runner, tmp_path, make_user, make_document):
    """A file may not take over a trainer's partner-local document."""
    trainer = make_user(role="trainer")
    make_document("Our shift handover", author=trainer, slug="shift-handover")
    _write(tmp_path, "handover.md", _text("shift-handover", body="Company text."))

    result = _sync(runner, tmp_path)

    assert result.exit_code == 1
    assert "belongs to a partner-local document" in _lines(result.output)["handover.md"]
    with app.app_context():
        [version] = _versions(_document("shift-handover"))
        assert version.body != "Company text."


def test_a_draft_started_in_the_portal_is_not_overwritten(app, runner, tmp_path, make_user):
    """When someone is drafting the next version in the portal, a changed file is refused so
    their draft survives; an archived document is refused the same way."""
    prm = make_user(role="prm")
    _write(tmp_path, "a.md", _text("alpha"))
    _write(tmp_path, "b.md", _text("beta"))
    assert _sync(runner, tmp_path).exit_code == 0
    with app.app_context():
        actor = db.session.get(User, prm.id)
        services.save_draft(actor, _document("alpha"), title="Alpha", body="Portal draft.")
        services.archive(actor, _document("beta"))
        db.session.commit()
    _write(tmp_path, "a.md", _text("alpha", body="File text.", summary="From the file"))
    _write(tmp_path, "b.md", _text("beta", body="File text.", summary="From the file"))

    result = _sync(runner, tmp_path)

    lines = _lines(result.output)
    assert "a draft of version 2 was started in the portal" in lines["a.md"]
    assert "the document is archived" in lines["b.md"]
    with app.app_context():
        assert services.current_draft(_document("alpha")).body == "Portal draft."
        assert len(_versions(_document("beta"))) == 1


def test_dry_run_reports_but_writes_nothing(app, runner, tmp_path):
    """--dry-run prints what a sync would do and leaves the library as it was."""
    _write(tmp_path, "a.md", _text("alpha"))
    assert _sync(runner, tmp_path).exit_code == 0
    _write(tmp_path, "a.md", _text("alpha", body="New text.", summary="Rewritten"))
    _write(tmp_path, "b.md", _text("beta"))
    with app.app_context():
        before = (_count(Document), _count(DocumentVersion), _count(AuditEvent))

    result = _sync(runner, tmp_path, "--dry-run")

    assert result.exit_code == 0
    lines = _lines(result.output)
    assert lines["a.md"] == "new version 2 (material)  Rewritten"
    assert lines["b.md"].startswith("created")
    assert "Dry run: nothing was written." in result.output
    with app.app_context():
        assert (_count(Document), _count(DocumentVersion), _count(AuditEvent)) == before


def test_owner_option_and_bad_arguments(app, runner, tmp_path, make_user):
    """--owner makes an admin or PRM the owner of new documents; an unknown owner or a
    missing folder is refused with a message before anything is written."""
    prm = make_user(role="prm", email="prm@lumen.example")
    agent = make_user(role="agent")
    _write(tmp_path, "a.md", _text("alpha"))

    for args, message in (
        (["--owner", agent.email], "No active admin or PRM has the email"),
        (["--owner", "nobody@example.com"], "No active admin or PRM has the email"),
    ):
        result = _sync(runner, tmp_path, *args)
        assert result.exit_code == 1 and message in result.output
    missing = runner.invoke(args=["content", "sync", str(tmp_path / "missing")])
    assert missing.exit_code == 1 and "There is no folder" in missing.output
    with app.app_context():
        assert _count(Document) == 0

    assert _sync(runner, tmp_path, "--owner", "PRM@lumen.example").exit_code == 0
    with app.app_context():
        assert _document("alpha").owner_id == prm.id


def test_the_shipped_content_folder_syncs_cleanly(app, runner, tmp_path, monkeypatch):
    """Without a folder argument the command syncs the repository's content/ folder (whatever
    the working directory): every file is created without error, at least twelve documents
    across all five kinds, rendered with headings and tables."""
    with app.app_context():
        load_demo()  # the partners and teams some files address
        db.session.commit()
        assert default_folder() == REPO / "content"
    monkeypatch.chdir(tmp_path)

    result = runner.invoke(args=["content", "sync"])

    assert result.exit_code == 0, result.output
    lines = _lines(result.output)
    files = sorted(p.name for p in (REPO / "content").glob("*.md") if p.name != "README.md")
    assert sorted(lines) == files and len(files) >= 12
    assert all(line.startswith("created") for line in lines.values()), result.output
    with app.app_context():
        documents = db.session.scalars(select(Document)).all()
        assert len(documents) == len(files)
        assert {d.kind for d in documents} == set(DocumentKind)
        assert any(d.requires_ack and d.attestation for d in documents)
        assert any(d.review_by and d.review_by < date.today() for d in documents)
        versions = db.session.scalars(select(DocumentVersion)).all()
        assert all("<h2" in v.html for v in versions)
        assert any("<table>" in v.html for v in versions)
        assert not any(d.audience.is_everyone for d in documents if "pilot" in d.slug)

"""``flask --app wsgi content sync [DIR]``: company-wide documents kept as Markdown files."""

from datetime import date

from sqlalchemy import select

from portal.acknowledgements.services import ack_status, acknowledge
from portal.audit.models import AuditEvent
from portal.audit.services import Actions
from portal.demo.services import load_demo
from portal.extensions import db
from portal.library import services
from portal.library.models import Document, DocumentKind, DocumentVersion
from portal.library.sync import default_folder
from portal.people.models import User
from tests.content_sync_helpers import (
    REPO,
    content_file,
    count_rows,
    document_by_slug,
    output_lines,
    sync,
    versions_of,
    write_file,
)


def test_sync_creates_and_publishes_documents_with_their_settings(
    app, runner, tmp_path, make_partner, make_team
):
    """New files become published company-wide documents with the file's kind, tags, audience
    (partner slugs, partner/team names, roles, languages), acknowledgement and review date; each
    gets a 'created' line and an audit event; the folder's README is not a document."""
    atlas = make_partner(slug="atlas", name="Atlas")
    team = make_team(partner=atlas, name="Manila Billing")
    write_file(tmp_path, "README.md", "# How to write these files\n")
    write_file(
        tmp_path,
        "refunds.md",
        content_file(
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
    write_file(tmp_path, "brand.md", content_file("brand-voice", kind="brand"))

    result = sync(runner, tmp_path)

    assert result.exit_code == 0, result.output
    lines = output_lines(result.output)
    assert set(lines) == {"refunds.md", "brand.md"}
    assert lines["refunds.md"].startswith("created")
    assert "2 files: 2 created, 0 errors." in result.output
    with app.app_context():
        document = document_by_slug("refund-requests")
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
        [version] = versions_of(document)
        assert (version.number, version.change_level) == (1, "material")
        assert version.summary == "Refund limit raised to $150 without approval"
        assert version.body == "Read this first.\n\n## Steps\n\nDo it."
        assert "<h2" in version.html and document.ack_from_number == 1
        assert document_by_slug("brand-voice").audience.is_everyone
        assert versions_of(document_by_slug("brand-voice"))[0].summary == "First version"
        synced = db.session.scalars(
            select(AuditEvent.target_id).where(AuditEvent.action == Actions.CONTENT_SYNCED)
        ).all()
        assert sorted(synced) == sorted(d.id for d in db.session.scalars(select(Document)))


def test_second_sync_reports_unchanged_and_writes_nothing(app, runner, tmp_path):
    """Syncing the same files again says 'unchanged' for each and writes no version or event."""
    write_file(tmp_path, "a.md", content_file("alpha"))
    write_file(tmp_path, "b.md", content_file("beta", kind="policy", requires_ack="true"))
    assert sync(runner, tmp_path).exit_code == 0
    with app.app_context():
        before = (count_rows(DocumentVersion), count_rows(AuditEvent))

    result = sync(runner, tmp_path)

    assert result.exit_code == 0
    assert output_lines(result.output) == {
        "a.md": "unchanged  version 1",
        "b.md": "unchanged  version 1",
    }
    assert "2 files: 2 unchanged, 0 errors." in result.output
    with app.app_context():
        assert (count_rows(DocumentVersion), count_rows(AuditEvent)) == before


def test_changed_text_makes_a_material_or_minor_version(app, runner, tmp_path, make_user):
    """A changed body with change: material publishes a version that asks readers to
    acknowledge again (showing what changed since theirs); a minor one keeps their
    acknowledgement valid; a changed title alone is a new version too."""
    agent = make_user(role="agent")
    path = write_file(tmp_path, "refunds.md", content_file("refunds", requires_ack="true"))
    assert sync(runner, tmp_path).exit_code == 0
    with app.app_context():
        document = document_by_slug("refunds")
        acknowledge(db.session.get(User, agent.id), document, document.current_version_id)
        db.session.commit()

    body = "Refund up to $150 without approval.\n\n## Steps\n\nDo it."
    write_file(
        tmp_path,
        path.name,
        content_file(
            "refunds",
            body=body,
            requires_ack="true",
            change="material",
            summary="Limit raised to $150",
        ),
    )
    result = sync(runner, tmp_path)
    assert (
        output_lines(result.output)["refunds.md"]
        == "new version 2 (material)  Limit raised to $150"
    )
    with app.app_context():
        document = document_by_slug("refunds")
        assert document.ack_from_number == 2
        status = ack_status(db.session.get(User, agent.id), document)
        assert status.needs_ack and status.since_number == 1
        acknowledge(db.session.get(User, agent.id), document, document.current_version_id)
        db.session.commit()

    write_file(
        tmp_path,
        path.name,
        content_file(
            "refunds",
            body=body + "\n\nTypo fixed.",
            requires_ack="true",
            change="minor",
            summary="Typo",
        ),
    )
    assert (
        output_lines(sync(runner, tmp_path).output)["refunds.md"] == "new version 3 (minor)  Typo"
    )
    write_file(
        tmp_path,
        path.name,
        content_file(
            "refunds",
            title="Refunds and credits",
            body=body + "\n\nTypo fixed.",
            requires_ack="true",
            change="minor",
            summary="Renamed",
        ),
    )
    assert (
        output_lines(sync(runner, tmp_path).output)["refunds.md"]
        == "new version 4 (minor)  Renamed"
    )
    with app.app_context():
        document = document_by_slug("refunds")
        assert [v.change_level for v in versions_of(document)] == [
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
    write_file(tmp_path, "a.md", content_file("alpha", tags="[one]"))
    assert sync(runner, tmp_path).exit_code == 0
    write_file(
        tmp_path,
        "a.md",
        content_file(
            "alpha", kind="policy", tags="[one, two]", requires_ack="true", review_by="2027-01-31"
        ),
    )

    result = sync(runner, tmp_path)

    assert result.exit_code == 0
    assert output_lines(result.output)["a.md"] == (
        "settings updated  changed kind, tags, requires_ack, review_by"
    )
    with app.app_context():
        document = document_by_slug("alpha")
        assert (document.kind, document.tags, document.requires_ack) == (
            "policy",
            ["one", "two"],
            True,
        )
        assert document.review_by == date(2027, 1, 31)
        assert len(versions_of(document)) == 1 and document.ack_from_number == 1


def test_review_confirmed_in_the_portal_is_not_undone(app, runner, tmp_path, make_user):
    """A review confirmed in the portal moved review_by later; syncing the file with its older
    date leaves the later one and reports the file unchanged."""
    prm = make_user(role="prm")
    write_file(tmp_path, "a.md", content_file("alpha", review_by="2026-01-31"))
    assert sync(runner, tmp_path).exit_code == 0
    with app.app_context():
        services.confirm_review(
            db.session.get(User, prm.id), document_by_slug("alpha"), next_review_by=date(2030, 1, 1)
        )
        db.session.commit()

    result = sync(runner, tmp_path)

    assert output_lines(result.output)["a.md"] == "unchanged  version 1"
    with app.app_context():
        assert document_by_slug("alpha").review_by == date(2030, 1, 1)


def test_dry_run_reports_but_writes_nothing(app, runner, tmp_path):
    """--dry-run prints what a sync would do and leaves the library as it was."""
    write_file(tmp_path, "a.md", content_file("alpha"))
    assert sync(runner, tmp_path).exit_code == 0
    write_file(tmp_path, "a.md", content_file("alpha", body="New text.", summary="Rewritten"))
    write_file(tmp_path, "b.md", content_file("beta"))
    with app.app_context():
        before = (count_rows(Document), count_rows(DocumentVersion), count_rows(AuditEvent))

    result = sync(runner, tmp_path, "--dry-run")

    assert result.exit_code == 0
    lines = output_lines(result.output)
    assert lines["a.md"] == "new version 2 (material)  Rewritten"
    assert lines["b.md"].startswith("created")
    assert "Dry run: nothing was written." in result.output
    with app.app_context():
        assert (count_rows(Document), count_rows(DocumentVersion), count_rows(AuditEvent)) == before


def test_owner_option_and_bad_arguments(app, runner, tmp_path, make_user):
    """--owner makes an admin or PRM the owner of new documents; an unknown owner or a
    missing folder is refused with a message before anything is written."""
    prm = make_user(role="prm", email="prm@lumen.example")
    agent = make_user(role="agent")
    write_file(tmp_path, "a.md", content_file("alpha"))

    for args, message in (
        (["--owner", agent.email], "No active admin or PRM has the email"),
        (["--owner", "nobody@example.com"], "No active admin or PRM has the email"),
    ):
        result = sync(runner, tmp_path, *args)
        assert result.exit_code == 1 and message in result.output
    missing = runner.invoke(args=["content", "sync", str(tmp_path / "missing")])
    assert missing.exit_code == 1 and "There is no folder" in missing.output
    with app.app_context():
        assert count_rows(Document) == 0

    assert sync(runner, tmp_path, "--owner", "PRM@lumen.example").exit_code == 0
    with app.app_context():
        assert document_by_slug("alpha").owner_id == prm.id


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
    lines = output_lines(result.output)
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

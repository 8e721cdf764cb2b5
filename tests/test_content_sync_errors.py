"""`content sync` with bad files: each gets a clear message and changes nothing."""

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.audit.services import Actions
from portal.extensions import db
from portal.library import services
from portal.library.models import Document
from portal.people.models import User
from tests.content_sync_helpers import (
    content_file,
    count_rows,
    document_by_slug,
    output_lines,
    sync,
    versions_of,
    write_file,
)

GOOD = content_file("good-document")
BAD_FILES = [
    ("not YAML", content_file("x", tags="[unclosed"), "the front matter is not valid YAML"),
    ("no front matter", "Just some text.\n", "the file has no front matter"),
    (
        "unknown kind",
        content_file("x", kind="handbook"),
        "kind: “handbook” is not a kind of document",
    ),
    ("unknown change", content_file("x", change="major"), "change: “major” is not a change level"),
    (
        "unknown partner",
        content_file("x", audience="\n  partners: [nowhere]"),
        "audience.partners: no partner has the slug “nowhere”",
    ),
    (
        "unknown team",
        content_file("x", audience="\n  teams: ['atlas/Night Shift']"),
        "audience.teams: “atlas/Night Shift”: Atlas has no team “Night Shift”",
    ),
    (
        "team without partner",
        content_file("x", audience="\n  teams: [Manila Billing]"),
        "write “Manila Billing” as partner-slug/Team name",
    ),
    (
        "unknown role",
        content_file("x", audience="\n  roles: [admin]"),
        "audience.roles: Audiences are",
    ),
    (
        "not UTF-8",
        "---\ntitle: Caf\xe9\nslug: x\nkind: brand\n---\nText\n".encode("latin-1"),
        "the file is not UTF-8 text (byte 0xe9",
    ),
    (
        "bad date",
        content_file("x", review_by="2027-02-30"),
        "review_by: “2027-02-30” is not a date",
    ),
    (
        "bad date format",
        content_file("x", review_by="1 June 2027"),
        "review_by: “1 June 2027” is not",
    ),
    ("missing title", "---\nslug: x\nkind: brand\n---\nText\n", "title: missing"),
    ("missing slug", "---\ntitle: X\nkind: brand\n---\nText\n", "slug: missing"),
    ("bad slug", content_file("Not A Slug!"), "is not a slug"),
    ("misspelt field", content_file("x", requires_acks="true"), "unknown field(s) requires_acks"),
    ("not a flag", content_file("x", requires_ack="maybe"), "requires_ack: write true or false"),
    ("attestation alone", content_file("x", attestation="true"), "attestation: a typed-name"),
    ("no text", content_file("x", body=""), "the file has no text after the front matter"),
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
    write_file(tmp_path, "a-bad.md", content)
    write_file(tmp_path, "b-good.md", GOOD)

    result = sync(runner, tmp_path)

    assert result.exit_code == 1
    lines = output_lines(result.output)
    assert lines["a-bad.md"].startswith("error")
    assert message in lines["a-bad.md"]
    assert lines["b-good.md"].startswith("created")
    assert "2 files: 1 created, 1 error." in result.output
    assert "Files with errors changed nothing" in result.output
    with app.app_context():
        assert db.session.scalars(select(Document.slug)).all() == ["good-document"]
        assert count_rows(AuditEvent, AuditEvent.action == Actions.CONTENT_SYNCED) == 1


def test_a_bad_change_to_an_existing_document_changes_nothing(app, runner, tmp_path):
    """A known document whose file turns bad (here: an unknown kind and new text) keeps its
    settings and versions; so does one whose text changed without a new summary."""
    write_file(tmp_path, "a.md", content_file("alpha", summary="First"))
    write_file(tmp_path, "b.md", content_file("beta", summary="First"))
    assert sync(runner, tmp_path).exit_code == 0
    write_file(tmp_path, "a.md", content_file("alpha", kind="handbook", body="New text."))
    write_file(
        tmp_path, "b.md", content_file("beta", body="New text.", summary="First", tags="[new]")
    )

    result = sync(runner, tmp_path)

    assert result.exit_code == 1
    lines = output_lines(result.output)
    assert "“handbook” is not a kind of document" in lines["a.md"]
    assert "“First” is the summary of version 1; say what changed this time" in lines["b.md"]
    with app.app_context():
        for slug in ("alpha", "beta"):
            document = document_by_slug(slug)
            assert (document.kind, document.tags, len(versions_of(document))) == ("playbook", [], 1)


def test_files_sharing_a_slug_are_both_refused(app, runner, tmp_path):
    """Two files with one slug are both errors naming each other; other files are applied."""
    write_file(tmp_path, "one.md", content_file("same", title="One"))
    write_file(tmp_path, "two.md", content_file("same", title="Two"))
    write_file(tmp_path, "three.md", content_file("other"))

    result = sync(runner, tmp_path)

    assert result.exit_code == 1
    lines = output_lines(result.output)
    assert "slug: “same” is also the slug of two.md" in lines["one.md"]
    assert "slug: “same” is also the slug of one.md" in lines["two.md"]
    assert lines["three.md"].startswith("created")
    with app.app_context():
        assert db.session.scalars(select(Document.slug)).all() == ["other"]


def test_a_partner_local_slug_is_refused(app, runner, tmp_path, make_user, make_document):
    """A file may not take over a trainer's partner-local document."""
    trainer = make_user(role="trainer")
    make_document("Our shift handover", author=trainer, slug="shift-handover")
    write_file(tmp_path, "handover.md", content_file("shift-handover", body="Company text."))

    result = sync(runner, tmp_path)

    assert result.exit_code == 1
    assert "belongs to a partner-local document" in output_lines(result.output)["handover.md"]
    with app.app_context():
        [version] = versions_of(document_by_slug("shift-handover"))
        assert version.body != "Company text."


def test_a_draft_started_in_the_portal_is_not_overwritten(app, runner, tmp_path, make_user):
    """When someone is drafting the next version in the portal, a changed file is refused so
    their draft survives; an archived document is refused the same way."""
    prm = make_user(role="prm")
    write_file(tmp_path, "a.md", content_file("alpha"))
    write_file(tmp_path, "b.md", content_file("beta"))
    assert sync(runner, tmp_path).exit_code == 0
    with app.app_context():
        actor = db.session.get(User, prm.id)
        services.save_draft(actor, document_by_slug("alpha"), title="Alpha", body="Portal draft.")
        services.archive(actor, document_by_slug("beta"))
        db.session.commit()
    write_file(tmp_path, "a.md", content_file("alpha", body="File text.", summary="From the file"))
    write_file(tmp_path, "b.md", content_file("beta", body="File text.", summary="From the file"))

    result = sync(runner, tmp_path)

    lines = output_lines(result.output)
    assert "a draft of version 2 was started in the portal" in lines["a.md"]
    assert "the document is archived" in lines["b.md"]
    with app.app_context():
        assert services.current_draft(document_by_slug("alpha")).body == "Portal draft."
        assert len(versions_of(document_by_slug("beta"))) == 1

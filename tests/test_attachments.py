"""Attachments: checked uploads, safe downloads, who may see and change them.

Tests taking the ``storage`` fixture run twice: once on the local folder and once on S3,
where they need moto (the fixture starts moto's server on 127.0.0.1 itself).
"""

import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.audit.services import Actions
from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.library.models import Attachment, Document
from portal.partners.models import Partner
from portal.people.models import User
from tests import attachment_helpers as samples
from tests.attachment_helpers import (  # noqa: F401 - world_fixture is the world fixture
    attach,
    count_rows,
    flashed,
    remove,
    sign_in,
    upload,
    url_of,
    world_fixture,
)
from tests.helpers import count_queries
from tests.storage_helpers import moto_s3_fixture, storage_fixture  # noqa: F401

# --- uploads and downloads, on both backends -------------------------------------------------


def test_upload_then_download_gives_back_the_same_bytes(app, client, world, storage):
    """A trainer uploads a PDF on the document page and downloads it unchanged (s3: moto)."""
    data = samples.pdf(padding=200_000)
    sign_in(client, world.trainer)
    response = upload(client, world.doc, "Floor Plan (v2).PDF", data)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/library/{world.doc.id}#attachments"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Attached “Floor_Plan_v2.pdf”." in page
    with app.app_context():
        row = db.session.scalars(select(Attachment)).one()
        assert (row.filename, row.size, row.content_type) == (
            "Floor_Plan_v2.pdf",
            len(data),
            "application/pdf",
        )
        assert re.fullmatch(
            rf"documents/{world.doc.id}/[0-9a-f]{{32}}/Floor_Plan_v2\.pdf", row.storage_key
        )
        import hashlib

        assert row.sha256 == hashlib.sha256(data).hexdigest()
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == Actions.ATTACHMENT_ADDED)
        ).one()
        assert event.actor_id == world.trainer.id and event.details["sha256"] == row.sha256
    assert storage.stored() == [row.storage_key]

    sign_in(client, world.agent)
    response = client.get(url_of(world.doc, row.id, row.filename))
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    body, headers = storage.fetch(response)
    assert body == data
    assert headers["Content-Disposition"].startswith("attachment;")
    assert "Floor_Plan_v2.pdf" in headers["Content-Disposition"]
    assert headers["Content-Type"] == "application/pdf"
    if storage.name == "s3":
        query = parse_qs(urlsplit(response.headers["Location"]).query)
        assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
        assert int(query["X-Amz-Expires"][0]) <= 300
    else:
        assert headers["Content-Security-Policy"] == "sandbox"
    assert storage.fetch(client.get(url_of(world.doc, row.id)))[0] == data  # without the name


def test_only_raster_images_are_shown_inline(app, client, world, storage):
    """PNG shows inline; SVG, text and Office files always download (s3 run: moto)."""
    expected = {
        "floor-plan.png": ("inline", "image/png"),
        "logo.svg": ("attachment", "image/svg+xml"),
        "notes.txt": ("attachment", "text/plain; charset=utf-8"),
        "script.docx": (
            "attachment",
            "application/vnd.openxmlformats-officedocument.wordprocessingml",
        ),
    }
    ids = {
        name: attach(app, world.trainer, world.doc, name, samples.GENUINE[name])
        for name in expected
    }
    sign_in(client, world.agent)
    for name, (disposition, content_type) in expected.items():
        response = client.get(url_of(world.doc, ids[name], name))
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Security-Policy"] == "sandbox"
        body, headers = storage.fetch(response)
        assert body == samples.GENUINE[name]
        assert headers["Content-Disposition"].split(";")[0] == disposition, name
        assert headers["Content-Type"].startswith(content_type), name


def test_bad_uploads_get_a_clear_message_and_store_nothing(app, client, world, storage):
    """Too large, forbidden, mismatched, empty or unreadable files are refused (s3: moto)."""
    app.config["MAX_UPLOAD_MB"] = 1
    cases = [
        (
            "page.html",
            b"<html><body>hi</body></html>",
            "HTML pages and programs (.html) are never accepted as attachments.",
        ),
        ("setup.exe", samples.EXE, "HTML pages and programs (.exe) are never accepted"),
        ("bundle.zip", samples.plain_zip(), ".zip files cannot be attached. Allowed types: pdf"),
        ("README", b"hello", "“README” has no extension"),
        (
            "report.pdf",
            samples.png(),
            "“report.pdf” is not a PDF document: its content does not match the .pdf extension.",
        ),
        ("photo.png", b"just some text\n", "“photo.png” is not a PNG image"),
        ("script.docx", samples.plain_zip(), "“script.docx” is not a Word document"),
        ("sheet.xlsx", samples.office("word/"), "“sheet.xlsx” is not a Excel workbook"),
        ("empty.txt", b"", "“empty.txt” is empty."),
        ("legacy.csv", "café,1\n".encode("latin-1"), "“legacy.csv” is not UTF-8 text"),
        ("binary.txt", b"text\x00with a NUL", "“binary.txt” is not a Text"),
        ("notes.txt", b"  <!DOCTYPE html><script>alert(1)</script>", "is an HTML page"),
        ("logo.svg", b"<svg><g></svg>", "“logo.svg” is not a valid SVG image"),
        ("logo.svg", b"<html xmlns='http://www.w3.org/1999/xhtml'/>", "does not start with <svg>"),
        ("bomb.svg", b'<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg>&a;</svg>', "without entities"),
    ]
    sign_in(client, world.trainer)
    for filename, data, message in cases:
        response = upload(client, world.doc, filename, data)
        assert response.status_code == 302, filename
        shown = flashed(client)
        assert message in shown, (filename, message, shown)
        assert shown.endswith("Nothing was uploaded."), shown
    response = client.post(f"/library/{world.doc.id}/attachments", data={"csrf_token": client.csrf})
    assert response.status_code == 302 and flashed(client) == "Choose a file to upload."
    response = client.post(
        f"/library/{world.doc.id}/attachments", data={"file": (io.BytesIO(samples.pdf()), "a.pdf")}
    )
    assert response.status_code == 400  # no CSRF token
    # Werkzeug's test client leaks its temporary file for bodies over 500 KB, so the size
    # limit is checked through the service (the route shows its message like any other).
    with pytest.raises(
        InvalidInput, match=r"^The file is 1\.5 MB; attachments can be at most 1 MB\.$"
    ):
        attach(app, world.trainer, world.doc, "big.pdf", samples.pdf(padding=1_600_000))
    assert count_rows(app) == 0
    assert count_rows(app, AuditEvent, action=Actions.ATTACHMENT_ADDED) == 0
    assert storage.stored() == []


def test_a_second_file_with_the_same_name_is_refused_until_the_first_is_removed(
    app, client, world, storage
):
    """Same name twice: a clear message; after removing the first, the name is free (moto)."""
    first = attach(app, world.trainer, world.doc, "floor-plan.png", samples.png())
    sign_in(client, world.trainer)
    upload(client, world.doc, "floor-plan.png", samples.png(3, 3))
    assert "This document already has a file named “floor-plan.png”." in flashed(client)
    assert count_rows(app) == 1 and len(storage.stored()) == 1

    remove(client, world.doc, first)
    upload(client, world.doc, "floor-plan.png", samples.png(3, 3))
    assert "Attached “floor-plan.png”." in flashed(client)
    with app.app_context():
        names = db.session.scalars(select(Attachment.filename).order_by(Attachment.id)).all()
    assert names == [f"floor-plan.png~removed-{first}", "floor-plan.png"]
    assert len(storage.stored()) == 2  # the removed file's bytes are kept


def test_removed_attachments_answer_404_but_their_file_is_kept(app, client, world, storage):
    """Removing hides the file from everyone; its bytes stay in storage (s3 run: moto)."""
    file_id = attach(app, world.trainer, world.doc, "guide.pdf", samples.pdf())
    sign_in(client, world.trainer)
    response = remove(client, world.doc, file_id)
    assert response.headers["Location"] == f"/library/{world.doc.id}#attachments"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Removed “guide.pdf”." in page and f'href="/library/{world.doc.id}/files' not in page
    for who in (world.trainer, world.agent):
        sign_in(client, who)
        assert client.get(url_of(world.doc, file_id, "guide.pdf")).status_code == 404
        assert client.get(url_of(world.doc, file_id)).status_code == 404
    assert count_rows(app, AuditEvent, action=Actions.ATTACHMENT_REMOVED) == 1
    assert len(storage.stored()) == 1


def test_a_markdown_image_in_a_published_version_is_served(app, client, world, storage):
    """![x](attachment:a.png) published after the upload shows the image (s3 run: moto)."""
    from portal.library import services

    file_id = attach(app, world.trainer, world.doc, "a.png", samples.png())
    with app.app_context():
        trainer = db.session.get(User, world.trainer.id)
        document = db.session.get(Document, world.doc.id)
        services.save_draft(
            trainer,
            document,
            title=document.title,
            body="See ![x](attachment:a.png)",
            summary="Adds the floor plan",
        )
        rendered = services.publish(trainer, document).html
        db.session.commit()
    src = re.search(r'<img[^>]*src="([^"]+)"', rendered).group(1)
    assert src == url_of(world.doc, file_id, "a.png")
    sign_in(client, world.agent)
    page = client.get(f"/library/{world.doc.id}").get_data(as_text=True)
    assert f'src="{src}"' in page
    response = client.get(src)
    body, headers = storage.fetch(response)
    assert body == samples.png()
    assert headers["Content-Disposition"].startswith("inline")


def test_a_failed_commit_deletes_the_stored_file(app, world, storage):
    """If the database cannot save the attachment, its stored file goes too (s3: moto)."""
    from sqlalchemy.exc import IntegrityError

    from portal.attachments.services import add_attachment

    with app.app_context():
        document = db.session.get(Document, world.doc.id)
        add_attachment(None, document, "guide.pdf", io.BytesIO(samples.pdf()))
        assert len(storage.stored()) == 1  # stored before the row is written
        db.session.add(Partner(slug="alpha", name="Clash", timezone="UTC"))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        assert storage.stored() == []
        add_attachment(None, document, "guide.pdf", io.BytesIO(samples.pdf()))
    # The app context ended without a commit: the session closed and the file went with it.
    assert storage.stored() == []
    assert count_rows(app) == 0


# --- who may see and change files -----------------------------------------------------------


def test_another_partners_people_get_404_everywhere(app, client, world):
    """Bravo's agent and trainer get 404 for Alpha's file: download, upload and remove."""
    file_id = attach(app, world.trainer, world.doc, "guide.pdf", samples.pdf())
    for who in (world.other_agent, world.other_trainer):
        sign_in(client, who)
        assert client.get(url_of(world.doc, file_id, "guide.pdf")).status_code == 404
        assert client.get(url_of(world.doc, file_id)).status_code == 404
        assert upload(client, world.doc, "more.pdf", samples.pdf()).status_code == 404
        response = remove(client, world.doc, file_id)
        assert response.status_code == 404
    assert count_rows(app) == 1
    assert count_rows(app, Attachment, removed_at=None) == 1


def test_agents_outside_the_audience_get_404(app, client, world, make_document):
    """A company document for Bravo only: Alpha's agent gets 404 on its files, Bravo's not."""
    doc = make_document("Bravo only", audience={"partner_ids": [world.bravo.id]})
    file_id = attach(app, world.prm, doc, "guide.pdf", samples.pdf())
    sign_in(client, world.agent)
    assert client.get(url_of(doc, file_id, "guide.pdf")).status_code == 404
    sign_in(client, world.other_agent)
    with client.get(url_of(doc, file_id, "guide.pdf")) as response:
        assert response.status_code == 200


def test_a_file_of_another_document_or_a_wrong_name_is_not_found(app, client, world, make_document):
    """A file is only served under its own document and its own name."""
    other = make_document("Another Alpha page", author=world.trainer)
    file_id = attach(app, world.trainer, world.doc, "guide.pdf", samples.pdf())
    sign_in(client, world.agent)
    assert client.get(url_of(other, file_id, "guide.pdf")).status_code == 404
    assert client.get(url_of(world.doc, file_id, "other.pdf")).status_code == 404
    assert client.get(url_of(world.doc, file_id + 1, "guide.pdf")).status_code == 404


def test_only_editors_attach_files(app, client, world, make_document):
    """Trainers cannot attach to company documents; agents to none; PRMs to any."""
    company = make_document("Company refunds")  # everyone, so Alpha's people can read it
    sign_in(client, world.trainer)
    assert upload(client, company, "guide.pdf", samples.pdf()).status_code == 403
    sign_in(client, world.agent)
    assert upload(client, world.doc, "guide.pdf", samples.pdf()).status_code == 403
    assert count_rows(app) == 0
    with pytest.raises(InvalidInput, match="You cannot add files to this document."):
        attach(app, world.trainer, company, "guide.pdf", samples.pdf())
    sign_in(client, world.prm)
    assert upload(client, world.doc, "guide.pdf", samples.pdf()).status_code == 302
    assert count_rows(app) == 1


def test_archived_documents_refuse_uploads(app, client, world):
    """An archived document takes no new files until it is restored."""
    from portal.library import services

    with app.app_context():
        services.archive(None, db.session.get(Document, world.doc.id))
        db.session.commit()
    sign_in(client, world.trainer)
    upload(client, world.doc, "guide.pdf", samples.pdf())
    assert "This document is archived. Restore it before adding files." in flashed(client)
    assert count_rows(app) == 0


def test_every_allowed_type_is_accepted_with_its_content_type(app, world):
    """Each type on the allow-list is accepted when its content is genuine."""
    for name, data in samples.GENUINE.items():
        attach(app, world.trainer, world.doc, name, data)
    with app.app_context():
        types = dict(db.session.execute(select(Attachment.filename, Attachment.content_type)).all())
    assert set(types) == set(samples.GENUINE)
    assert types["team.jpg"] == "image/jpeg" and types["greeting.mp3"] == "audio/mpeg"


def test_file_names_are_made_safe_and_short(app, world):
    """Folders and odd characters are dropped; names keep at most 200 characters."""
    names = {
        "../../etc/Fancy Name (1).PNG": "Fancy_Name_1.png",
        "C:\\Users\\ana\\Café menu.MD": "Cafe_menu.md",
        "Руководство.pdf": "file.pdf",
        "x" * 300 + ".txt": "x" * 196 + ".txt",
    }
    data = {"png": samples.png(), "md": b"# Menu", "pdf": samples.pdf(), "txt": b"x"}
    ids = {
        given: attach(app, None, world.doc, given, data[given.rpartition(".")[2].lower()])
        for given in names
    }
    with app.app_context():
        stored = {given: db.session.get(Attachment, ids[given]).filename for given in names}
    assert stored == names


def test_uploads_that_are_not_seekable_are_read_once(app, world):
    """A stream that cannot rewind (a pipe) is still checked and stored whole."""
    from portal.attachments.services import add_attachment, open_attachment

    class Pipe(io.RawIOBase):
        def __init__(self, data):
            self.data = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, buffer):
            return self.data.readinto(buffer)

    data = samples.pdf(padding=2_000_000)
    with app.app_context():
        document = db.session.get(Document, world.doc.id)
        attachment = add_attachment(None, document, "guide.pdf", io.BufferedReader(Pipe(data)))
        db.session.commit()
        with open_attachment(attachment) as stored:
            assert stored.read() == data


def test_a_file_missing_from_storage_answers_404_with_a_message(app, client, world):
    """If the stored file has vanished, the download says so instead of failing."""
    from portal.storage import get_storage

    file_id = attach(app, world.trainer, world.doc, "guide.pdf", samples.pdf())
    with app.app_context():
        get_storage().delete(db.session.get(Attachment, file_id).storage_key)
    sign_in(client, world.agent)
    response = client.get(url_of(world.doc, file_id, "guide.pdf"))
    assert response.status_code == 404
    assert "The file is missing from storage." in response.get_data(as_text=True)


def test_a_body_over_the_request_limit_gets_the_error_page(app, client, world):
    """A request larger than MAX_CONTENT_LENGTH gets the 'File too large' page; nothing saved."""
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    sign_in(client, world.trainer)
    response = upload(client, world.doc, "big.pdf", samples.pdf(padding=100_000))
    assert response.status_code == 413
    assert "Nothing was saved." in response.get_data(as_text=True)
    assert count_rows(app) == 0


# --- the list on the document page ----------------------------------------------------------


def test_the_document_page_lists_files_with_the_tools_editors_need(app, client, world):
    """Editors see the upload form, remove buttons and image snippets; readers just the list."""
    attach(app, world.trainer, world.doc, "floor-plan.png", samples.png())
    attach(app, world.trainer, world.doc, "guide.pdf", samples.pdf(padding=3000))
    sign_in(client, world.trainer)
    page = client.get(f"/library/{world.doc.id}").get_data(as_text=True)
    files = page[page.index('<section id="attachments"') :]
    files = files[: files.index("</section>")]
    assert "guide.pdf" in files and "3 KB" in files and "PDF document" in files
    assert "![Alt text](attachment:floor-plan.png)" in files
    assert "attachment:guide.pdf" not in files
    assert 'accept=".pdf,.png,.jpg,.jpeg,.gif,.webp,.svg,.txt,.csv,.md,.docx' in files
    assert "Up to 25 MB" in files
    assert files.count('data-confirm="Remove ') == 2
    assert files.count('name="csrf_token"') == 3
    assert "style=" not in files and "<script" not in files and "onclick" not in files

    sign_in(client, world.agent)
    page = client.get(f"/library/{world.doc.id}").get_data(as_text=True)
    files = page[page.index('<section id="attachments"') :]
    assert "guide.pdf" in files and "floor-plan.png" in files
    assert "Remove" not in files and 'type="file"' not in files and "attachment:" not in files


def test_the_file_list_costs_the_same_queries_for_few_or_many_files(app, client, world):
    """The document page's query count does not grow with the number of files."""
    sign_in(client, world.agent)
    attach(app, world.trainer, world.doc, "one.pdf", samples.pdf())
    with count_queries(app) as few:
        client.get(f"/library/{world.doc.id}")
    for n in range(6):
        attach(app, world.trainer, world.doc, f"more-{n}.pdf", samples.pdf())
    with count_queries(app) as many:
        page = client.get(f"/library/{world.doc.id}").get_data(as_text=True)
    assert "more-5.pdf" in page
    assert many() == few()


def test_two_uploads_of_one_name_at_once_get_a_message(app, client, world, storage, monkeypatch):
    """When another upload of the same name wins the race, the loser gets a message, not a 500."""
    from portal.attachments import services as attachment_services

    attach(app, world.trainer, world.doc, "guide.pdf", samples.pdf())
    # The name check ran before the other upload's row existed: only the database notices.
    monkeypatch.setattr(attachment_services, "_check_room", lambda document, filename: None)
    sign_in(client, world.trainer)
    response = upload(client, world.doc, "guide.pdf", samples.pdf())
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "was attached to this document a moment ago" in page
    assert count_rows(app) == 1
    assert len(storage.stored()) == 1

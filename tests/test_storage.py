"""The file-storage interface: the same contract on the local folder and on S3 (moto).

Tests taking the ``storage`` fixture run twice; their ``[s3]`` run needs moto, which the
fixture starts on 127.0.0.1 itself.
"""

import io
import os
from urllib.parse import parse_qs, urlsplit

import pytest

from portal import create_app
from portal.storage import get_storage, init_app
from portal.storage.local import LocalStorage
from portal.storage.s3 import S3Storage
from tests.storage_helpers import (  # noqa: F401 - fixtures
    BUCKET,
    moto_s3_fixture,
    s3_client,
    s3_storage_fixture,
    storage_fixture,
)

KEY = "documents/1/0123456789abcdef/floor-plan.pdf"


class Exploding(io.RawIOBase):
    """A stream that yields some bytes, then fails like a dropped connection."""

    def __init__(self, before=b"x" * 200_000, check=None):
        self.data = io.BytesIO(before)
        self.check = check

    def readable(self):
        return True

    def readinto(self, buffer):
        n = self.data.readinto(buffer)
        if n:
            if self.check:
                self.check()
            return n
        raise ConnectionResetError("the upload broke off")


def test_save_open_exists_delete_round_trip(storage):
    """A saved file reads back byte for byte (both backends; s3 on moto), then deletes."""
    data = os.urandom(300_000)
    with storage.app.app_context():
        files = get_storage()
        assert not files.exists(KEY)
        files.save(KEY, io.BytesIO(data), "application/pdf")
        assert files.exists(KEY)
        with files.open(KEY) as f:
            assert f.read() == data
        assert storage.stored() == [KEY]
        files.delete(KEY)
        assert not files.exists(KEY)
        files.delete(KEY)  # deleting twice is fine
        with pytest.raises(FileNotFoundError):
            files.open(KEY)
    assert storage.stored() == []


def test_large_files_round_trip(storage):
    """A file larger than one S3 part (9 MB) is stored whole (both backends; s3 on moto)."""
    data = os.urandom(9 * 1024 * 1024)
    with storage.app.app_context():
        get_storage().save(KEY, io.BytesIO(data), "video/mp4")
        with get_storage().open(KEY) as f:
            assert f.read() == data


def test_a_broken_upload_leaves_nothing_behind(storage):
    """A stream that fails midway stores nothing, not even a part (both; s3 on moto)."""
    with storage.app.app_context():
        files = get_storage()
        seen_while_writing = []
        stream = io.BufferedReader(
            Exploding(check=lambda: seen_while_writing.append(files.exists(KEY)))
        )
        with pytest.raises(ConnectionResetError):
            files.save(KEY, stream, "application/pdf")
        assert not files.exists(KEY)
        assert seen_while_writing and not any(seen_while_writing)
    assert storage.stored() == []


@pytest.mark.parametrize(
    "key", ["../escape.txt", "/etc/passwd", "a/../../b.txt", "a//b.txt", "a\\b.txt", "", "./a"]
)
def test_keys_cannot_leave_the_storage(app, tmp_path, key):
    """A key with '..', an absolute path or odd separators is refused before any file access."""
    with app.app_context():
        files = get_storage()
        for call in (
            lambda: files.save(key, io.BytesIO(b"x"), "text/plain"),
            lambda: files.open(key),
            lambda: files.exists(key),
            lambda: files.delete(key),
        ):
            with pytest.raises(ValueError):
                call()
    assert not (tmp_path / "escape.txt").exists()
    assert not os.path.exists(app.config["STORAGE_PATH"]) or not os.listdir(
        app.config["STORAGE_PATH"]
    )


def test_local_download_response_sets_disposition_and_type(app):
    """The local backend serves the bytes itself, inline or as a download; ranges; 304s."""
    with app.app_context():
        get_storage().save(KEY, io.BytesIO(b"%PDF-1.4 body"), "application/pdf")
    with app.test_request_context():
        files = get_storage()
        download = files.download_response(
            KEY, filename="floor-plan.pdf", content_type="application/pdf", inline=False
        )
        inline = files.download_response(
            KEY, filename="floor-plan.pdf", content_type="application/pdf", inline=True
        )
        download.direct_passthrough = inline.direct_passthrough = False
        assert download.get_data() == b"%PDF-1.4 body"
        assert download.headers["Content-Disposition"] == 'attachment; filename="floor-plan.pdf"'
        assert inline.headers["Content-Disposition"] == 'inline; filename="floor-plan.pdf"'
        assert download.content_length == len(b"%PDF-1.4 body")
        assert download.mimetype == "application/pdf"
        assert "private" in download.headers["Cache-Control"]
        download.close()
        inline.close()
    with app.test_request_context(headers={"Range": "bytes=0-3"}):
        part = get_storage().download_response(
            KEY, filename="floor-plan.pdf", content_type="application/pdf", inline=False
        )
        part.direct_passthrough = False
        assert (part.status_code, part.get_data()) == (206, b"%PDF")
        etag = part.get_etag()[0]
    with app.test_request_context(headers={"If-None-Match": f'"{etag}"'}):
        unchanged = get_storage().download_response(
            KEY, filename="floor-plan.pdf", content_type="application/pdf", inline=False
        )
        assert unchanged.status_code == 304
    with app.test_request_context(), pytest.raises(FileNotFoundError):
        files.download_response(
            "documents/1/x/missing.pdf", filename="m.pdf", content_type="a/b", inline=False
        )


def test_s3_download_is_a_presigned_sigv4_redirect(s3_storage):
    """S3 downloads redirect to a SigV4 URL that expires within 5 minutes (needs moto)."""
    with s3_storage.app.app_context():
        get_storage().save(KEY, io.BytesIO(b"%PDF-1.4 body"), "application/pdf")
    with s3_storage.app.test_request_context():
        response = get_storage().download_response(
            KEY, filename="floor-plan.pdf", content_type="application/pdf", inline=False
        )
    assert response.status_code == 302
    assert response.headers["Cache-Control"] == "no-store"
    location = response.headers["Location"]
    query = parse_qs(urlsplit(location).query)
    assert urlsplit(location).path == f"/{BUCKET}/attachments/{KEY}"  # path style + prefix
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert int(query["X-Amz-Expires"][0]) == 120 <= 300
    assert query["response-content-disposition"] == ['attachment; filename="floor-plan.pdf"']
    data, headers = s3_storage.fetch(response)
    assert data == b"%PDF-1.4 body"
    assert headers["Content-Disposition"] == 'attachment; filename="floor-plan.pdf"'
    assert headers["Content-Type"] == "application/pdf"
    stored = s3_client(s3_storage.endpoint_url).head_object(Bucket=BUCKET, Key=f"attachments/{KEY}")
    assert stored["ContentType"] == "application/pdf"


def test_presigned_links_never_live_longer_than_five_minutes(s3_storage):
    """S3_URL_EXPIRES above 300 s is cut to 300 s (needs moto)."""
    s3_storage.app.config["S3_URL_EXPIRES"] = 3600
    with s3_storage.app.test_request_context():
        response = get_storage().download_response(
            KEY, filename="a.png", content_type="image/png", inline=True
        )
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["X-Amz-Expires"] == ["300"]
    assert query["response-content-disposition"] == ['inline; filename="a.png"']


def test_s3_credentials_come_from_the_aws_environment(s3_storage, monkeypatch):
    """Without credentials in the environment or AWS config, S3 calls fail (needs moto)."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    from botocore.exceptions import NoCredentialsError

    with s3_storage.app.app_context(), pytest.raises(NoCredentialsError):
        get_storage().exists(KEY)


def test_the_storage_is_built_once_per_app(app, tmp_path):
    """get_storage keeps one backend per app, built from its config (local by default)."""
    with app.app_context():
        files = get_storage()
        assert files is get_storage() is get_storage(app)
        assert isinstance(files, LocalStorage)
        assert files.root == os.path.realpath(app.config["STORAGE_PATH"])
    default = create_app("testing", STORAGE_PATH=None)
    assert get_storage(default).root == os.path.realpath(
        os.path.join(default.instance_path, "attachments")
    )


def test_s3_settings_are_read_from_config(app):
    """STORAGE_BACKEND=s3 uses S3_BUCKET, S3_PREFIX and S3_ENDPOINT_URL (path-style)."""
    app.config.update(
        STORAGE_BACKEND="s3",
        S3_BUCKET="portal-files",
        S3_PREFIX="/team-a/files/",
        S3_REGION="eu-west-1",
        S3_ENDPOINT_URL="http://127.0.0.1:9",
    )
    init_app(app)  # create_app built the storage from the settings it started with
    files = get_storage(app)
    assert isinstance(files, S3Storage)
    assert (files.bucket, files.prefix) == ("portal-files", "team-a/files/")
    assert files.object_key("documents/1/a/b.pdf") == "team-a/files/documents/1/a/b.pdf"
    assert files.client.meta.region_name == "eu-west-1"
    assert files.client.meta.endpoint_url == "http://127.0.0.1:9"
    assert files.client.meta.config.s3 == {"addressing_style": "path"}
    assert files.client.meta.config.signature_version == "s3v4"


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"STORAGE_BACKEND": "dropbox"}, "STORAGE_BACKEND must be one of local, s3, not 'dropbox'"),
        ({"STORAGE_BACKEND": "s3", "S3_BUCKET": None}, "STORAGE_BACKEND=s3 needs S3_BUCKET"),
    ],
)
def test_a_wrong_storage_setting_stops_the_app_with_a_clear_message(app, settings, message):
    """An unknown backend, or S3 without a bucket, raises a RuntimeError that says what to set."""
    app.config.update(settings)
    with pytest.raises(RuntimeError, match=message):
        init_app(app)
    assert "storage" not in app.extensions

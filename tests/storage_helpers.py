"""Fixtures that run a test against each storage backend: a local folder and S3 (moto).

Import them into a test module (``from tests.storage_helpers import storage_fixture``); the
fixtures are registered under the names ``storage``, ``s3_storage`` and ``moto_s3``.
The ``storage`` fixture is parametrized: each test that uses it runs once with the local
folder in ``tmp_path`` and once with S3 against moto's server mode on 127.0.0.1, started by
the tests themselves once per session (no external service). The bucket is emptied before
every S3 run through moto's reset API.
"""

import functools
import os
import urllib.request
from dataclasses import dataclass

import pytest

BUCKET = "portal-test-attachments"
PREFIX = "attachments/"


@pytest.fixture(scope="session", name="moto_s3")
def moto_s3_fixture():
    """moto's S3 server on a free port of 127.0.0.1; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def _aws_test_credentials(monkeypatch, tmp_path):
    """Credentials through boto3's ordinary chain (environment), never the machine's own."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@functools.cache
def s3_client(endpoint_url):
    """A boto3 client of our own to look inside moto, independent of the portal's."""
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


@dataclass
class Backend:
    """The backend a test runs against, and ways to look at what it holds from outside."""

    name: str
    app: object
    root: str | None = None  # local
    endpoint_url: str | None = None  # s3

    def stored(self) -> list[str]:
        """Every stored storage key (local: files in the folder; s3: objects in the bucket)."""
        if self.name == "local":
            if not os.path.isdir(self.root):
                return []
            return sorted(
                os.path.relpath(os.path.join(folder, name), self.root).replace(os.sep, "/")
                for folder, _dirs, names in os.walk(self.root)
                for name in names
            )
        response = s3_client(self.endpoint_url).list_objects_v2(Bucket=BUCKET)
        return sorted(item["Key"].removeprefix(PREFIX) for item in response.get("Contents", []))

    def fetch(self, response):
        """The bytes and headers a browser ends up with after following ``response``.

        Local: the response itself. S3: a real HTTP GET of the presigned URL it redirects to.
        The headers are case-insensitive.
        """
        if self.name == "local":
            assert response.status_code == 200, response.status_code
            with response:
                return response.get_data(), response.headers
        assert response.status_code == 302, response.status_code
        with urllib.request.urlopen(response.headers["Location"], timeout=10) as reply:
            return reply.read(), reply.headers


def use_backend(name, request, app, monkeypatch, tmp_path) -> Backend:
    """Point ``app`` at backend ``name``; for S3, at an empty bucket on moto."""
    if name == "local":
        return Backend("local", app, root=app.config["STORAGE_PATH"])
    endpoint_url = request.getfixturevalue("moto_s3")
    _aws_test_credentials(monkeypatch, tmp_path)
    reset = urllib.request.Request(f"{endpoint_url}/moto-api/reset", method="POST")
    urllib.request.urlopen(reset, timeout=10).close()
    s3_client(endpoint_url).create_bucket(Bucket=BUCKET)
    app.config.update(
        STORAGE_BACKEND="s3",
        S3_BUCKET=BUCKET,
        S3_PREFIX=PREFIX,
        S3_REGION="us-east-1",
        S3_ENDPOINT_URL=endpoint_url,
        S3_URL_EXPIRES=120,
    )
    app.extensions.pop("storage", None)  # built again from the config above
    return Backend("s3", app, endpoint_url=endpoint_url)


@pytest.fixture(params=["local", "s3"], name="storage")
def storage_fixture(request, app, monkeypatch, tmp_path):
    """The app's file storage, once as a local folder and once as S3 on moto."""
    return use_backend(request.param, request, app, monkeypatch, tmp_path)


@pytest.fixture(name="s3_storage")
def s3_storage_fixture(request, app, monkeypatch, tmp_path):
    """The app's file storage as S3 on moto, for what only S3 does (presigned URLs)."""
    return use_backend("s3", request, app, monkeypatch, tmp_path)

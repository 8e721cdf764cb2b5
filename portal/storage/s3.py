"""Files in an S3 bucket, or any S3-compatible store (``STORAGE_BACKEND=s3``).

Every web host shares the bucket. Browsers download through presigned GET URLs (SigV4) that
expire within five minutes, so the bucket itself stays private. Credentials come from boto3's
usual chain: ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY`` (and ``AWS_SESSION_TOKEN``),
``AWS_PROFILE`` with ``~/.aws/credentials``, web identity, or the host's instance or task role.
"""

from typing import BinaryIO

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from flask import Response, redirect

from portal.storage.backend import FileStorage, content_disposition

MAX_URL_EXPIRES = 300  # seconds: presigned links live at most five minutes
_MISSING = {"404", "NoSuchKey", "NotFound"}


class S3Storage(FileStorage):
    """Files under ``prefix`` in ``bucket``; a storage key is appended to the prefix."""

    name = "s3"

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "attachments/",
        region: str | None = None,
        endpoint_url: str | None = None,
        url_expires: int = MAX_URL_EXPIRES,
        client=None,
    ):
        if not bucket:
            raise RuntimeError("STORAGE_BACKEND=s3 needs S3_BUCKET: the bucket to keep files in.")
        self.bucket = bucket
        prefix = (prefix or "").strip("/")
        self.prefix = f"{prefix}/" if prefix else ""
        self.url_expires = max(1, min(int(url_expires), MAX_URL_EXPIRES))
        self.client = client or self._client(region, endpoint_url)

    @classmethod
    def from_config(cls, app) -> "S3Storage":
        config = app.config
        return cls(
            config.get("S3_BUCKET"),
            prefix=config.get("S3_PREFIX", "attachments/"),
            region=config.get("S3_REGION"),
            endpoint_url=config.get("S3_ENDPOINT_URL"),
            url_expires=config.get("S3_URL_EXPIRES", MAX_URL_EXPIRES),
        )

    @staticmethod
    def _client(region: str | None, endpoint_url: str | None):
        # SigV4 always (boto3 would presign in the old V2 style otherwise); path-style
        # addressing for S3-compatible stores, which rarely serve bucket subdomains.
        options = {"signature_version": "s3v4"}
        if endpoint_url:
            options["s3"] = {"addressing_style": "path"}
        # A session of our own: boto3's default session is not safe to share across threads.
        session = boto3.session.Session()
        return session.client(
            "s3", region_name=region, endpoint_url=endpoint_url, config=Config(**options)
        )

    def object_key(self, key: str) -> str:
        """The S3 object key that holds storage key ``key``."""
        return self.prefix + self.check_key(key)

    def save(self, key: str, stream: BinaryIO, content_type: str) -> None:
        # upload_fileobj sends large files in parts and aborts the upload if a part fails,
        # so nothing appears under the key unless the whole file arrived.
        self.client.upload_fileobj(
            stream, self.bucket, self.object_key(key), ExtraArgs={"ContentType": content_type}
        )

    def open(self, key: str) -> BinaryIO:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.object_key(key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _MISSING:
                raise FileNotFoundError(key) from error
            raise
        return response["Body"]

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.object_key(key))

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.object_key(key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _MISSING:
                return False
            raise
        return True

    def download_response(
        self, key: str, *, filename: str, content_type: str, inline: bool
    ) -> Response:
        url = self.client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": self.object_key(key),
                "ResponseContentDisposition": content_disposition(filename, inline=inline),
                "ResponseContentType": content_type,
            },
            ExpiresIn=self.url_expires,
        )
        response = redirect(url, code=302)
        response.headers["Cache-Control"] = "no-store"  # the link expires; never reuse it
        return response

    def __repr__(self):
        return f"<S3Storage s3://{self.bucket}/{self.prefix}>"

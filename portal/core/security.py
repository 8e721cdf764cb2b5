"""Security headers on every response: what a browser may run, load, frame, sniff and leak.

The Content-Security-Policy allows scripts and styles only from the portal's own files (no
inline script, no inline style, no ``eval``), images from the portal and ``data:`` URLs
(Bootstrap draws its icons with them), no plugins, no ``<base>`` tag, no framing by any
site, and forms that post only to the portal. With ``STORAGE_BACKEND=s3`` attachment
images are redirects to presigned S3 links, so the bucket's origin is allowed for images
too. A view that sets its own policy keeps it: attachment downloads send
``Content-Security-Policy: sandbox``.
"""

from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request

POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    # Nothing about the portal (its host, paths, ids or search words) goes to other sites;
    # links inside the portal keep the full referrer, which CSRF checks over HTTPS need.
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
}
HSTS = "max-age=31536000; includeSubDomains"


def content_security_policy(image_origins: tuple[str, ...] = ()) -> str:
    """The policy's header value, allowing images from ``image_origins`` as well."""
    policy = dict(POLICY)
    if image_origins:
        policy["img-src"] = " ".join((policy["img-src"], *image_origins))
    return "; ".join(f"{directive} {sources}" for directive, sources in policy.items())


def add_security_headers(response: Response) -> Response:
    """Add the headers to ``response``, keeping any a view has already chosen."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", _policy_for(current_app))
    for name, value in HEADERS.items():
        headers.setdefault(name, value)
    if request.is_secure:  # honours X-Forwarded-Proto when TRUSTED_PROXY_COUNT is set
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def init_app(app: Flask) -> None:
    """Send the security headers on every response of ``app``."""
    app.after_request(add_security_headers)


def _policy_for(app: Flask) -> str:
    """The app's policy, worked out again only when its file storage changes."""
    storage = app.extensions.get("storage")
    cached = app.extensions.get("security.csp")
    if cached is None or cached[0] is not storage:
        policy = content_security_policy(_download_origins(storage, app.config))
        cached = app.extensions["security.csp"] = (storage, policy)
    return cached[1]


def _download_origins(storage, config) -> tuple[str, ...]:
    """Origins attachment downloads redirect to: the S3 endpoint, or none for local files."""
    if getattr(storage, "name", None) != "s3":
        return ()
    import boto3  # only S3 deployments pay for importing it
    from botocore import UNSIGNED
    from botocore.config import Config

    # An unsigned twin of the storage's client builds the same URL without credentials
    # or network (on an instance role, fetching credentials at start-up would block).
    client = boto3.session.Session().client(
        "s3",
        region_name=config.get("S3_REGION"),
        endpoint_url=config.get("S3_ENDPOINT_URL"),
        config=storage.client.meta.config.merge(Config(signature_version=UNSIGNED)),
    )
    url = client.generate_presigned_url(
        "get_object", Params={"Bucket": storage.bucket, "Key": storage.object_key("probe")}
    )
    parts = urlsplit(url)
    return (f"{parts.scheme}://{parts.netloc}",)

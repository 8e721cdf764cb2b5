"""The portal as gunicorn serves it (``wsgi:app``), plus a bare hello-world at ``/hello``.

Only bench/load.py serves this (``gunicorn bench.load_app:app``): ``/hello`` answers before
the portal sees the request, so it measures what gunicorn and the network alone cost, the
floor every page is compared with. The portal itself never has this route.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wsgi import app as portal  # noqa: E402

HELLO = b"Hello, world!\n"


def app(environ, start_response):
    """``/hello``: a fixed text answer; anything else: the portal."""
    if environ.get("PATH_INFO") == "/hello":
        start_response(
            "200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(HELLO)))]
        )
        return [HELLO]
    return portal(environ, start_response)

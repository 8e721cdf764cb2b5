"""Browser tests: Playwright drives Debian's Chromium against the portal served on 127.0.0.1.

Playwright cannot download its own browser here, so the launch points at the Chromium that
``apt-get install chromium`` puts in /usr/lib/chromium; without it every browser test is
skipped. Each pytest(-xdist) worker serves one portal with the demo data for the whole
session (``live_server``: its own SQLite file, or PostgreSQL schema with ``TEST_DATABASE_URL``);
every journey uses its own demo people and documents, so none depends on another's writes or
on the order they run in. The stored-XSS tests serve a second portal of their own. Each
journey leaves a full-page screenshot of its last page in ``tests/browser/screenshots/`` (or
``$BROWSER_SCREENSHOTS``).
"""

import os
from pathlib import Path

import pytest

from tests.browser.live_server import live_server

CHROMIUM = Path("/usr/lib/chromium/chromium")
SCREENSHOTS = Path(os.environ.get("BROWSER_SCREENSHOTS") or Path(__file__).with_name("screenshots"))


@pytest.fixture(scope="session", autouse=True)
def _needs_chromium():
    if not CHROMIUM.is_file():
        pytest.skip(f"needs Chromium at {CHROMIUM}: apt-get install chromium (.ci/run installs it)")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="session")
def demo_portal(tmp_path_factory):
    """The portal with the demo data set, served for this worker's whole session."""
    with live_server(tmp_path_factory.mktemp("demo-portal"), with_demo=True) as server:
        yield server


@pytest.fixture(scope="session")
def base_url(demo_portal):
    """Relative addresses in ``page.goto`` go to the demo portal."""
    return demo_portal.url


@pytest.fixture
def screenshot(page, request):
    """Saves a full-page screenshot of the page the test ends on, named after the test."""
    yield
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{request.node.originalname}.png", full_page=True)

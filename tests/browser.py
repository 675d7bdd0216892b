"""What the browser tests share: Debian's Chromium driven by Playwright, and a
static file server on 127.0.0.1 in a thread.

Needs Debian's chromium (/usr/bin/chromium, or $CHROMIUM) and the playwright
package; .ci/run installs both. Without Chromium a browser test is skipped,
saying why (under CI a skip is a failure).
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import mimetypes
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Whether an <img> loaded: at once if it is done (an image that failed is
#: complete with no natural width), else when it loads or fails.
WAIT_FOR_LOAD = (
    "img => img.complete ? img.naturalWidth > 0 :"
    " new Promise(done => { img.onload = () => done(img.naturalWidth > 0); img.onerror = () => done(false); })"
)


def chromium_path() -> str | None:
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on 127.0.0.1 at a port the OS picks; yields the base URL."""
    mimetypes.add_type("image/avif", ".avif")
    mimetypes.add_type("image/webp", ".webp")
    handler = functools.partial(QuietHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def browser_type():
    """(Playwright's chromium, the executable), or a skip that says why."""
    executable = chromium_path()
    if executable is None:
        pytest.skip("no Chromium: install Debian's chromium (apt-get install chromium) or set $CHROMIUM")
    with sync_playwright() as playwright:
        try:
            playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS).close()
        except Exception as error:  # any launch failure means: no usable browser here
            pytest.skip(f"Chromium at {executable} cannot start here: {str(error).splitlines()[0]}")
        yield playwright.chromium, executable


def new_page(browser_type, viewport: int, dpr: float = 1):
    """A fresh browser and page (no image cached from another case), and the
    list the page's script errors go to."""
    chromium, executable = browser_type
    browser = chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
    page = browser.new_page(viewport={"width": viewport, "height": 900}, device_scale_factor=dpr)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return browser, page, errors

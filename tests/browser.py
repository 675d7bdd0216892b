"""What the browser tests share: Debian's Chromium driven by Playwright, and a
static file server on 127.0.0.1 in a thread.

Needs Debian's chromium (/usr/bin/chromium, or $CHROMIUM) and the playwright
package; .ci/run installs both. Without Chromium a browser test is skipped,
saying why (under CI a skip is a failure).
"""

from __future__ import annotations

import contextlib
import functools
import io
import http.server
import mimetypes
import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageStat
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


#: The requests of image variants (a versioned URL ends in a query string).
IMAGE_REQUEST = re.compile(r"\.(avif|webp|jpeg|png)(\?[^/]*)?$")


def hold_image_requests(page) -> list:
    """Leave every image request of ``page`` unanswered until released; returns
    the list of held routes (call ``route.continue_()`` on each to release)."""
    held: list = []

    def hold(route) -> None:
        held.append(route)

    page.route(IMAGE_REQUEST, hold)
    return held


def release(page, held: list) -> None:
    """Answer the held requests, and let later ones through."""
    for route in list(held):
        route.continue_()
    page.unroute(IMAGE_REQUEST)


def mean_colour(png: bytes) -> tuple[float, float, float]:
    """The mean RGB of a screenshot."""
    with Image.open(io.BytesIO(png)) as shot:
        return tuple(ImageStat.Stat(shot.convert("RGB")).mean)


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

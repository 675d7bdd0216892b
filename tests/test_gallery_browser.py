"""End to end: results/index.html in headless Chromium, at three viewport widths
and two device pixel ratios. Every image must load, and each one's currentSrc
must be the candidate Chromium's srcset rules pick.

Needs Debian's chromium (/usr/bin/chromium, or $CHROMIUM) and the playwright
package; .ci/run installs both. Without Chromium the test is skipped, saying why
(under CI a skip is a failure).
"""

from __future__ import annotations

import functools
import http.server
import mimetypes
import os
import shutil
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from PIL import Image
from playwright.sync_api import sync_playwright

from conftest import Workflow

VIEWPORTS = [375, 768, 1440]
PIXEL_RATIOS = [1, 2]
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
#: A space, an ampersand, a comma and an apostrophe: each must be escaped or
#: percent-encoded for the srcset to parse.
AWKWARD_STEM = "sea & sky, Tom's"


def chromium_path() -> str | None:
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def parse_srcset(srcset: str) -> list[tuple[str, int]]:
    """``[(url, width)]`` of a srcset with w descriptors (our URLs hold no commas)."""
    candidates = []
    for item in srcset.split(","):
        url, descriptor = item.split()
        assert descriptor.endswith("w"), descriptor
        candidates.append((url, int(descriptor[:-1])))
    return candidates


def chromium_pick(candidates: list[tuple[str, int]], source_size: float, dpr: float) -> str:
    """The candidate Chromium picks: the narrowest one whose density (width over
    the sizes value, in CSS pixels) covers the device pixel ratio, or the
    widest if none does (the spec's selection; Chromium 156 follows it, no
    longer keeping a lower candidate below the geometric mean as Blink once did).
    """
    ordered = sorted(candidates, key=lambda c: c[1])
    for url, width in ordered:
        if width / source_size >= dpr:
            return url
    return ordered[-1][0]


def test_chromium_pick_takes_narrowest_dense_enough_at_dpr_1():
    assert chromium_pick([("a", 400), ("b", 800), ("c", 1600)], 700, 1) == "b"


def test_chromium_pick_covers_dpr_2():
    assert chromium_pick([("a", 700), ("b", 1000)], 375, 2) == "b"


def test_chromium_pick_exact_density_is_enough():
    assert chromium_pick([("a", 750), ("b", 1000)], 375, 2) == "a"


def test_chromium_pick_takes_widest_when_none_is_dense_enough():
    assert chromium_pick([("a", 100), ("b", 200)], 1000, 2) == "b"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def gallery(tmp_path_factory) -> Path:
    """A built workflow with two generated photos, one with an awkward name."""
    root = tmp_path_factory.mktemp("gallery")
    workflow = Workflow(root / "wf")
    workflow.set_config(widths=[1600, 1000, 700, 400, 200], formats=["avif", "webp", "jpeg"])
    workflow.inputs.mkdir(parents=True, exist_ok=True)
    for stem, size in ((AWKWARD_STEM, (1800, 1200)), ("plain", (1700, 1000))):
        gradient = Image.linear_gradient("L").resize(size)
        flipped = gradient.transpose(Image.Transpose.ROTATE_180)
        Image.merge("RGB", (gradient, flipped, gradient)).save(workflow.inputs / f"{stem}.jpg", quality=90)
    workflow.run()
    return workflow.results


@pytest.fixture(scope="module")
def server(gallery: Path):
    mimetypes.add_type("image/avif", ".avif")
    mimetypes.add_type("image/webp", ".webp")
    handler = functools.partial(QuietHandler, directory=str(gallery))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser_type():
    executable = chromium_path()
    if executable is None:
        pytest.skip("no Chromium: install Debian's chromium (apt-get install chromium) or set $CHROMIUM")
    with sync_playwright() as playwright:
        try:
            playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS).close()
        except Exception as error:  # any launch failure means: no usable browser here
            pytest.skip(f"Chromium at {executable} cannot start here: {str(error).splitlines()[0]}")
        yield playwright.chromium, executable


@pytest.mark.parametrize("dpr", PIXEL_RATIOS)
@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_gallery_loads_the_candidate_chromium_picks(browser_type, server, viewport, dpr):
    chromium, executable = browser_type
    # A fresh browser for each case: Chromium may reuse a larger image already
    # in its memory cache instead of the one the srcset rules pick.
    browser = chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
    try:
        page = browser.new_page(viewport={"width": viewport, "height": 900}, device_scale_factor=dpr)
        page.goto(f"{server}/index.html")
        pictures = page.locator("picture")
        assert pictures.count() == 2
        inner_width = page.evaluate("window.innerWidth")
        assert inner_width == viewport
        for index in range(pictures.count()):
            picture = pictures.nth(index)
            img = picture.locator("img")
            img.scroll_into_view_if_needed()  # the images are loading="lazy"
            img.evaluate(
                "img => img.complete && img.naturalWidth > 0 ? true :"
                " new Promise((ok, fail) => { img.onload = () => ok(true); img.onerror = fail; })"
            )
            state = img.evaluate(
                "img => ({src: img.currentSrc, complete: img.complete, natural: img.naturalWidth,"
                " sizes: img.sizes, alt: img.alt,"
                " sources: [...img.parentElement.querySelectorAll('source')].map("
                "s => ({type: s.type, srcset: s.srcset, sizes: s.sizes}))})"
            )
            assert state["complete"] and state["natural"] > 0, state
            # Chromium supports AVIF, the first <source>, so that is the set it picks from.
            first = state["sources"][0]
            assert first["type"] == "image/avif"
            assert first["sizes"] == "100vw"
            expected = chromium_pick(parse_srcset(first["srcset"]), inner_width, dpr)
            picked = urlsplit(state["src"]).path.lstrip("/")
            assert unquote(picked) == unquote(expected), (viewport, dpr, state)
            assert picked.endswith(".avif")
            # A w-descriptor image's intrinsic width is the sizes value (100vw).
            assert abs(state["natural"] - inner_width) <= 1, state
    finally:
        browser.close()


def test_gallery_shows_escaped_names_and_alt_text(browser_type, server):
    chromium, executable = browser_type
    browser = chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
    try:
        page = browser.new_page()
        page.goto(f"{server}/index.html")
        alts = page.locator("picture img").evaluate_all("imgs => imgs.map(i => i.alt)")
        assert sorted(alts) == ["plain", "sea & sky, Tom's"]
        captions = page.locator("figcaption").all_inner_texts()
        assert [c.split(":")[0] for c in captions] == ["plain.jpg", AWKWARD_STEM + ".jpg"]
    finally:
        browser.close()

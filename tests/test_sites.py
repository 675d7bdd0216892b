"""End to end: the example sites of docs/sites/ built on the workflow's output.

The workflow writes into a real Hugo site (Debian's ``hugo``) and a real
Eleventy site (``@11ty/eleventy`` from npm, installed by ``.ci/run`` with
``npm ci`` in docs/sites/eleventy). Each site is built, served on 127.0.0.1
and opened in Chromium at phone and desktop widths: every ``<picture>`` loads
an AVIF variant from ``/img/``, and the markup is the workflow's own snippet
(Eleventy includes it; Hugo's partial rebuilds it from manifest.json).

Needs hugo, node and docs/sites/eleventy/node_modules; without them the tests
are skipped, saying why (under CI a skip is a failure).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from PIL import Image

from browser import (
    WAIT_FOR_LOAD,
    hold_image_requests,
    mean_colour,
    new_page,
    release,
    serve,
)
from conftest import ROOT, Workflow

SITES = ROOT / "docs" / "sites"
ELEVENTY_MODULES = SITES / "eleventy" / "node_modules"
#: A space, an ampersand, a comma and an apostrophe in a file name.
STEMS = ("plain", "sea & sky, Tom's")
SIZES = "(min-width: 60rem) 60rem, 100vw"


class Pictures(HTMLParser):
    """Each <picture>'s elements, as (tag, attributes) lists."""

    def __init__(self, text: str):
        super().__init__()
        self.pictures: list[list[tuple[str, dict]]] = []
        self._open = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        if tag == "picture":
            self._open = True
            self.pictures.append([])
        elif self._open:
            self.pictures[-1].append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag == "picture":
            self._open = False


def build_images(tmp_path: Path, output_dir: Path) -> Workflow:
    """The workflow on two generated photos, writing into a site's image folder,
    with the settings docs/sites/README.md gives a site."""
    workflow = Workflow(tmp_path / "wf")
    workflow.set_config(
        output_dir=str(output_dir),
        widths=[1600, 800, 400],
        formats=["avif", "webp", "jpeg"],
        web={"base_url": "/img/", "sizes": SIZES, "gallery": False, "alt": {"plain": "A plain gradient"}},
    )
    workflow.inputs.mkdir(parents=True, exist_ok=True)
    for stem, size in zip(STEMS, ((1800, 1200), (1700, 1000))):
        gradient = Image.linear_gradient("L").resize(size)
        Image.merge("RGB", (gradient, gradient.transpose(Image.Transpose.ROTATE_90).resize(size), gradient)).save(
            workflow.inputs / f"{stem}.jpg", quality=90
        )
    workflow.run()
    return workflow


def copy_site(name: str, destination: Path) -> Path:
    shutil.copytree(SITES / name, destination, ignore=shutil.ignore_patterns("node_modules", "public", "_site"))
    return destination


def run(cmd: list[str], cwd: Path) -> None:
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        pytest.fail(f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}")


@pytest.fixture(scope="module")
def hugo_site(tmp_path_factory) -> tuple[Path, Path]:
    """(the built site, the snippets folder), with one page of its own using the shortcode."""
    hugo = shutil.which("hugo")
    if hugo is None:
        pytest.skip("no hugo: install Debian's hugo (apt-get install hugo)")
    root = tmp_path_factory.mktemp("hugo")
    site = copy_site("hugo", root / "site")
    build_images(root, site / "static" / "img")
    (site / "content" / "one.md").write_text('---\ntitle: One\n---\n{{< picture "plain" >}}\n')
    run([hugo, "--quiet", "--destination", "public"], site)
    return site / "public", site / "static" / "img" / "html"


@pytest.fixture(scope="module")
def eleventy_site(tmp_path_factory) -> tuple[Path, Path]:
    node = shutil.which("node")
    if node is None or not ELEVENTY_MODULES.is_dir():
        pytest.skip("no Eleventy: install Node.js, then run `npm ci` in docs/sites/eleventy")
    root = tmp_path_factory.mktemp("eleventy")
    site = copy_site("eleventy", root / "site")
    (site / "node_modules").symlink_to(ELEVENTY_MODULES)
    build_images(root, site / "img")
    (site / "one.njk").write_text('{% picture "plain" %}\n')
    run([node, str(ELEVENTY_MODULES / "@11ty" / "eleventy" / "cmd.cjs"), "--quiet"], site)
    return site / "_site", site / "img" / "html"


SITE_FIXTURES = ["hugo_site", "eleventy_site"]


@pytest.mark.parametrize("site_fixture", SITE_FIXTURES)
def test_site_pages_hold_the_workflows_pictures(request, site_fixture):
    public, snippets = request.getfixturevalue(site_fixture)
    home = Pictures((public / "index.html").read_text(encoding="utf-8")).pictures
    expected = {stem: Pictures((snippets / f"{stem}.html").read_text(encoding="utf-8")).pictures[0] for stem in STEMS}
    assert sorted(home, key=lambda p: p[-1][1]["alt"]) == [expected["plain"], expected["sea & sky, Tom's"]]
    one = next(public.glob("one/index.html"), None) or public / "one" / "index.html"
    assert Pictures(one.read_text(encoding="utf-8")).pictures == [expected["plain"]]
    # Only the variants are published beside the pages, and every URL resolves to one.
    urls = {
        part.split()[0]
        for picture in home
        for _, attrs in picture
        for key in ("src", "srcset")
        if key in attrs
        for part in attrs[key].split(", ")
    }
    assert urls and all((public / unquote(url).lstrip("/")).is_file() for url in urls)


@pytest.mark.parametrize("viewport", [375, 1280])
@pytest.mark.parametrize("site_fixture", SITE_FIXTURES)
def test_site_pages_load_every_picture_in_chromium(request, browser_type, site_fixture, viewport):
    public, _ = request.getfixturevalue(site_fixture)
    with serve(public) as url:
        for page_path, count in (("/", 2), ("/one/", 1)):
            browser, page, errors = new_page(browser_type, viewport)
            try:
                page.goto(url + page_path)
                images = page.locator("picture img")
                assert images.count() == count
                for index in range(count):
                    img = images.nth(index)
                    img.scroll_into_view_if_needed()  # loading="lazy"
                    assert img.evaluate(WAIT_FOR_LOAD), "the image did not load"
                    state = img.evaluate("img => ({src: img.currentSrc, natural: img.naturalWidth, alt: img.alt})")
                    path = unquote(urlsplit(state["src"]).path)
                    assert path.startswith("/img/") and path.endswith(".avif"), state
                    assert state["natural"] > 0
                alts = images.evaluate_all("imgs => imgs.map(i => i.alt)")
                assert "A plain gradient" in alts
                assert errors == []
            finally:
                browser.close()


@pytest.mark.parametrize("site_fixture", SITE_FIXTURES)
def test_until_an_image_arrives_its_box_shows_its_placeholder(request, browser_type, site_fixture):
    public, snippets = request.getfixturevalue(site_fixture)
    manifest = json.loads((snippets.parent / "manifest.json").read_text())["sources"]
    colours = {s["alt"]: s["color"] for s in manifest.values()}
    with serve(public) as url:
        browser, page, errors = new_page(browser_type, 1280)
        try:
            held = hold_image_requests(page)
            page.goto(url + "/", wait_until="domcontentloaded")
            images = page.locator("picture img")
            assert images.count() == 2
            for index in range(2):
                img = images.nth(index)
                img.scroll_into_view_if_needed()
                state = img.evaluate(
                    "img => ({complete: img.complete && img.naturalWidth > 0, alt: img.alt,"
                    " background: getComputedStyle(img).backgroundImage,"
                    " box: img.getBoundingClientRect().height})"
                )
                assert not state["complete"], state  # the variant is held back
                assert state["background"].startswith('url("data:image/webp;base64,'), state
                assert state["box"] > 100, state  # width and height give the box its shape
                expected = colours[state["alt"]]
                shown = mean_colour(img.screenshot())
                wanted = tuple(int(expected[i : i + 2], 16) for i in (1, 3, 5))
                assert all(abs(a - b) <= 24 for a, b in zip(shown, wanted)), (shown, expected)
            assert held  # the page did ask for its images
            release(page, held)
            for index in range(2):
                assert images.nth(index).evaluate(WAIT_FOR_LOAD), "the image did not load"
            assert errors == []
        finally:
            browser.close()

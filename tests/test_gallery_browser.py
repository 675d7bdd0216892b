"""End to end: results/index.html in headless Chromium, at phone, tablet and
desktop widths and two device pixel ratios. The contact sheet has as many
columns as fit and never scrolls sideways; every thumbnail loads the candidate
Chromium's srcset rules pick for the card's sizes, sharp enough for its box;
clicking a card shows each format at one width, and the width can be changed.

Browser and server: tests/browser.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

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
from conftest import Workflow
from scripts import web

VIEWPORTS = [375, 768, 1440]
PIXEL_RATIOS = [1, 2]
#: A space, an ampersand, a comma and an apostrophe: each must be escaped or
#: percent-encoded for the srcset to parse.
AWKWARD_STEM = "sea & sky, Tom's"


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
    with serve(gallery) as url:
        yield url


def card_sizes_value(viewport: int) -> int:
    """What gallery.CARD_SIZES, "(min-width: 40rem) 28rem, 100vw", evaluates to."""
    return 28 * 16 if viewport >= 40 * 16 else viewport


@pytest.mark.parametrize("dpr", PIXEL_RATIOS)
@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_thumbnails_load_the_candidate_chromium_picks_sharp_enough_for_their_box(
    browser_type, server, viewport, dpr
):
    # A fresh browser for each case: Chromium may reuse a larger image already
    # in its memory cache instead of the one the srcset rules pick.
    browser, page, errors = new_page(browser_type, viewport, dpr)
    try:
        page.goto(f"{server}/index.html")
        pictures = page.locator(".card picture")
        assert pictures.count() == 2
        assert page.evaluate("window.innerWidth") == viewport
        sizes_value = card_sizes_value(viewport)
        for index in range(pictures.count()):
            img = pictures.nth(index).locator("img")
            img.scroll_into_view_if_needed()  # the images are loading="lazy"
            assert img.evaluate(WAIT_FOR_LOAD), "the image did not load"
            state = img.evaluate(
                "img => ({src: img.currentSrc, natural: img.naturalWidth,"
                " box: img.getBoundingClientRect().width,"
                " sources: [...img.parentElement.querySelectorAll('source')].map("
                "s => ({type: s.type, srcset: s.srcset, sizes: s.sizes}))})"
            )
            # Chromium supports AVIF, the first <source>, so that is the set it picks from.
            first = state["sources"][0]
            assert first["type"] == "image/avif"
            candidates = parse_srcset(first["srcset"])
            # A w-descriptor image's intrinsic width is the sizes value.
            assert abs(state["natural"] - sizes_value) <= 1, state
            expected = chromium_pick(candidates, sizes_value, dpr)
            picked = unquote(urlsplit(state["src"]).path.lstrip("/"))
            assert picked == unquote(expected), (viewport, dpr, state)
            # The sizes value covers the box, so the pick has the pixels the box shows.
            assert state["box"] <= sizes_value + 1, state
            width = dict((unquote(u), w) for u, w in candidates)[picked]
            assert width >= state["box"] * dpr or width == max(w for _, w in candidates), state
        assert errors == []
    finally:
        browser.close()


@pytest.mark.parametrize(("viewport", "columns"), [(375, 1), (768, 2), (1440, 4)])
def test_the_sheet_fits_as_many_columns_as_the_width_allows_without_scrolling_sideways(
    browser_type, server, viewport, columns
):
    browser, page, errors = new_page(browser_type, viewport)
    try:
        page.goto(f"{server}/index.html")
        layout = page.evaluate(
            "() => ({columns: getComputedStyle(document.querySelector('.sheet'))"
            ".gridTemplateColumns.split(' ').length,"
            " scroll: document.documentElement.scrollWidth, inner: window.innerWidth,"
            " charts: [...document.querySelectorAll('.card .chart')].map(c => c.getBoundingClientRect().width)})"
        )
        assert layout["columns"] == columns, layout
        assert layout["scroll"] <= layout["inner"], layout
        assert len(layout["charts"]) == 2 and all(w > 200 for w in layout["charts"]), layout
        assert errors == []
    finally:
        browser.close()


@pytest.mark.parametrize("viewport", [375, 1440])
def test_clicking_a_card_shows_each_format_at_one_width(browser_type, server, gallery, viewport):
    manifest = json.loads((gallery / "manifest.json").read_text())
    variants = manifest["sources"]["plain"]["variants"]
    browser, page, errors = new_page(browser_type, viewport)
    try:
        page.goto(f"{server}/index.html")
        dialog = page.locator("dialog#compare")
        assert not dialog.is_visible()
        page.locator('.card > a[data-stem="plain"]').click()
        assert dialog.is_visible()
        assert "plain.jpg" in dialog.locator("h2").inner_text()

        def shown() -> list[dict]:
            images = dialog.locator(".formats img")
            for index in range(images.count()):
                assert images.nth(index).evaluate(WAIT_FOR_LOAD), "the image did not load"
            return dialog.locator(".formats figure").evaluate_all(
                "figures => figures.map(f => ({format: f.dataset.format, caption: f.innerText,"
                " src: f.querySelector('img').currentSrc, natural: f.querySelector('img').naturalWidth,"
                " right: f.getBoundingClientRect().right}))"
            )

        # The widest width every format has, up to the snippets' 1024 px fallback.
        figures = shown()
        assert [f["format"] for f in figures] == ["avif", "webp", "jpeg"]
        for figure in figures:
            assert figure["natural"] == 1000, figure
            (expected,) = [v for v in variants if v["format"] == figure["format"] and v["width"] == 1000]
            assert unquote(urlsplit(figure["src"]).path.lstrip("/")) == expected["path"]
            assert f"{figure['format']} \u00b7 {web.human_bytes(expected['bytes'])}" in figure["caption"]
            assert figure["right"] <= viewport
        dialog.locator("select").select_option("400")
        assert {f["natural"] for f in shown()} == {400}
        page.keyboard.press("Escape")
        assert not dialog.is_visible()
        assert errors == []
    finally:
        browser.close()


def test_a_link_to_a_card_opens_its_comparison(browser_type, server):
    browser, page, errors = new_page(browser_type, 1440)
    try:
        page.goto(f"{server}/index.html#{quote(AWKWARD_STEM)}")
        assert page.locator("dialog#compare").is_visible()
        assert AWKWARD_STEM + ".jpg" in page.locator("dialog#compare h2").inner_text()
        assert errors == []
    finally:
        browser.close()


def test_gallery_shows_escaped_names_and_alt_text(browser_type, server):
    browser, page, errors = new_page(browser_type, 1440)
    try:
        page.goto(f"{server}/index.html")
        alts = page.locator(".card picture img").evaluate_all("imgs => imgs.map(i => i.alt)")
        assert sorted(alts) == ["plain", "sea & sky, Tom's"]
        names = page.locator(".card h2").all_inner_texts()
        assert names == ["plain.jpg", AWKWARD_STEM + ".jpg"]
        assert errors == []
    finally:
        browser.close()


@pytest.mark.parametrize("viewport", [375, 1440])
def test_until_a_thumbnail_arrives_its_card_shows_the_placeholder(browser_type, server, gallery, viewport):
    manifest = json.loads((gallery / "manifest.json").read_text())["sources"]
    browser, page, errors = new_page(browser_type, viewport)
    try:
        held = hold_image_requests(page)
        page.goto(f"{server}/index.html", wait_until="domcontentloaded")
        for stem, source in manifest.items():
            img = page.locator(f'article[id="{stem}"] picture img')
            img.scroll_into_view_if_needed()
            assert not img.evaluate("img => img.complete && img.naturalWidth > 0")
            assert img.evaluate("img => getComputedStyle(img).backgroundImage").startswith('url("data:image/webp')
            shown = mean_colour(img.screenshot())
            wanted = [int(source["color"][i : i + 2], 16) for i in (1, 3, 5)]
            assert all(abs(a - b) <= 24 for a, b in zip(shown, wanted)), (stem, shown, source["color"])
        assert held
        release(page, held)
        for stem in manifest:
            assert page.locator(f'article[id="{stem}"] picture img').evaluate(WAIT_FOR_LOAD)
        assert errors == []
    finally:
        browser.close()

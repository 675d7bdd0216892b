"""Unit tests of scripts/gallery.py: the contact sheet's cards, chart and data.

The page in a real browser, at phone and desktop widths, is
tests/test_gallery_browser.py."""

from __future__ import annotations

import json
import math
import re
from html.parser import HTMLParser

import pytest

from scripts import gallery, web
from test_web import record, variant


class Page(HTMLParser):
    """Start tags with their attributes, and the text of each script element."""

    def __init__(self, text: str):
        super().__init__()
        self.elements: list[tuple[str, dict]] = []
        self.scripts: list[tuple[dict, str]] = []
        self._in_script: dict | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        if tag == "script":
            self._in_script = dict(attrs)

    def handle_data(self, data):
        if self._in_script is not None:
            self.scripts.append((self._in_script, data))

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = None

    def all(self, tag: str, cls: str | None = None) -> list[dict]:
        return [a for t, a in self.elements if t == tag and (cls is None or cls in a.get("class", "").split())]

    def data(self) -> dict:
        return json.loads(next(text for attrs, text in self.scripts if attrs.get("id") == "gallery-data"))


def photo(name="a.jpg", formats=("webp", "png"), widths=(100, 480, 992, 2000)):
    stem = name.rsplit(".", 1)[0]
    return record(
        [variant(fmt, w, w * (30 if fmt == "png" else 2), stem=stem) for fmt in formats for w in widths],
        name=name,
    )


@pytest.mark.parametrize(
    ("widths", "expected"),
    [
        ((100, 480, 992, 2000), 992),
        ((1024, 1500), 1024),
        ((1500, 3000), 1500),
        ((50,), 50),
    ],
)
def test_compare_width_is_the_widest_common_width_up_to_the_fallbacks(widths, expected):
    assert gallery.compare_width(photo(widths=widths).variants) == expected


def test_compare_width_takes_a_width_every_format_has():
    variants = [variant("webp", 992, 10), variant("webp", 480, 5), variant("avif", 480, 4)]
    assert gallery.compare_width(variants) == 480


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [(150, 95_000, [100, 1000, 10_000, 100_000]), (1000, 1000, [1000, 10_000]), (0, 5, [1, 10])],
)
def test_log_ticks_cover_the_range(low, high, expected):
    assert gallery.log_ticks(low, high) == expected


@pytest.mark.parametrize(("count", "label"), [(100, "100 B"), (1000, "1 kB"), (10**7, "10 MB"), (10**9, "1 GB")])
def test_tick_label(count, label):
    assert gallery.tick_label(count) == label


def test_chart_has_one_bar_per_variant_titled_with_its_bytes():
    rec = photo()
    page = Page(gallery.bytes_chart(rec.variants))
    bars = page.all("rect", "bar")
    assert sorted((b["data-format"], int(b["data-width"]), int(b["data-bytes"])) for b in bars) == sorted(
        (v.format, v.width, v.bytes) for v in rec.variants
    )
    titles = re.findall(r"<title>([^<]*)</title>", gallery.bytes_chart(rec.variants))
    assert "png 992&#215;496: 29.8 kB" in titles


def test_chart_bars_grow_with_bytes_on_a_log_scale():
    variants = [variant("webp", 100, 100), variant("webp", 200, 1000), variant("webp", 400, 10_000)]
    bars = Page(gallery.bytes_chart(variants)).all("rect", "bar")
    heights = [float(b["height"]) for b in sorted(bars, key=lambda b: int(b["data-bytes"]))]
    # ticks 100 .. 10,000: each tenfold step is half of the plot's height
    plot = gallery.CHART_HEIGHT - gallery.CHART_BOTTOM - gallery.CHART_TOP
    assert heights == pytest.approx([0, plot / 2, plot], abs=0.1)
    # narrowest on the left
    assert [int(b["data-width"]) for b in sorted(bars, key=lambda b: float(b["x"]))] == [100, 200, 400]


def test_chart_of_no_variant_is_empty():
    assert gallery.bytes_chart([]) == ""


def test_legend_gives_each_formats_total_in_chart_order():
    rec = photo(formats=("png", "avif"))
    items = re.findall(r'data-format="(\w+)"[^>]*>([^<]*)<', gallery.legend(rec.variants))
    avif = sum(v.bytes for v in rec.variants if v.format == "avif")
    assert items == [("avif", f"avif {web.human_bytes(avif)}"), ("png", "png 107.2 kB")]


def test_page_has_a_card_per_source_sorted_by_stem_with_a_sized_thumbnail():
    page_text = gallery.gallery_html([photo("b.jpg"), photo("a.jpg")])
    page = Page(page_text)
    assert [a["id"] for a in page.all("article", "card")] == ["a", "b"]
    imgs = page.all("img")
    assert len(imgs) == 2 and all(i["sizes"] == gallery.CARD_SIZES for i in imgs)
    assert [a["data-stem"] for a in page.all("a") if "data-stem" in a] == ["a", "b"]
    assert "2 sources &#183; 16 variants" in page_text


def test_page_data_lists_each_sources_variants_for_the_dialog():
    rec = photo("a.jpg", formats=("png", "webp"))
    data = Page(gallery.gallery_html([rec])).data()
    source = data["a"]
    assert source["compare_width"] == 992
    assert (source["width"], source["height"], source["alt"]) == (800, 400, "a")
    # chart order (webp before png), then by width
    assert [(v["format"], v["width"]) for v in source["variants"]][:5] == [
        ("webp", 100), ("webp", 480), ("webp", 992), ("webp", 2000), ("png", 100),
    ]
    assert {(v["url"], v["bytes"]) for v in source["variants"]} == {(v.url, v.bytes) for v in rec.variants}


def test_names_are_escaped_in_the_markup_and_cannot_close_the_data_script():
    rec = photo("a&b</script><i>.jpg")
    text = gallery.gallery_html([rec])
    page = Page(text)
    (h2,) = re.findall(r"<h2>([^<]*)</h2>", text.split('<dialog')[0])
    assert h2 == "a&amp;b&lt;/script&gt;&lt;i&gt;.jpg"
    assert not page.all("i")
    assert page.data()["a&b</script><i>"]["name"] == "a&b</script><i>.jpg"


def test_page_without_sources_still_renders():
    page = gallery.gallery_html([])
    assert "0 sources" in page and Page(page).data() == {}


def test_write_gallery_reads_records(tmp_path):
    record_path = tmp_path / "a.json"
    rec = photo()
    record_path.write_text(json.dumps(web.asdict(rec)))
    line = gallery.write_gallery([record_path], tmp_path / "index.html")
    assert line.endswith("1 sources")
    assert Page((tmp_path / "index.html").read_text()).data()["a"]["name"] == "a.jpg"


def test_card_sizes_cover_every_column_width():
    """The grid's column width (STYLE: 1rem padding and gaps, columns of at
    least 18rem, at most 90rem of content) never exceeds what CARD_SIZES says."""
    rem = 16
    for viewport in range(320, 2561, 8):
        content = min(viewport, 90 * rem) - 2 * rem
        columns = max(1, math.floor((content + rem) / (18 * rem + rem)))
        column = (content - (columns - 1) * rem) / columns
        declared = 28 * rem if viewport >= 40 * rem else viewport
        assert column <= declared, viewport

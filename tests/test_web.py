"""Unit tests of scripts/web.py: records, snippets, manifest, size report."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from html.parser import HTMLParser

import jsonschema
import pytest

from conftest import ROOT, make_image
from scripts import web
from scripts.web import SourceRecord, Variant

MANIFEST_SCHEMA = ROOT / "rules" / "schemas" / "manifest.schema.json"


def variant(fmt: str, width: int, size: int, stem: str = "a") -> Variant:
    name = f"{stem}_{width}x{width // 2}.{fmt}"
    return Variant(path=name, url=web.variant_url(name), format=fmt, width=width, height=width // 2, bytes=size)


def record(variants, name="a.jpg", size=1000, alt="a") -> SourceRecord:
    stem = name.rsplit(".", 1)[0]
    return SourceRecord(name, stem, f"input_images/{name}", "0" * 64, size, 800, 400, alt, list(variants))


class Elements(HTMLParser):
    """Tags and attributes of a snippet, as a browser's parser sees them."""

    def __init__(self, text: str):
        super().__init__()
        self.elements: list[tuple[str, dict]] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a_480x320.webp", ("a", 480, 320, "webp")),
        ("my_photo_2_1x1.avif", ("my_photo_2", 1, 1, "avif")),
        ("x y, z_992x661.jpeg", ("x y, z", 992, 661, "jpeg")),
    ],
)
def test_parse_variant_name(name, expected):
    assert web.parse_variant_name(name) == expected


@pytest.mark.parametrize("name", ["a.webp", "a_0x5.png", "a_10x5.gif", "a_10x5.png.part"])
def test_parse_variant_name_rejects(name):
    with pytest.raises(ValueError, match="not a variant name"):
        web.parse_variant_name(name)


@pytest.mark.parametrize(
    ("name", "base", "url"),
    [
        ("a_1x1.png", "", "a_1x1.png"),
        ("sea & sky, 2_10x5.webp", "", "sea%20%26%20sky%2C%202_10x5.webp"),
        ("a_1x1.png", "/img/", "/img/a_1x1.png"),
    ],
)
def test_variant_url(name, base, url):
    assert web.variant_url(name, base) == url


def test_drop_not_smaller_keeps_variants_that_shrink():
    variants = [variant("png", 100, 10), variant("png", 200, 20), variant("png", 400, 40)]
    assert web.drop_not_smaller(variants) == (variants, [])


def test_drop_not_smaller_drops_a_width_as_big_as_the_next_larger():
    small, mid, large = variant("png", 100, 35), variant("png", 200, 30), variant("png", 400, 30)
    kept, dropped = web.drop_not_smaller([small, mid, large])
    assert kept == [large]
    assert dropped == [small, mid]


def test_drop_not_smaller_compares_within_one_format():
    png, webp = variant("png", 100, 50), variant("webp", 200, 10)
    assert web.drop_not_smaller([png, webp]) == ([png, webp], [])


@pytest.mark.parametrize(
    ("stem", "alt"),
    [("red-fox_at.dusk", "red fox at dusk"), ("IMG_0042", "IMG 0042"), ("___", "___")],
)
def test_default_alt(stem, alt):
    assert web.default_alt(stem) == alt


def test_picture_html_has_a_source_per_modern_format_and_an_img_fallback():
    variants = [variant(fmt, w, w) for fmt in ("avif", "webp", "jpeg") for w in (480, 992, 1928)]
    tags = Elements(web.picture_html(record(variants), "(min-width: 60em) 50vw, 100vw")).elements
    assert [tag for tag, _ in tags] == ["picture", "source", "source", "img"]
    assert [attrs["type"] for _, attrs in tags[1:3]] == ["image/avif", "image/webp"]
    assert tags[1][1]["srcset"] == "a_480x240.avif 480w, a_992x496.avif 992w, a_1928x964.avif 1928w"
    assert tags[1][1]["sizes"] == "(min-width: 60em) 50vw, 100vw"
    img = tags[3][1]
    assert img["src"] == "a_992x496.jpeg"  # widest up to 1024
    assert img["srcset"].endswith("a_1928x964.jpeg 1928w")
    assert (img["width"], img["height"]) == ("992", "496")
    assert (img["alt"], img["loading"], img["decoding"]) == ("a", "lazy", "async")


def test_picture_html_falls_back_to_png_without_jpeg():
    variants = [variant("png", 100, 1), variant("webp", 100, 1)]
    tags = Elements(web.picture_html(record(variants), "100vw")).elements
    assert [(tag, attrs.get("type")) for tag, attrs in tags] == [("picture", None), ("source", "image/webp"), ("img", None)]
    assert tags[2][1]["src"] == "a_100x50.png"


def test_picture_html_with_one_format_has_no_source():
    tags = Elements(web.picture_html(record([variant("webp", 2000, 1), variant("webp", 1500, 1)]), "100vw")).elements
    assert [tag for tag, _ in tags] == ["picture", "img"]
    assert tags[1][1]["src"] == "a_1500x750.webp"  # all wider than 1024: the narrowest


def test_picture_html_escapes_names_and_attributes():
    name = 'Tom & "Jerry" <3>'
    variants = [variant("jpeg", 100, 1, stem=name), variant("webp", 100, 1, stem=name)]
    text = web.picture_html(record(variants, name=name + ".jpg", alt='say "hi" & <bye>'), 'x" onload="evil')
    assert "<3>" not in text and 'onload="evil' not in text
    tags = Elements(text).elements
    assert tags[2][1]["alt"] == 'say "hi" & <bye>'
    assert tags[1][1]["sizes"] == 'x" onload="evil'
    assert tags[2][1]["src"] == "Tom%20%26%20%22Jerry%22%20%3C3%3E_100x50.jpeg"


def test_picture_html_refuses_a_source_without_variants():
    with pytest.raises(ValueError, match="a.jpg: no variant"):
        web.picture_html(record([]), "100vw")


def test_describe_source_reads_sizes_and_hash(tmp_path):
    source = make_image(tmp_path / "in" / "pic.png", size=(40, 20))
    out = tmp_path / "out"
    variants = [make_image(out / f"pic_{w}x{w // 2}.png", size=(w, w // 2)) for w in (20, 10)]
    rec = web.describe_source(source, (40, 20), variants, base_url="/img/")
    assert rec.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    assert (rec.name, rec.bytes, rec.width, rec.height, rec.alt) == ("pic.png", source.stat().st_size, 40, 20, "pic")
    assert [(v.path, v.url, v.width, v.height) for v in rec.variants] == [
        ("pic_10x5.png", "/img/pic_10x5.png", 10, 5),
        ("pic_20x10.png", "/img/pic_20x10.png", 20, 10),
    ]
    assert [v.bytes for v in rec.variants] == [p.stat().st_size for p in reversed(variants)]


def test_versioned_urls_end_in_a_hash_of_each_files_bytes(tmp_path):
    source = make_image(tmp_path / "in" / "a b.png", size=(40, 20))
    out = tmp_path / "out"
    variants = [make_image(out / f"a b_{w}x{w // 2}.png", size=(w, w // 2)) for w in (20, 10)]
    rec = web.describe_source(source, (40, 20), variants, base_url="/img/", versioned=True)
    for v in rec.variants:
        digest = hashlib.sha256((out / v.path).read_bytes()).hexdigest()
        assert v.url == f"/img/{v.path.replace(' ', '%20')}?v={digest[:10]}"
    snippet = web.picture_html(rec, "100vw")
    assert f'src="{rec.variants[1].url}"' in snippet and "?v=" in web.srcset(rec.variants)


def test_manifest_lists_sources_by_stem_with_variants():
    data = web.manifest([record([variant("png", 10, 5), variant("png", 20, 9)], name="b.jpg"), record([], name="a.png")])
    assert data["version"] == web.MANIFEST_VERSION
    assert list(data["sources"]) == ["a", "b"]
    b = data["sources"]["b"]
    assert b["name"] == "b.jpg"
    assert b["variants"][0] == {"path": "a_10x5.png", "url": "a_10x5.png", "format": "png", "width": 10, "height": 5, "bytes": 5}
    assert b["srcset"] == {"png": "a_10x5.png 10w, a_20x10.png 20w"}
    assert b["fallback"]["path"] == "a_20x10.png"
    assert data["sources"]["a"]["fallback"] is None
    jsonschema.validate(data, json.loads(MANIFEST_SCHEMA.read_text()))


@pytest.mark.parametrize(
    ("weights", "fallback"),
    [
        ({"jpeg": 100, "webp": 60, "avif": 40}, "jpeg"),
        ({"png": 500, "webp": 100}, "png"),  # 5x: still png
        ({"png": 501, "webp": 100}, "webp"),  # more than 5x a universal format
        ({"png": 3000, "avif": 100}, "png"),  # AVIF is not universal: png stays
        ({"jpeg": 900, "png": 5000, "webp": 100}, "webp"),
        ({"avif": 10}, "avif"),
    ],
)
def test_the_fallback_is_never_much_heavier_than_a_universal_format(weights, fallback):
    grouped = {fmt: [variant(fmt, 100, size)] for fmt, size in weights.items()}
    assert web.fallback_format(grouped) == fallback


def rows_by(rows, scope):
    return [r for r in rows if r["scope"] == scope]


def test_size_report_totals_formats_widths_and_sources():
    a = record([variant("png", 100, 30), variant("png", 50, 10), variant("webp", 100, 5)], name="a.jpg", size=100)
    b = record([variant("png", 100, 40, stem="b")], name="b.jpg", size=300)
    rows = web.size_report([a, b])
    total = rows_by(rows, "total")[0]
    assert (total["files"], total["source_bytes"], total["output_bytes"], total["ratio"]) == (4, 400, 85, "0.2125")
    assert [(r["format"], r["source_bytes"], r["output_bytes"]) for r in rows_by(rows, "format")] == [
        ("png", 400, 80),
        ("webp", 100, 5),
    ]
    assert [(r["width"], r["files"], r["output_bytes"]) for r in rows_by(rows, "width")] == [(50, 1, 10), (100, 3, 75)]
    assert [(r["source"], r["format"], r["width"], r["saved_bytes"]) for r in rows_by(rows, "source")] == [
        ("a.jpg", "png", 100, 70),
        ("a.jpg", "webp", 100, 95),
        ("b.jpg", "png", 100, 260),
    ]


def test_report_csv_round_trips_and_summarises():
    text = web.report_csv(web.size_report([record([variant("webp", 100, 250_000)], size=1_000_000)]))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == list(web.REPORT_COLUMNS)
    lines = web.report_summary(rows)
    assert lines[0] == "Sizes: 1.0 MB of sources -> 250.0 kB in 1 variants (ratio 0.25; webp 250.0 kB)."
    assert "widest webp variants: 250.0 kB for 1.0 MB of sources (ratio 0.25)" in lines[1]


def test_report_summary_is_empty_without_variants():
    assert web.report_summary(csv.DictReader(io.StringIO(web.report_csv(web.size_report([]))))) == []


def test_report_gallery_inlines_thumbnails(tmp_path):
    thumb = make_image(tmp_path / "a_10x5.webp", size=(10, 5))
    page = web.report_gallery_html([record([variant("webp", 10, 5)])], [thumb])
    assert "data:image/webp;base64," in page
    assert "a_10x5.webp" in page


def test_write_record_then_snippet(tmp_path):
    source = make_image(tmp_path / "pic.png", size=(20, 10))
    out = tmp_path / "results"
    made = make_image(out / "pic_10x5.png", size=(10, 5))
    line = web.write_record(source, (20, 10), [made], out / "r.json", alt="A pic", name="input_images/pic.png")
    assert line == f"described {source}: 1 variants, 0 dropped"
    record = json.loads((out / "r.json").read_text())
    assert (record["alt"], record["path"], record["name"]) == ("A pic", "input_images/pic.png", "pic.png")
    assert record["variants"] == [
        {"path": "pic_10x5.png", "url": "pic_10x5.png", "format": "png", "width": 10, "height": 5,
         "bytes": made.stat().st_size}
    ]
    web.write_snippet(out / "r.json", "50vw", out / "html" / "pic.html")
    snippet = (out / "html" / "pic.html").read_text()
    assert 'alt="A pic"' in snippet and 'sizes="50vw"' in snippet


def test_write_record_of_a_missing_variant_fails_and_writes_nothing(tmp_path):
    source = make_image(tmp_path / "pic.png", size=(20, 10))
    with pytest.raises(FileNotFoundError, match="pic_10x5.png"):
        web.write_record(source, (20, 10), [tmp_path / "pic_10x5.png"], tmp_path / "r.json")
    assert not (tmp_path / "r.json").exists()

"""End to end: the manifest, the snippets, the gallery, the size report and
Snakemake's report, and when each of them is rewritten."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re

import jsonschema
import pytest
from PIL import Image

from conftest import ROOT, changed, make_image

MANIFEST_SCHEMA = ROOT / "rules" / "schemas" / "manifest.schema.json"
#: The web files, relative to the workflow's folder: what a site serves, and the size report.
WEB_FILES = [
    "results/manifest.json", "results/index.html", "results/html/alpha.html", "results/html/beta.html",
    "build/report.csv",
]


@pytest.fixture
def built(workflow):
    make_image(workflow.inputs / "alpha.jpg", (64, 48))
    make_image(workflow.inputs / "beta.png", (30, 60), mode="RGBA", color=(0, 90, 200, 128))
    workflow.last = workflow.run()
    return workflow


def stamps(workflow) -> dict:
    """Path -> (inode, mtime_ns) of each web file: a rewrite changes it."""
    return {name: ((stat := (workflow.root / name).stat()).st_ino, stat.st_mtime_ns) for name in WEB_FILES}


def rewritten(before: dict, workflow) -> set[str]:
    return {name for name, stamp in stamps(workflow).items() if before[name] != stamp}


def test_manifest_lists_every_source_and_variant_as_on_disk(built):
    manifest = json.loads((built.results / "manifest.json").read_text())
    jsonschema.validate(manifest, json.loads(MANIFEST_SCHEMA.read_text()))
    sources = manifest["sources"]
    assert {stem: s["name"] for stem, s in sources.items()} == {"alpha": "alpha.jpg", "beta": "beta.png"}
    alpha = sources["alpha"]
    source_file = built.inputs / "alpha.jpg"
    assert alpha["sha256"] == hashlib.sha256(source_file.read_bytes()).hexdigest()
    assert (alpha["bytes"], alpha["width"], alpha["height"]) == (source_file.stat().st_size, 64, 48)
    listed = {v["path"] for s in sources.values() for v in s["variants"]}
    assert listed == set(built.outputs())
    for source in sources.values():
        for variant in source["variants"]:
            path = built.results / variant["path"]
            assert variant["bytes"] == path.stat().st_size
            with Image.open(path) as im:
                assert im.size == (variant["width"], variant["height"])
                assert im.format.lower() == variant["format"]


def test_snippets_and_gallery_reference_existing_variants(built):
    snippet = (built.results / "html" / "alpha.html").read_text()
    assert '<source type="image/webp" srcset="alpha_10x8.webp 10w, alpha_20x15.webp 20w, alpha_40x30.webp 40w"' in snippet
    assert '<img src="alpha_40x30.png"' in snippet and 'alt="alpha"' in snippet
    gallery = (built.results / "index.html").read_text()
    urls = set(re.findall(r'(?:src|srcset)="([^"]+)"', gallery))
    files = {part.split()[0] for url in urls for part in url.split(", ")}
    assert files and files <= set(built.outputs())
    assert {"alpha_40x30.png", "beta_30x60.png"} <= files


def test_size_report_is_written_and_summarised(built):
    rows = list(csv.DictReader((built.build / "report.csv").open()))
    total = next(r for r in rows if r["scope"] == "total")
    sources = sum(p.stat().st_size for p in built.inputs.iterdir())
    outputs = sum((built.results / name).stat().st_size for name in built.outputs())
    assert (int(total["source_bytes"]), int(total["output_bytes"]), int(total["files"])) == (sources, outputs, 12)
    assert {r["format"] for r in rows if r["scope"] == "format"} == {"png", "webp"}
    assert {r["width"] for r in rows if r["scope"] == "width"} == {"10", "20", "30", "40"}
    assert len([r for r in rows if r["scope"] == "source"]) == 4
    assert "Sizes: " in built.last.stderr and "12 variants" in built.last.stderr
    again = built.run()  # a no-op run summarises it too
    assert "Sizes: " in again.stderr


def test_noop_rerun_rewrites_no_web_file(built):
    before = stamps(built)
    built.run()
    assert rewritten(before, built) == set()


def test_changing_a_format_setting_rewrites_what_lists_bytes(built):
    before = stamps(built)
    config = built.config
    config["encoders"]["webp"]["quality"] = 40
    built.set_config(encoders=config["encoders"])
    built.run()
    assert rewritten(before, built) == set(WEB_FILES)


def test_changing_a_setting_no_variant_uses_rewrites_nothing(built):
    before = stamps(built)
    built.set_config(background="#000000")  # jpeg only, and jpeg is not made
    built.run()
    assert rewritten(before, built) == set()


def test_changing_sizes_rewrites_only_the_snippets(built):
    """The gallery has sizes of its own, fitted to its grid."""
    before = stamps(built)
    built.set_config(web={**built.config["web"], "sizes": "(min-width: 40em) 50vw, 100vw"})
    done = built.run()
    assert rewritten(before, built) == {"results/html/alpha.html", "results/html/beta.html"}
    assert "No target to build; 2 other job(s) ran." in done.stderr.splitlines()
    assert 'sizes="(min-width: 40em) 50vw, 100vw"' in (built.results / "html" / "beta.html").read_text()


def test_alt_text_of_one_source_rewrites_its_snippet(built):
    before = stamps(built)
    built.set_config(web={**built.config["web"], "alt": {"beta": 'A "blue" square & more'}})
    built.run()
    # report.csv reads the same records, so it is rewritten too (with the same rows)
    assert rewritten(before, built) == {
        "results/manifest.json", "build/report.csv", "results/index.html", "results/html/beta.html",
    }
    assert 'alt="A &quot;blue&quot; square &amp; more"' in (built.results / "html" / "beta.html").read_text()


def test_base_url_prefixes_every_url(built):
    built.set_config(web={**built.config["web"], "base_url": "/img/"})
    built.run()
    manifest = json.loads((built.results / "manifest.json").read_text())
    assert all(v["url"] == "/img/" + v["path"] for s in manifest["sources"].values() for v in s["variants"])
    fallback = manifest["sources"]["alpha"]["fallback"]
    assert fallback["url"] == "/img/" + fallback["path"]
    assert f'src="/img/{fallback["path"]}"' in (built.results / "html" / "alpha.html").read_text()


def test_drop_not_smaller_leaves_out_variants_as_big_as_a_wider_one(workflow):
    # A one-pixel checkerboard compresses well at full size; resampled, it turns
    # into moiré that PNG stores in more bytes than the full-size image.
    board = Image.new("L", (64, 64))
    board.putdata([255 * ((x + y) % 2) for y in range(64) for x in range(64)])
    workflow.inputs.mkdir(parents=True)
    board.convert("RGB").save(workflow.inputs / "board.png")
    workflow.set_config(widths=[64, 48, 40, 33], formats=["png"])
    workflow.set_config(web={**workflow.config["web"], "drop_not_smaller": True})
    workflow.run()
    source = json.loads((workflow.results / "manifest.json").read_text())["sources"]["board"]
    sizes = {v["width"]: v["bytes"] for v in source["variants"] + source["dropped"]}
    expected_dropped, smallest_wider = set(), None
    for width in sorted(sizes, reverse=True):
        if smallest_wider is not None and sizes[width] >= smallest_wider:
            expected_dropped.add(width)
        else:
            smallest_wider = sizes[width]
    assert expected_dropped, sizes  # the checkerboard does produce such variants
    assert {v["width"] for v in source["dropped"]} == expected_dropped
    snippet = (workflow.results / "html" / "board.html").read_text()
    for width in expected_dropped:
        assert f" {width}w" not in snippet
    assert len(workflow.outputs()) == 4  # the files stay: they are targets


def test_removing_a_source_lists_its_web_files_for_remove_orphans(built):
    (built.inputs / "beta.png").unlink()
    built.run()
    manifest = json.loads((built.results / "manifest.json").read_text())
    assert list(manifest["sources"]) == ["alpha"]
    assert "beta" not in (built.results / "index.html").read_text()
    built.run("remove_orphans")
    assert not (built.results / "html" / "beta.html").exists()
    assert not (built.build / "cache" / "beta").exists()
    assert (built.results / "html" / "alpha.html").exists()


def test_snakemake_report_holds_gallery_and_size_report(built):
    built.run("--report", "report.html")
    report = (built.root / "report.html").read_text()
    # The report embeds each file whole, as a base64 data URI.
    for path in (built.build / "report.csv", built.build / "report" / "gallery.html"):
        assert base64.b64encode(path.read_bytes()).decode() in report, path.name


def test_the_output_folder_holds_only_what_a_site_serves(built):
    served = {path.relative_to(built.results).as_posix() for path in built.results.rglob("*") if path.is_file()}
    assert served == set(built.outputs()) | {"manifest.json", "index.html", "html/alpha.html", "html/beta.html"}
    assert (built.build / "report.csv").is_file() and (built.build / "logs" / "manifest.log").is_file()
    assert (built.build / "cache" / "alpha" / "record.json").is_file()


def test_without_the_gallery_the_snippets_and_manifest_are_still_written(workflow):
    make_image(workflow.inputs / "alpha.jpg", (64, 48))
    workflow.set_config(web={**workflow.config["web"], "gallery": False})
    workflow.run()
    assert not (workflow.results / "index.html").exists()
    assert (workflow.results / "html" / "alpha.html").is_file()
    assert "alpha" in json.loads((workflow.results / "manifest.json").read_text())["sources"]


def truncated_jpeg(path, size=(64, 48)) -> None:
    """A JPEG whose header reads (its size is planned) but whose data stops halfway."""
    data = io.BytesIO()
    Image.effect_noise(size, 60).convert("RGB").save(data, "JPEG")
    path.write_bytes(data.getvalue()[: len(data.getvalue()) // 2])


def test_web_files_follow_the_good_sources(workflow):
    """A source that fails holds the web files back in the run where it first
    fails, and says so; from the next run on they list every other source."""
    make_image(workflow.inputs / "alpha.jpg", (64, 48))
    truncated_jpeg(workflow.inputs / "broken.jpg")
    first = workflow.run(check=False)
    assert first.returncode != 0
    assert "Web files not updated: they wait on input_images/broken.jpg;" in first.stderr
    assert not (workflow.results / "manifest.json").exists()

    make_image(workflow.inputs / "gamma.png", (30, 20))
    second = workflow.run(check=False)
    assert second.returncode != 0  # broken.jpg is tried again, and fails again
    assert "Web files leave out 1 failed source(s): input_images/broken.jpg" in second.stderr.splitlines()
    manifest = json.loads((workflow.results / "manifest.json").read_text())
    jsonschema.validate(manifest, json.loads(MANIFEST_SCHEMA.read_text()))
    assert list(manifest["sources"]) == ["alpha", "gamma"]
    assert {p.name for p in (workflow.results / "html").iterdir()} == {"alpha.html", "gamma.html"}
    assert "gamma_30x20.png" in (workflow.results / "index.html").read_text()
    reported = {row["source"] for row in csv.DictReader((workflow.build / "report.csv").open())}
    assert reported - {""} == {"alpha.jpg", "gamma.png"}

    make_image(workflow.inputs / "broken.jpg", (40, 40))  # fixed: it is listed in this very run
    fixed = workflow.run()
    assert "Web files" not in fixed.stderr
    assert list(json.loads((workflow.results / "manifest.json").read_text())["sources"]) == ["alpha", "broken", "gamma"]


def test_versioned_urls_change_exactly_when_a_variants_bytes_do(built):
    def urls():
        manifest = json.loads((built.results / "manifest.json").read_text())
        return {v["path"]: v["url"] for s in manifest["sources"].values() for v in s["variants"]}

    plain = urls()
    assert all("?v=" not in url for url in plain.values())
    before = built.outputs()
    built.set_config(web={**built.config["web"], "versioned_urls": True})
    built.run()
    assert changed(before, built.outputs()) == set()  # no variant is rewritten for it
    first = urls()
    for path, url in first.items():
        digest = hashlib.sha256((built.results / path).read_bytes()).hexdigest()
        assert url == f"{path}?v={digest[:10]}"
    assert f'srcset="{first["beta_10x20.webp"]}' in (built.results / "html" / "beta.html").read_text()
    assert first["beta_10x20.webp"] in (built.results / "index.html").read_text()

    make_image(built.inputs / "alpha.jpg", (64, 48), color=(10, 200, 10))  # new bytes for alpha only
    built.run()
    second = urls()
    moved = {path for path in first if first[path] != second[path]}
    assert moved == {path for path in first if path.startswith("alpha_")}
    built.run()
    assert urls() == second  # a no-op keeps them


def test_opaque_sources_get_a_placeholder_behind_their_image_and_transparent_ones_do_not(built):
    sources = json.loads((built.results / "manifest.json").read_text())["sources"]
    alpha, beta = sources["alpha"], sources["beta"]
    red = tuple(int(alpha["color"][i : i + 2], 16) for i in (1, 3, 5))
    assert all(abs(a - b) <= 6 for a, b in zip(red, (200, 30, 30))), red  # make_image's, a gradient row aside
    assert alpha["opaque"] is True and beta["opaque"] is False
    for source in (alpha, beta):
        assert source["placeholder"].startswith("data:image/webp;base64,") and len(source["placeholder"]) <= 2000
    snippet = (built.results / "html" / "alpha.html").read_text()
    assert f'style="background: {alpha["color"]} url({alpha["placeholder"]}) center / cover no-repeat"' in snippet
    assert "style=" not in (built.results / "html" / "beta.html").read_text()

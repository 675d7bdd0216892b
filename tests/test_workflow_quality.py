"""End-to-end: `quality: auto` (scripts/auto_quality.py) in real runs."""

import csv
import json
import shutil
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from conftest import Workflow, changed
from scripts.imageops import calculate_new_height
from scripts.ssimulacra2 import Reference, mirror_tiled


def photo_like(path, size=(160, 120)):
    im = Image.blend(Image.linear_gradient("L").resize(size).convert("RGB"), Image.effect_noise(size, 50).convert("RGB"), 0.35)
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path)


def set_auto(workflow, fmt="webp", **auto_quality):
    config = workflow.config
    config["encoders"][fmt]["quality"] = "auto"
    config["auto_quality"] = {**config.get("auto_quality", {}), **auto_quality}
    workflow.set_config(encoders=config["encoders"], auto_quality=config["auto_quality"])


@pytest.fixture
def auto_built(workflow):
    photo_like(workflow.inputs / "photo.png")
    set_auto(workflow, target=70)
    workflow.run()
    return workflow


def choices(workflow):
    folder = workflow.build / "cache" / "photo" / "quality"
    return {path.name: path.stat().st_mtime_ns for path in folder.iterdir()}


def manifest_variants(workflow):
    manifest = json.loads((workflow.results / "manifest.json").read_text())
    return {v["path"]: v for v in manifest["sources"]["photo"]["variants"]}


def full_score(workflow, name):
    reference = Image.open(workflow.results / Path(name).with_suffix(".png")).convert("RGB")
    distorted = Image.open(workflow.results / name).convert("RGB")
    return Reference(mirror_tiled(reference)).score(mirror_tiled(distorted))


def test_auto_variants_reach_the_target_and_say_so(auto_built):
    variants = manifest_variants(auto_built)
    webp = {name: v for name, v in variants.items() if v["format"] == "webp"}
    assert set(webp) == {"photo_40x30.webp", "photo_20x15.webp", "photo_10x8.webp"}
    for name, v in webp.items():
        assert 1 <= v["quality"] <= 100
        assert v["ssimulacra2"] >= 70
        # The file served is the encoding that was scored.
        assert full_score(auto_built, name) == pytest.approx(v["ssimulacra2"], abs=0.01)
    assert all("quality" not in v for v in variants.values() if v["format"] == "png")
    with open(auto_built.build / "report.csv", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["scope"] == "variant"]
    assert {(r["width"], r["quality"]) for r in rows} == {(str(v["width"]), str(v["quality"])) for v in webp.values()}


def test_a_rerun_is_a_no_op(auto_built):
    before, chosen = auto_built.outputs(), choices(auto_built)
    done = auto_built.run()
    assert changed(before, auto_built.outputs()) == set()
    assert choices(auto_built) == chosen
    assert "Nothing to build" in done.stdout + done.stderr


def test_changing_the_target_reruns_only_the_auto_format(auto_built):
    before, chosen = auto_built.outputs(), choices(auto_built)
    qualities = {n: v["quality"] for n, v in manifest_variants(auto_built).items() if v["format"] == "webp"}
    set_auto(auto_built, target=85)
    auto_built.run()
    rewritten = changed(before, auto_built.outputs())
    assert rewritten and all(name.endswith(".webp") for name in rewritten)
    assert set(chosen) == set(choices(auto_built)) and all(chosen[n] != t for n, t in choices(auto_built).items())
    after = manifest_variants(auto_built)
    assert all(after[n]["quality"] >= q and after[n]["ssimulacra2"] >= 85 for n, q in qualities.items())
    assert any(after[n]["quality"] > q for n, q in qualities.items())


def test_past_max_width_variants_start_from_the_quality_chosen_there_and_reach_the_target(workflow):
    photo_like(workflow.inputs / "photo.png")
    set_auto(workflow, target=70, max_width=20)
    workflow.set_config(widths=[120, 40, 20])
    workflow.run()
    variants = manifest_variants(workflow)
    at_max = variants["photo_20x15.webp"]["quality"]
    for name in ("photo_120x90.webp", "photo_40x30.webp"):
        assert variants[name]["quality"] >= at_max
        assert full_score(workflow, name) == pytest.approx(variants[name]["ssimulacra2"], abs=0.01)
        assert variants[name]["ssimulacra2"] >= 70
    log = (workflow.build / "logs" / "choose_quality" / "photo_120x90.webp.log").read_text()
    assert f"scores: q{at_max} " in log  # its first score is at the quality chosen at 20 px


def test_wide_variants_start_from_a_fixed_ladder_and_a_new_width_searches_only_itself(workflow):
    photo_like(workflow.inputs / "photo.png", size=(2100, 24))
    set_auto(workflow, target=70)
    workflow.set_config(widths=[2000, 1928, 992, 480])
    workflow.run()
    name = {width: f"photo_{width}x{calculate_new_height(2100, 24, width)}.webp" for width in (2000, 1928, 1500, 992, 480)}
    variants = manifest_variants(workflow)
    # Each search starts at the quality chosen at the ladder's width below it (480, 992, 1928 px).
    for wide, rung in ((2000, 1928), (1928, 992), (992, 480)):
        log = (workflow.build / "logs" / "choose_quality" / f"{name[wide]}.log").read_text()
        assert f"scores: q{variants[name[rung]]['quality']} " in log
    before = choices(workflow)
    workflow.set_config(widths=[2000, 1928, 1500, 992, 480])
    workflow.run()
    after = choices(workflow)
    assert set(after) - set(before) == {f"{name[1500]}.json"}
    assert {n: after[n] for n in before} == before
    log = (workflow.build / "logs" / "choose_quality" / f"{name[1500]}.log").read_text()
    assert f"scores: q{variants[name[992]]['quality']} " in log


def test_fixed_quality_runs_no_search(workflow):
    photo_like(workflow.inputs / "photo.png")
    workflow.run()
    assert not (workflow.build / "cache" / "photo" / "quality").exists()
    assert all("quality" not in v for v in manifest_variants(workflow).values())


@pytest.mark.parametrize(
    "webp, message",
    [
        ({"quality": "auto", "lossless": True}, "'encoders.webp.quality': auto needs lossy WebP"),
        ({"quality": "high"}, "'encoders.webp.quality': 'high' does not match '^auto$'"),
        ({"quality": -1}, "'encoders.webp.quality': -1 is less than the minimum of 0"),
        ({"quality": 101}, "'encoders.webp.quality': 101 is greater than the maximum of 100"),
    ],
)
def test_a_quality_that_cannot_be_is_refused_before_any_job(workflow, webp, message):
    photo_like(workflow.inputs / "photo.png")
    config = workflow.config
    config["encoders"]["webp"].update(webp)
    workflow.set_config(encoders=config["encoders"])
    done = workflow.run(check=False)
    assert done.returncode != 0
    assert f"config.yaml: invalid value for {message}" in done.stdout + done.stderr
    assert not workflow.results.exists()


def test_a_partitioned_auto_build_matches_one_dag(workflow, tmp_path):
    photo_like(workflow.inputs / "photo.png")
    photo_like(workflow.inputs / "other.png", size=(90, 120))
    set_auto(workflow, target=70)
    workflow.run("--config", "partitions=2")
    single = Workflow(tmp_path / "single")
    shutil.copytree(workflow.inputs, single.inputs)
    set_auto(single, target=70)
    single.run()
    assert (workflow.results / "manifest.json").read_text() == (single.results / "manifest.json").read_text()
    assert (workflow.build / "report.csv").read_text() == (single.build / "report.csv").read_text()
    assert "quality" in manifest_variants(workflow)["photo_40x30.webp"]


def test_a_jpeg_out_of_reach_of_its_chroma_is_encoded_in_full_chroma(workflow):
    im = Image.new("RGB", (160, 90), "#fde68a")
    draw = ImageDraw.Draw(im)
    for i, colour in enumerate(("#ef4444", "#3b82f6", "#10b981", "#8b5cf6")):
        draw.rectangle((8 + i * 38, 10 + i * 12, 34 + i * 38, 70 + i * 4), fill=colour)
    workflow.inputs.mkdir(parents=True, exist_ok=True)
    im.save(workflow.inputs / "shapes.png")
    workflow.set_config(formats=["png", "jpeg"])
    set_auto(workflow, fmt="jpeg", target=85)
    workflow.run()
    manifest = json.loads((workflow.results / "manifest.json").read_text())
    for v in manifest["sources"]["shapes"]["variants"]:
        if v["format"] == "jpeg":
            assert v["ssimulacra2"] >= 85
            assert full_score(workflow, v["path"]) == pytest.approx(v["ssimulacra2"], abs=0.01)
            with Image.open(workflow.results / v["path"]) as served:
                assert served.layer[0][1:3] == served.layer[1][1:3]  # luma and chroma sampled alike: 4:4:4

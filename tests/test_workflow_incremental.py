"""End-to-end: Make semantics with content checksums, one test per case.

Each test runs the real Snakemake on a private copy of the workflow and checks
which variants were written or rewritten (a rewrite changes inode and mtime).
"""

import os
import random
import shutil

import pytest
from PIL import Image

from conftest import changed, make_image


@pytest.fixture
def built(workflow):
    """A workflow with two sources, fully built once."""
    make_image(workflow.inputs / "alpha.jpg", (64, 48))
    make_image(workflow.inputs / "beta.png", (30, 60), mode="RGBA", color=(0, 90, 200, 128))
    workflow.run()
    return workflow


def names(stem, widths_heights, formats=("png", "webp")):
    return {f"{stem}_{w}x{h}.{fmt}" for w, h in widths_heights for fmt in formats}


def touch_later(path):
    """Move a file's mtime 10 s later without changing its content."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**10))


def edit_script(workflow, name):
    """Change a script's content (a comment is enough to change its digest)."""
    script = workflow.root / "scripts" / name
    script.write_text(script.read_text() + "\n# edited\n")


ALPHA = names("alpha", [(40, 30), (20, 15), (10, 8)])
# beta is 30 wide: width 40 is replaced by the source's own width.
BETA = names("beta", [(30, 60), (20, 40), (10, 20)])


def test_first_run_builds_every_target(built):
    assert set(built.outputs()) == ALPHA | BETA


def test_second_run_rebuilds_nothing(built):
    before = built.outputs()
    done = built.run()
    assert changed(before, built.outputs()) == set()
    assert "Nothing to build: every target is up to date." in done.stdout + done.stderr


def test_deleting_a_variant_rebuilds_only_it(built):
    before = built.outputs()
    (built.results / "alpha_20x15.webp").unlink()
    built.run()
    after = built.outputs()
    assert set(after) == ALPHA | BETA
    assert changed(before, after) == {"alpha_20x15.webp"}


def test_deleting_a_variant_and_its_record_rebuilds_both(built):
    before = built.outputs()
    record = built.build / "cache" / "alpha" / "record.json"
    record.unlink()
    (built.results / "alpha_20x15.webp").unlink()
    built.run()
    assert record.is_file()
    assert changed(before, built.outputs()) == {"alpha_20x15.webp"}


def test_touching_every_source_rebuilds_nothing(built):
    before = built.outputs()
    for source in built.inputs.iterdir():
        touch_later(source)
    built.run()
    assert changed(before, built.outputs()) == set()


def make_noise(path, size):
    """A PNG of seeded random pixels: it does not compress, so it is as big as a photo."""
    pixels = random.Random(path.name).randbytes(size[0] * size[1] * 3)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.frombytes("RGB", size, pixels).save(path, compress_level=1)
    return path


def test_touching_a_source_bigger_than_snakemakes_default_checksum_limit_rebuilds_nothing(workflow):
    """Snakemake only compares the checksums of files up to 1 MB unless the
    profile raises max-checksum-file-size; real photos are bigger."""
    source = make_noise(workflow.inputs / "photo.png", (800, 600))
    assert source.stat().st_size > 1_000_000
    workflow.run()
    before = workflow.outputs()
    assert len(before) == 6
    touch_later(source)
    workflow.run()
    assert changed(before, workflow.outputs()) == set()


def test_reencoding_one_source_rebuilds_exactly_its_targets(built):
    before = built.outputs()
    make_image(built.inputs / "alpha.jpg", (64, 48), color=(10, 200, 10))
    built.run()
    assert changed(before, built.outputs()) == ALPHA


def test_adding_a_width_builds_only_the_new_targets(built):
    before = built.outputs()
    built.set_config(widths=[40, 20, 10, 16])
    built.run()
    assert changed(before, built.outputs()) == names("alpha", [(16, 12)]) | names("beta", [(16, 32)])


def test_min_width_step_drops_a_near_duplicate_width_and_keeping_it_builds_only_it(workflow):
    # gamma is 42 wide: width 50 is replaced by 42, and 40 is within 1.1x of it.
    make_image(workflow.inputs / "gamma.jpg", (42, 30))
    workflow.set_config(widths=[50, 40, 20])
    workflow.run()
    assert set(workflow.outputs()) == names("gamma", [(42, 30), (20, 15)])
    before = workflow.outputs()
    workflow.set_config(min_width_step=1)
    workflow.run()
    assert changed(before, workflow.outputs()) == names("gamma", [(40, 29)])
    manifest = (workflow.results / "manifest.json").read_text()
    assert "gamma_40x29.webp" in manifest
    before = workflow.outputs()
    workflow.set_config(min_width_step=1.1)
    done = workflow.run()
    assert changed(before, workflow.outputs()) == set()
    assert "gamma_40x29.webp" not in (workflow.results / "manifest.json").read_text()
    assert "2 orphaned output(s)" in done.stderr


def test_adding_a_format_builds_only_that_format(built):
    before = built.outputs()
    built.set_config(formats=["png", "webp", "jpeg"])
    built.run()
    new = changed(before, built.outputs())
    assert new and all(name.endswith(".jpeg") for name in new)
    assert len(new) == 6


def test_changing_one_encoder_setting_rebuilds_only_that_format(built):
    before = built.outputs()
    config = built.config
    config["encoders"]["webp"]["quality"] = 50
    built.set_config(encoders=config["encoders"])
    built.run()
    assert changed(before, built.outputs()) == {n for n in ALPHA | BETA if n.endswith(".webp")}


def test_adding_a_source_builds_only_its_targets(built):
    before = built.outputs()
    make_image(built.inputs / "gamma.jpeg", (20, 20))
    built.run()
    assert changed(before, built.outputs()) == names("gamma", [(20, 20), (10, 10)])


def test_removing_a_source_rebuilds_nothing_and_lists_its_orphans(built):
    (built.inputs / "beta.png").unlink()
    before = built.outputs()
    done = built.run()
    assert changed(before, built.outputs()) == set()
    assert set(built.outputs()) == ALPHA | BETA  # nothing is deleted implicitly
    assert "6 orphaned output(s)" in done.stderr
    assert "remove_orphans" in done.stderr

    beta_state = [path for path in built.build.rglob("*") if path.is_file() and path.name.startswith("beta")]
    assert {path.parent.name for path in beta_state} >= {"decode_source", "describe_source", "resize_image"}
    assert (built.build / "cache" / "beta" / "L0.raster").exists()
    removal = built.run("remove_orphans").stderr.splitlines()
    assert set(built.outputs()) == ALPHA
    removed = {line for line in removal if line.startswith("removed ")}
    assert removed >= {f"removed results/{n}" for n in BETA}
    assert removed >= {f"removed {path.relative_to(built.root)}" for path in beta_state}  # logs, benchmarks
    assert not any(path.exists() for path in beta_state)
    assert "No target to build; 1 other job(s) ran." in removal
    assert not (built.build / "cache" / "beta").exists()
    assert (built.build / "cache" / "alpha" / "L0.raster").exists()
    assert (built.build / "logs" / "decode_source" / "alpha.log").exists()


def test_a_single_target_builds_alone(workflow):
    make_image(workflow.inputs / "alpha.jpg", (64, 48))
    make_image(workflow.inputs / "beta.png", (30, 60))
    workflow.run("results/alpha_20x15.webp")
    assert set(workflow.outputs()) == {"alpha_20x15.webp"}


def test_an_unknown_target_names_the_missing_source(workflow):
    make_image(workflow.inputs / "alpha.jpg", (64, 48))
    done = workflow.run("results/nosuch_20x15.webp", check=False)
    assert done.returncode != 0
    assert "no source named 'nosuch'" in done.stdout + done.stderr


def test_changing_the_jpeg_background_rebuilds_nothing_else(built):
    built.set_config(formats=["png", "jpeg"])
    built.run()
    before = built.outputs()
    built.set_config(background="#000000")
    built.run()
    assert changed(before, built.outputs()) == {n for n in before if n.endswith(".jpeg")}


def test_max_pixels_crossing_a_source_rebuilds_only_that_source(workflow):
    make_image(workflow.inputs / "big.png", (120, 100))  # 12,000 pixels
    make_image(workflow.inputs / "small.png", (60, 50))  # 3,000 pixels
    workflow.set_config(max_pixels=10_000)
    assert workflow.run(check=False).returncode != 0
    before = workflow.outputs()
    assert set(before) == names("small", [(40, 34), (20, 17), (10, 9)])
    workflow.set_config(max_pixels=20_000)
    workflow.run()
    assert changed(before, workflow.outputs()) == names("big", [(40, 34), (20, 17), (10, 9)])
    before = workflow.outputs()
    workflow.set_config(max_pixels=5_000)
    done = workflow.run(check=False)
    assert "ERROR input_images/big.png: 120x100 is 12,000 pixels, above the limit of 5,000" in done.stderr
    assert changed(before, workflow.outputs()) == set()


def test_deleting_the_cache_rewrites_no_variant_until_a_new_target_needs_the_raster(built):
    """The variants do not need their rasters once made (Snakemake runs no job
    whose outputs only jobs with nothing to do would read). A new width of a
    source decodes it again, and Snakemake then reruns every job that reads the
    rewritten raster: all of that source's variants, and only that source's."""
    before = built.outputs()
    shutil.rmtree(built.build / "cache")
    built.run()
    assert (built.build / "cache" / "alpha" / "record.json").is_file()
    assert not (built.build / "cache" / "alpha" / "levels.sha256").exists()
    assert changed(before, built.outputs()) == set()
    built.set_config(widths=[*built.config["widths"], 30])
    built.run()
    assert (built.build / "cache" / "alpha" / "levels.sha256").is_file()
    assert changed(before, built.outputs()) == ALPHA | names("alpha", [(30, 23)])


def test_raising_max_pixels_rebuilds_nothing(built):
    before = built.outputs()
    built.set_config(max_pixels=10**9)
    built.run()
    assert changed(before, built.outputs()) == set()


def test_editing_the_resize_script_rebuilds_every_variant(built):
    before = built.outputs()
    edit_script(built, "resize_image.py")
    built.run()
    assert changed(before, built.outputs()) == ALPHA | BETA


def test_touching_the_scripts_rebuilds_nothing(built):
    before = built.outputs()
    for script in (built.root / "scripts").glob("*.py"):
        touch_later(script)
    built.run()
    assert changed(before, built.outputs()) == set()


def test_editing_the_web_script_rewrites_no_variant(built):
    before = built.outputs()
    manifest = built.stamp("manifest.json")
    edit_script(built, "web.py")
    built.run()
    assert changed(before, built.outputs()) == set()
    assert built.stamp("manifest.json") != manifest

from pathlib import Path

import pytest
from PIL import Image

from conftest import make_image
from scripts.plan import (
    partition_of,
    Target, find_sources, logged_an_error, missing_outputs, orphaned_outputs, plan_targets, planned_widths, probe_size,
)

DEFAULT_WIDTHS = [4000, 2500, 1928, 992, 768, 576, 480, 260, 150, 100, 50]


@pytest.mark.parametrize(
    ("source_width", "allow_upscale", "expected"),
    [
        (5184, False, DEFAULT_WIDTHS),
        (1920, False, [1920, 992, 768, 576, 480, 260, 150, 100, 50]),
        (992, False, [992, 768, 576, 480, 260, 150, 100, 50]),
        (30, False, [30]),
        (1920, True, DEFAULT_WIDTHS),
    ],
)
def test_planned_widths_no_upscaling_by_default(source_width, allow_upscale, expected):
    assert planned_widths(source_width, DEFAULT_WIDTHS, allow_upscale) == expected


@pytest.mark.parametrize(
    ("source_width", "step", "expected"),
    [
        (2000, 1.0, [2000, 1928, 992]),
        (2000, 1.1, [2000, 992]),  # 1928 is within 1.1x of 2000
        (2120, 1.1, [2120, 992]),  # 2120 < 1928 x 1.1 = 2120.8
        (2121, 1.1, [2121, 1928, 992]),
        (2400, 1.25, [2400, 992]),
        (2410, 1.25, [2410, 1928, 992]),  # exactly 1.25x is kept
        (1928, 1.1, [1928, 992]),  # the configured width itself, made once
        (1000, 1.1, [1000]),  # 992 is a near duplicate of 1000
    ],
)
def test_planned_widths_drop_a_near_duplicate_of_the_sources_own_width(source_width, step, expected):
    assert planned_widths(source_width, [4000, 1928, 992], False, step) == expected


@pytest.mark.parametrize("allow_upscale", [False, True])
def test_planned_widths_drop_nothing_when_no_width_is_replaced(allow_upscale):
    """The source's own width is only made in place of wider widths; without it
    there is nothing to be a near duplicate of."""
    assert planned_widths(2000, [1928, 992], allow_upscale, 1.5) == [1928, 992]
    assert planned_widths(2000, [4000, 1928], True, 1.5) == [4000, 1928]


def test_planned_widths_are_unique_and_sorted_largest_first():
    assert planned_widths(100, [10, 50, 10, 200]) == [100, 50, 10]


def test_plan_targets_reproduces_the_original_examples():
    targets = plan_targets({"PIA04921": (5184, 3456)}, [4000, 2500, 1928], ["png", "webp"])
    assert [t.name for t in targets] == [
        "PIA04921_4000x2667.png",
        "PIA04921_4000x2667.webp",
        "PIA04921_2500x1667.png",
        "PIA04921_2500x1667.webp",
        "PIA04921_1928x1286.png",
        "PIA04921_1928x1286.webp",
    ]


def test_plan_targets_counts_every_width_and_format():
    sizes = {"a": (5184, 3456), "b": (1920, 1280)}
    targets = plan_targets(sizes, DEFAULT_WIDTHS, ["png", "webp", "avif"])
    assert len(targets) == (11 + 9) * 3
    assert len(set(targets)) == len(targets)
    assert Target("b", 1920, 1280, "avif") in targets


def test_find_sources_filters_extensions_case_insensitively(tmp_path: Path):
    for name in ["a.JPG", "b.jpeg", "c.png", "d.WebP", "e.tif", "f.TIFF", "g.Gif", "notes.txt", "h.bmp", ".hidden.jpg"]:
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "sub.jpg").mkdir()
    assert sorted(find_sources(tmp_path)) == ["a", "b", "c", "d", "e", "f", "g"]


def test_find_sources_refuses_two_sources_with_the_same_stem(tmp_path: Path):
    (tmp_path / "photo.jpg").write_bytes(b"")
    (tmp_path / "photo.png").write_bytes(b"")
    with pytest.raises(ValueError, match="same stem 'photo'"):
        find_sources(tmp_path)


def test_find_sources_of_a_missing_folder_is_empty(tmp_path: Path):
    assert find_sources(tmp_path / "missing") == {}


def test_probe_size_applies_exif_orientation(tmp_path: Path):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees: the stored 64x48 is shown 48x64
    path = make_image(tmp_path / "rotated.jpg", (64, 48), exif=exif)
    assert probe_size(path) == (48, 64)


def test_probe_size_of_an_unreadable_file_is_none(tmp_path: Path):
    path = tmp_path / "text.jpg"
    path.write_text("not an image")
    assert probe_size(path) is None


def test_orphaned_outputs_lists_only_variants_nobody_makes(tmp_path: Path):
    for name in ["a_10x5.png", "a_20x10.png", "gone_10x5.webp", "manifest.json"]:
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "logs").mkdir()
    expected = [tmp_path / "a_10x5.png", tmp_path / "a_20x10.png"]
    assert orphaned_outputs(tmp_path, expected) == [tmp_path / "gone_10x5.webp"]


def test_missing_outputs_keeps_the_order_of_the_absent_ones(tmp_path: Path):
    (tmp_path / "a_20x10.png").write_bytes(b"")
    (tmp_path / "logs").mkdir()
    expected = [tmp_path / "b_10x5.png", tmp_path / "a_20x10.png", tmp_path / "a_10x5.png"]
    assert missing_outputs(tmp_path, expected) == [tmp_path / "b_10x5.png", tmp_path / "a_10x5.png"]


def test_missing_outputs_of_an_absent_folder_is_everything(tmp_path: Path):
    expected = [tmp_path / "out" / "a_10x5.png"]
    assert missing_outputs(tmp_path / "out", expected) == expected


@pytest.mark.parametrize(
    ("lines", "age", "expected"),
    [
        (["2026-12-02 10:00:00 ERROR in/a.jpg: image file is truncated"], 0, True),
        (["2026-12-02 10:00:00 INFO decoded in/a.jpg", "2026-12-02 10:00:01 INFO usage s=0.1"], 0, False),
        (["2026-12-02 10:00:00 INFO wrote in/ERROR a.jpg"], 0, False),  # a name is not a level
        (["2026-12-02 10:00:00 ERROR in/a.jpg: image file is truncated"], -10, False),  # older than `since`
    ],
    ids=["error", "info", "error-in-a-name", "older"],
)
def test_logged_an_error_reads_the_level_of_logs_written_since(tmp_path: Path, lines, age, expected):
    log = tmp_path / "job.log"
    log.write_text("".join(f"{line}\n" for line in lines))
    since = log.stat().st_mtime - age
    assert logged_an_error([tmp_path / "missing.log", log], since) is expected


@pytest.mark.parametrize(("stem", "partition"), [("alpha", 0), ("gamma", 0), ("beta", 1), ("delta", 1)])
def test_partition_of_the_stems_the_partitioned_tests_use(stem, partition):
    assert partition_of(stem, 2) == partition


def test_partitions_are_stable_when_sources_come_and_go():
    stems = [f"photo{index:04d}" for index in range(2000)]
    before = {stem: partition_of(stem, 16) for stem in stems}
    after_adding = {stem: partition_of(stem, 16) for stem in [*stems, *(f"new{i}" for i in range(500))]}
    after_removing = {stem: partition_of(stem, 16) for stem in stems[::3]}
    assert all(after_adding[stem] == before[stem] for stem in stems)
    assert all(after_removing[stem] == before[stem] for stem in stems[::3])


def test_partitions_are_balanced():
    counts = [0] * 16
    for index in range(16000):
        counts[partition_of(f"photo{index:05d}", 16)] += 1
    assert max(counts) < 1.1 * 1000 and min(counts) > 0.9 * 1000


@pytest.mark.parametrize("partitions", [0, -1])
def test_partition_of_needs_at_least_one_partition(partitions):
    with pytest.raises(ValueError, match="partitions must be at least 1"):
        partition_of("alpha", partitions)

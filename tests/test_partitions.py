"""Unit tests of scripts/partitions.py: the partition file and the merge."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest

from scripts import partitions, web
from scripts.web import SourceRecord, Variant


def variant(stem: str, width: int, fmt: str = "webp") -> Variant:
    name = f"{stem}_{width}x{width // 2}.{fmt}"
    return Variant(path=name, url=web.variant_url(name), format=fmt, width=width, height=width // 2, bytes=width * 3)


def record(stem: str, widths=(40, 20), dropped=()) -> SourceRecord:
    return SourceRecord(
        f"{stem}.jpg", stem, f"input_images/{stem}.jpg", "0" * 64, 1000, 80, 40, stem,
        [variant(stem, w) for w in widths], [variant(stem, w) for w in dropped],
    )


def test_a_partition_file_reads_back_what_was_written(tmp_path):
    path = tmp_path / "0.json"
    path.write_text(partitions.partition_file_text([record("b"), record("a")], ["z_10x5.png"]))
    records, orphans = partitions.read_partition_file(path)
    assert [r.stem for r in records] == ["a", "b"]
    assert records[1] == record("b")
    assert orphans == ["z_10x5.png"]


def test_a_partition_file_of_another_version_is_refused(tmp_path):
    path = tmp_path / "0.json"
    path.write_text(json.dumps({"version": 99, "records": [], "orphans": []}))
    with pytest.raises(ValueError, match="0.json: partition file version 99, expected 1"):
        partitions.read_partition_file(path)


def test_expected_files_are_the_variants_dropped_ones_and_the_snippet():
    assert partitions.expected_files([record("a", widths=(40,), dropped=(20,))]) == [
        "a_40x20.webp", "a_20x10.webp", "html/a.html",
    ]


@pytest.mark.parametrize(
    ("present", "missing"),
    [
        ({"a_40x20.webp", "a_20x10.webp", "html/a.html"}, []),
        ({"a_40x20.webp", "html/a.html"}, ["a_20x10.webp"]),
        ({"a_40x20.webp", "a_20x10.webp"}, ["html/a.html"]),
        (set(), ["a_20x10.webp", "a_40x20.webp", "html/a.html"]),
    ],
)
def test_missing_files(present, missing):
    assert partitions.missing_files(partitions.expected_files([record("a")]), present) == missing


def test_an_index_names_the_files_and_the_orphans(tmp_path):
    path = tmp_path / "0.files"
    path.write_text(partitions.partition_index_text([record("a", widths=(40,))], ["z_1x1.png", "y_1x1.png"]))
    assert path.read_text() == "file a_40x20.webp\nfile html/a.html\norphan y_1x1.png\norphan z_1x1.png\n"
    assert partitions.read_partition_index(path) == (["a_40x20.webp", "html/a.html"], ["y_1x1.png", "z_1x1.png"])


def test_an_index_with_a_foreign_line_is_refused(tmp_path):
    path = tmp_path / "0.files"
    path.write_text("file a.png\nsomething else\n")
    with pytest.raises(ValueError, match="0.files: not a partition index line: 'something else'"):
        partitions.read_partition_index(path)


def test_the_merge_equals_the_web_files_of_the_same_records(tmp_path):
    first, second = tmp_path / "0.json", tmp_path / "1.json"
    first.write_text(partitions.partition_file_text([record("c"), record("a")], []))
    second.write_text(partitions.partition_file_text([record("b")], []))
    line = partitions.merge_partitions([first, second], tmp_path / "m.json", tmp_path / "r.csv", tmp_path / "i.html")
    assert line == "merged 2 partitions: 3 sources"
    expected = [record("a"), record("b"), record("c")]
    assert json.loads((tmp_path / "m.json").read_text()) == web.manifest(expected)
    assert (tmp_path / "r.csv").read_text() == web.report_csv(web.size_report(expected))
    assert list(json.loads((tmp_path / "m.json").read_text())["sources"]) == ["a", "b", "c"]
    assert (tmp_path / "i.html").exists()


def test_the_merge_writes_no_gallery_when_none_is_asked_for(tmp_path):
    first = tmp_path / "0.json"
    first.write_text(partitions.partition_file_text([record("a")], []))
    partitions.merge_partitions([first], tmp_path / "m.json", tmp_path / "r.csv", None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0.json", "m.json", "r.csv"]


def test_write_partition_file_reads_the_records_it_is_given(tmp_path):
    paths = []
    for stem in ("b", "a"):
        path = tmp_path / f"{stem}.record.json"
        path.write_text(json.dumps(asdict(record(stem))))
        paths.append(path)
    line = partitions.write_partition_file(paths, ["x_1x1.png"], tmp_path / "out.json", tmp_path / "out.files")
    assert line.endswith("2 sources, 1 orphans")
    records, orphans = partitions.read_partition_file(tmp_path / "out.json")
    assert [r.stem for r in records] == ["a", "b"] and orphans == ["x_1x1.png"]
    files, orphans = partitions.read_partition_index(tmp_path / "out.files")
    assert files == partitions.expected_files(records) and orphans == ["x_1x1.png"]

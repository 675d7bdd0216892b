"""Partitioned runs: what a partition's run hands over, and the merge.

With ``partitions`` N > 0 (rules/partitions.smk), each partition's run writes
two files (``write_partition_file``): its *partition file*, JSON, with the
records of its published sources and the orphaned variants among its stems,
and its *index*, a few bytes a file: the names of the files those records
list, and of the orphans. On every run, the partitioned run reads the indexes
only, to find deleted files (``missing_files``) and orphans; when a
partition changed, it merges every partition file into the manifest, the
size report and the gallery (``merge_partitions``), the same files a run of
one DAG writes from the same records.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from scripts.gallery import gallery_html
from scripts.web import SourceRecord, manifest, read_records, record_json, report_csv, size_report, write_text

#: The version of the partition file's layout, raised on any change.
PARTITION_FILE_VERSION = 1


def partition_file_text(records: Iterable[SourceRecord], orphans: Iterable[str]) -> str:
    """A partition file: its sources' records, by stem, and its orphans' names."""
    data = {
        "version": PARTITION_FILE_VERSION,
        "records": [record_json(r) for r in sorted(records, key=lambda r: r.stem)],
        "orphans": sorted(orphans),
    }
    return json.dumps(data, indent=1) + "\n"


def read_partition_file(path: Path) -> tuple[list[SourceRecord], list[str]]:
    """The records and the orphans' names in a partition file."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if data.get("version") != PARTITION_FILE_VERSION:
        msg = f"{path}: partition file version {data.get('version')!r}, expected {PARTITION_FILE_VERSION}"
        raise ValueError(msg)
    return [SourceRecord.from_json(r) for r in data["records"]], list(data["orphans"])


def expected_files(records: Iterable[SourceRecord]) -> list[str]:
    """The files the records say a partition's run made, relative to the
    output folder: every variant (dropped ones too) and each snippet."""
    names = []
    for record in records:
        names += [v.path for v in [*record.variants, *record.dropped]]
        names.append(f"html/{record.stem}.html")
    return names


def partition_index_text(records: Iterable[SourceRecord], orphans: Iterable[str]) -> str:
    """A partition's index: a line ``file NAME`` for each of ``expected_files``
    and ``orphan NAME`` for each orphan."""
    lines = [f"file {name}" for name in expected_files(sorted(records, key=lambda r: r.stem))]
    lines += [f"orphan {name}" for name in sorted(orphans)]
    return "".join(f"{line}\n" for line in lines)


def read_partition_index(path: Path) -> tuple[list[str], list[str]]:
    """The files and the orphans a partition's index names."""
    files, orphans = [], []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        kind, _, name = line.partition(" ")
        if kind == "file":
            files.append(name)
        elif kind == "orphan":
            orphans.append(name)
        else:
            msg = f"{path}: not a partition index line: {line!r}"
            raise ValueError(msg)
    return files, orphans


def missing_files(names: Iterable[str], present: set[str]) -> list[str]:
    """The ``names`` (relative to the output folder) not in ``present``, sorted."""
    return sorted(name for name in names if name not in present)


# The writers: plain paths in, files out, and the line the job logs.


def write_partition_file(record_paths: Sequence[Path], orphans: Sequence[str], output: Path, index: Path) -> str:
    records = read_records(record_paths)
    write_text(output, partition_file_text(records, orphans))
    write_text(index, partition_index_text(records, orphans))
    return f"wrote {output} and {index.name}: {len(records)} sources, {len(orphans)} orphans"


def merge_partitions(
    partition_files: Sequence[Path],
    manifest_path: Path,
    report_path: Path,
    gallery_path: Path | None = None,
) -> str:
    """The manifest, the size report and (unless ``gallery_path`` is None) the
    gallery of every source of the partitions, in stem order."""
    records = [r for path in partition_files for r in read_partition_file(path)[0]]
    records.sort(key=lambda r: r.stem)
    write_text(manifest_path, json.dumps(manifest(records), indent=1) + "\n")
    write_text(report_path, report_csv(size_report(records)))
    if gallery_path is not None:
        write_text(gallery_path, gallery_html(records))
    return f"merged {len(partition_files)} partitions: {len(records)} sources"

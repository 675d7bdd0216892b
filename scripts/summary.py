"""Run summary: the lines printed at the start and the end of every run.

Pure functions over plain values; rules/summary.smk feeds them from
Snakemake's DAG, in the spirit of the original script's log:

    --- Mode: PARALLEL (2 cores) ---
    Found 3 source(s) in 'input_images'.
    -> 3 source(s) to process, 66 target(s) to build.
    ...
    Built 66 target(s) in 12.34 s.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

#: The command that deletes the orphans a run lists.
ORPHAN_HINT = "uv run snakemake --cores 1 remove_orphans"


def describe_mode(cores: int, cluster_jobs: int | None = None) -> str:
    """``SEQUENTIAL`` for one core, ``PARALLEL (N cores)`` otherwise, and
    ``CLUSTER (N jobs at once)`` on a cluster executor."""
    if cluster_jobs is not None:
        return f"CLUSTER ({cluster_jobs} jobs at once)"
    return "SEQUENTIAL (1 core)" if cores <= 1 else f"PARALLEL ({cores} cores)"


def start_lines(
    cores: int,
    input_dir: str,
    sources_found: int,
    sources_to_process: int,
    targets_to_build: int,
    dry_run: bool = False,
    cluster_jobs: int | None = None,
) -> list[str]:
    """What the run is about to do."""
    return [
        mode_line(cores, dry_run, cluster_jobs),
        f"Found {sources_found} source(s) in '{input_dir}'.",
        f"-> {sources_to_process} source(s) to process, {targets_to_build} target(s) {build_verb(dry_run)}.",
    ]


def mode_line(cores: int, dry_run: bool = False, cluster_jobs: int | None = None) -> str:
    return f"--- Mode: {describe_mode(cores, cluster_jobs)}{' (dry run)' if dry_run else ''} ---"


def build_verb(dry_run: bool) -> str:
    return "would build" if dry_run else "to build"


def end_lines(
    elapsed: float,
    built: int,
    failed_sources: Sequence[str],
    orphans: Sequence[str] = (),
    orphan_hint: str = "",
    other_jobs: int = 0,
    stopped: bool = False,
) -> list[str]:
    """What the run did, which sources failed, and what is left over.

    ``other_jobs`` counts the jobs that ran besides the targets (web files,
    decodes, downloads, clean-up); ``stopped``: the run was cut short (Ctrl-C)."""
    lines = []
    if stopped:
        lines.append(f"Stopped after building {built} target(s); a rerun builds the rest.")
    elif built == 0 and not failed_sources:
        if other_jobs:
            lines.append(f"No target to build; {other_jobs} other job(s) ran.")
        else:
            lines.append("Nothing to build: every target is up to date.")
    else:
        lines.append(f"Built {built} target(s).")
    if failed_sources:
        lines.append(f"FAILED: {len(failed_sources)} source(s): {', '.join(failed_sources)}")
    lines += orphan_lines(orphans, orphan_hint)
    lines.append(f"Done in {elapsed:.2f} s.")
    return lines


def orphan_lines(orphans: Sequence[str], orphan_hint: str = ORPHAN_HINT) -> list[str]:
    """The orphans a run found, the first five by name, and how to remove them."""
    if not orphans:
        return []
    shown = ", ".join(orphans[:5]) + (", ..." if len(orphans) > 5 else "")
    lines = [f"{len(orphans)} orphaned output(s) no source or setting makes any more: {shown}"]
    if orphan_hint:
        lines.append(f"   remove them with: {orphan_hint}")
    return lines


def web_file_lines(
    left_out: Sequence[str], waiting_on: Sequence[str], recovered: Sequence[str] = ()
) -> list[str]:
    """What the run says of the web files (manifest, snippets, gallery, size
    report) when sources fail: they leave out ``left_out`` (failed in this run
    or before it; ``recovered`` failed before and built in this run), and they
    wait on ``waiting_on``, which they listed and which failed in this run."""
    lines = []
    if left_out:
        lines.append(f"Web files leave out {len(left_out)} failed source(s): {', '.join(left_out)}")
    if recovered:
        lines.append(f"   {', '.join(recovered)} built this time: the next run adds them.")
    if waiting_on:
        lines.append(
            f"Web files not updated: they wait on {', '.join(waiting_on)}; "
            "the next run writes them without the sources that fail."
        )
    return lines


def partition_start_lines(
    cores: int,
    input_dir: str,
    sources_found: int,
    partitions: int,
    partitions_to_build: int,
    dry_run: bool = False,
    cluster_jobs: int | None = None,
) -> list[str]:
    """What a partitioned run is about to do."""
    return [
        mode_line(cores, dry_run, cluster_jobs),
        f"Found {sources_found} source(s) in '{input_dir}', in {partitions} partition(s).",
        f"-> {partitions_to_build} partition(s) {build_verb(dry_run)}.",
    ]


#: The line a run's summary gives of its targets (end_lines), as a
#: partition's run writes it into its log.
_BUILT_LINE = re.compile(r"(?:Built|Stopped after building) (\d+) target\(s\)")


def built_targets(log_text: str) -> int:
    """How many targets a partition's run built, from its log."""
    return sum(int(match[1]) for match in _BUILT_LINE.finditer(log_text))


def error_lines(log_text: str) -> list[str]:
    """The ERROR and FAILED lines of a partition's run's log, each from where
    it starts (Snakemake may have written on the same line before it)."""
    found = []
    for line in log_text.splitlines():
        for marker in ("ERROR ", "FAILED: "):
            if marker in line:
                found.append(line[line.index(marker):])
                break
    return unique_in_order(found)


def partition_end_lines(
    elapsed: float,
    partitions_built: int,
    targets_built: int,
    failed: Mapping[int, tuple[str, Sequence[str]]],
    orphans: Sequence[str] = (),
    orphan_hint: str = ORPHAN_HINT,
    stopped: bool = False,
) -> list[str]:
    """What a partitioned run did. ``failed``: partition -> (its log, the
    ERROR lines in it)."""
    if stopped:
        lines = [f"Stopped after {partitions_built} partition(s); a rerun builds the rest."]
    elif partitions_built == 0 and not failed:
        lines = ["Nothing to build: every partition is up to date."]
    else:
        lines = [f"Built {partitions_built} partition(s): {targets_built} target(s)."]
    for partition, (log, errors) in sorted(failed.items()):
        lines.append(f"FAILED: partition {partition} (log: {log})")
        lines += [f"   {line}" for line in errors]
    if failed:
        lines.append("Web files not updated: they wait on the failed partition(s).")
    lines += orphan_lines(orphans, orphan_hint)
    lines.append(f"Done in {elapsed:.2f} s.")
    return lines


def unique_in_order(items: Iterable[str]) -> list[str]:
    """``items`` without repeats, first occurrence first."""
    return list(dict.fromkeys(items))

#!/usr/bin/env python3
"""How much of a build holds Python's GIL, and so how far threads can scale.

    uv run --with py-spy python benchmarks/gil_share.py CORPUS_DIR [--cores 2] [--rate 250]

Builds CORPUS_DIR in a private copy of the workflow under py-spy's ``--gil``
mode, which samples only the thread holding the GIL, and reads the build's
CPU time from the operating system. Prints the seconds the GIL was held, by
part of Snakemake's process (start-up and planning; the scheduler's main
loop; the job threads), against the CPU seconds of the whole build.

Every job thread spends most of its time in Pillow and libdeflate calls that
release the GIL; only the rest is serial across threads. If a build of C
CPU-seconds holds the GIL for G seconds, then at N cores the GIL is busy
about N * G / C of the time, and threads stop adding speed as that nears 1:
the design stays CPU-bound up to about C / G cores.
"""

from __future__ import annotations

import argparse
import collections
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare import copy_workflow  # noqa: E402


def part_of(stack: str) -> str:
    """Which part of Snakemake's process a sampled stack belongs to."""
    if "run_wrapper" in stack:
        return "job threads"
    if "JobScheduler" in stack or "_proceed" in stack or "handle_job_success" in stack:
        return "scheduler"
    if "Thread._bootstrap" in stack.split(";", 1)[0]:
        return "other threads"
    return "start-up and planning"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--cores", type=int, default=os.cpu_count())
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    args = parser.parse_args()
    py_spy = shutil.which("py-spy")
    if py_spy is None:
        sys.exit("py-spy is not installed: uv run --with py-spy python benchmarks/gil_share.py ...")
    with tempfile.TemporaryDirectory(prefix="gil-") as tmp:
        workdir = copy_workflow(Path(tmp) / "workflow")
        samples = Path(tmp) / "gil.txt"
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(
            [
                py_spy, "record", "--gil", "--rate", str(args.rate), "--format", "raw",
                "--output", str(samples), "--",
                sys.executable, "-m", "snakemake", "--cores", str(args.cores), "--quiet", "all",
                "--config", f"input_dir={args.corpus.resolve()}",
            ],
            cwd=workdir, capture_output=True, text=True,
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            sys.exit(f"the build failed:\n{done.stderr[-3000:]}")
        held: collections.Counter[str] = collections.Counter()
        for line in samples.read_text().splitlines():
            stack, count = line.rsplit(" ", 1)
            held[part_of(stack)] += int(count) / args.rate
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    total = sum(held.values())
    print(f"build of {args.corpus} at --cores {args.cores}: {cpu:.1f} CPU-s in all processes (decodes included)")
    print(f"GIL held: {total:.2f} s ({total / cpu:.1%} of the CPU time)")
    for part, seconds in held.most_common():
        print(f"  {part:22} {seconds:6.2f} s")
    during_build = total - held["start-up and planning"]
    print(f"during the build (start-up left out): {during_build:.2f} s; "
          f"CPU-bound up to about {cpu / during_build:.0f} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())

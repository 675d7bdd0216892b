#!/usr/bin/env python3
"""How much of a build holds Python's GIL, and so how far threads can scale.

    uv run --with py-spy python benchmarks/gil_share.py CORPUS_DIR [--cores 2] [--rate 250] [--runs 3]

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
import ctypes
import os
import resource
import shutil
import statistics
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


PR_SET_CHILD_SUBREAPER = 36


def adopt_orphans() -> None:
    """Make this process the reaper of its orphaned descendants (Linux).

    py-spy may exit without waiting for the build it launched; the build is
    then reparented, and its CPU time never reaches RUSAGE_CHILDREN. As a
    subreaper this process gets it back and :func:`reap_orphans` waits for it.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit(f"prctl(PR_SET_CHILD_SUBREAPER) failed: {os.strerror(ctypes.get_errno())}")


def reap_orphans() -> int:
    """Wait for every descendant left over; return how many there were."""
    reaped = 0
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return reaped
        reaped += 1


PARTS = ("start-up and planning", "scheduler", "job threads", "other threads")


def one_build(corpus: Path, cores: int, rate: int, py_spy: str) -> tuple[float, dict[str, float]]:
    """Build ``corpus`` once under py-spy's ``--gil``: the CPU seconds of every
    process of the build, and the seconds the GIL was held, by part."""
    with tempfile.TemporaryDirectory(prefix="gil-") as tmp:
        workdir = copy_workflow(Path(tmp) / "workflow")
        samples = Path(tmp) / "gil.txt"
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(
            [
                py_spy, "record", "--gil", "--rate", str(rate), "--format", "raw",
                "--output", str(samples), "--",
                sys.executable, "-m", "snakemake", "--cores", str(cores), "--quiet", "all",
                "--config", f"input_dir={corpus.resolve()}",
            ],
            cwd=workdir, capture_output=True, text=True,
        )
        reap_orphans()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            sys.exit(f"the build failed:\n{done.stderr[-3000:]}")
        held = dict.fromkeys(PARTS, 0.0)
        for line in samples.read_text().splitlines():
            stack, count = line.rsplit(" ", 1)
            held[part_of(stack)] += int(count) / rate
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, held


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--cores", type=int, default=os.cpu_count())
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--runs", type=int, default=3, help="builds; the medians are the figures to quote")
    args = parser.parse_args()
    py_spy = shutil.which("py-spy")
    if py_spy is None:
        sys.exit("py-spy is not installed: uv run --with py-spy python benchmarks/gil_share.py ...")
    adopt_orphans()
    cpus, helds = [], []
    print(f"builds of {args.corpus} at --cores {args.cores}; GIL held, in seconds:")
    print(f"{'run':>5} {'CPU-s':>6} " + " ".join(f"{part:>21}" for part in PARTS) + f" {'during build':>12} {'cores':>5}")
    for run in range(1, args.runs + 1):
        cpu, held = one_build(args.corpus, args.cores, args.rate, py_spy)
        during = sum(held.values()) - held["start-up and planning"]
        cpus.append(cpu)
        helds.append({**held, "during build": during})
        print(f"{run:>5} {cpu:6.1f} " + " ".join(f"{held[part]:21.2f}" for part in PARTS)
              + f" {during:12.2f} {cpu / during:5.1f}", flush=True)
    cpu = statistics.median(cpus)
    median = {part: statistics.median(held[part] for held in helds) for part in [*PARTS, "during build"]}
    print(f"{'median':>5} {cpu:6.1f} " + " ".join(f"{median[part]:21.2f}" for part in PARTS)
          + f" {median['during build']:12.2f} {cpu / median['during build']:5.1f}")
    print(f"During the build (start-up left out) the GIL is held {median['during build']:.2f} s "
          f"of {cpu:.1f} CPU-s: CPU-bound up to about {cpu / median['during build']:.0f} cores (medians)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

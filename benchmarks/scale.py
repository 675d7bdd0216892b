#!/usr/bin/env python3
"""Scale curve: dry run, full build and no-op rerun as the number of sources grows.

    uv run python benchmarks/scale.py [--sources 100 1000 5000] [--build-up-to 1000] [--repeats 3]

For each count N it generates N small sources (4096x8 gradients: tiny files,
but each wide enough for all 11 default widths, so 22 targets per source) plus
two large corpus photos. It then measures, each run in a fresh Snakemake
process:

- the dry run (`-n`): wall time and peak memory;
- the full build (only up to --build-up-to sources): wall time, the
  machine's busy CPU per target, and the overhead per target: that CPU minus
  the floor's (benchmarks/floor.py: the same decodes, resamples and encodes in
  one process, no scheduler, no files in between), divided by the targets;
- the no-op rerun after that build: wall time and peak memory.

The dry run and the no-op rerun are repeated (--repeats) and reported as the
median wall time with the range, and the largest peak memory.

It also measures the no-op rerun on the sample images in input_images/ against
Snakemake's start-up on an empty workflow.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare import ROOT, copy_workflow  # noqa: E402
from floor import floor_cpu  # noqa: E402

from scripts.plan import find_sources, plan_targets, probe_size  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"
LARGE = ("honeywave.jpg", "goldfish.png")


def busy_cpu_seconds() -> float:
    """CPU time the whole machine has spent busy, from /proc/stat."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, idle, iowait, irq, softirq = (int(x) for x in fields[:7])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def measure(cmd: list[str], cwd: Path) -> tuple[float, float, float]:
    """Run ``cmd``; return wall seconds, peak memory in MB and busy machine CPU seconds."""
    cpu = busy_cpu_seconds()
    start = time.perf_counter()
    # stderr goes to a file: a pipe read only at the end fills up and blocks a long run.
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=stderr)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            stderr.seek(0)
            sys.exit(f"failed: {' '.join(cmd)}\n{stderr.read().decode(errors='replace')[-3000:]}")
    return wall, usage.ru_maxrss / 1024, busy_cpu_seconds() - cpu


def repeated(cmd: list[str], cwd: Path, repeats: int) -> tuple[str, float]:
    """Run ``cmd`` ``repeats`` times: "median (min-max)" seconds, and the largest peak MB."""
    runs = [measure(cmd, cwd) for _ in range(repeats)]
    walls = [wall for wall, _, _ in runs]
    text = f"{statistics.median(walls):.1f}"
    if repeats > 1:
        text += f" ({min(walls):.1f}-{max(walls):.1f})"
    return text, max(mb for _, mb, _ in runs)


def snakemake(*args: str) -> list[str]:
    return [sys.executable, "-m", "snakemake", "--cores", "all", "--quiet", "rules", "progress", *args]


def make_sources(folder: Path, count: int) -> None:
    folder.mkdir(parents=True)
    for index in range(count):
        im = Image.linear_gradient("L").resize((4096, 8)).convert("RGB")
        im.putpixel((index % 4096, 0), (index % 251, 0, 0))
        im.save(folder / f"small{index:05d}.jpg", quality=80)
    for name in LARGE:
        if (CORPUS / name).exists():
            shutil.copy2(CORPUS / name, folder / name)


def planned_targets(input_dir: Path, config: dict) -> int:
    """How many image variants the workflow plans for the sources in ``input_dir``."""
    sizes = {stem: probe_size(path) for stem, path in find_sources(input_dir).items()}
    return len(plan_targets(sizes, config["widths"], config["formats"], config["allow_upscale"], config["min_width_step"]))


def empty_workflow_start(tmp: Path) -> float:
    folder = tmp / "empty"
    folder.mkdir()
    shutil.copytree(ROOT / "profiles", folder / "profiles")  # same settings as the real runs
    (folder / "Snakefile").write_text("rule all:\n    input: []\n")
    return min(measure([sys.executable, "-m", "snakemake", "--cores", "1"], folder)[0] for _ in range(3))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--build-up-to", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3, help="runs of each dry run and no-op rerun")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="scale-") as tmp_name:
        tmp = Path(tmp_name)
        start = empty_workflow_start(tmp)
        sample = copy_workflow(tmp / "sample")
        shutil.copytree(ROOT / "input_images", sample / "input_images")
        measure(snakemake(), sample)
        noop = min(measure(snakemake(), sample)[0] for _ in range(3))
        print(f"Snakemake start-up on an empty workflow: {start:.2f} s")
        print(f"no-op rerun on the sample images: {noop:.2f} s = {noop / start:.2f}x start-up")
        print()
        header = (
            f"{'sources':>7} {'targets':>7} {'dry run s':>18} {'dry MB':>7} {'build s':>8}"
            f" {'CPU/target s':>12} {'overhead/target s':>17} {'no-op s':>18} {'no-op MB':>8}"
        )
        print(header, flush=True)
        for count in args.sources:
            workdir = copy_workflow(tmp / f"n{count}")
            make_sources(workdir / "input_images", count)
            dry_wall, dry_mb = repeated(snakemake("-n"), workdir, args.repeats)
            config = yaml.safe_load((workdir / "config.yaml").read_text())
            targets = planned_targets(workdir / "input_images", config)
            row = f"{count:>7} {targets:>7} {dry_wall:>18} {dry_mb:>7.0f}"
            if count <= args.build_up_to:
                build_wall, _, build_cpu = measure(snakemake(), workdir)
                noop_wall, noop_mb = repeated(snakemake(), workdir, args.repeats)
                floor = sum(floor_cpu(workdir / "input_images", tmp / f"floor{count}", config).values())
                shutil.rmtree(tmp / f"floor{count}")
                row += (
                    f" {build_wall:>8.0f} {build_cpu / targets:>12.3f} {(build_cpu - floor) / targets:>17.3f}"
                    f" {noop_wall:>18} {noop_mb:>8.0f}"
                )
            else:
                row += f" {'-':>8} {'-':>12} {'-':>17} {'-':>18} {'-':>8}"
            print(row, flush=True)
            shutil.rmtree(workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())

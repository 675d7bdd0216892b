#!/usr/bin/env python3
"""Partitioned runs at scale: plan, build, no-op and one changed source.

    uv run python benchmarks/partitions.py --sources 10000 --partitions 20 \
        [--widths 50] [--formats webp] [--repeats 2] [--one-dag]

Generates N small sources (benchmarks/scale.py: 4096x8 gradients, wide enough
for every default width) plus two corpus photos, in a copy of the workflow,
then measures, each run a fresh Snakemake process (wall seconds, and the
peak memory of the largest process of the run):

- the dry run (`-n`) before anything is built (with --plan-only, only that);
- the full build;
- the no-op rerun, and the dry run after the build;
- the run of one partition alone (`--config partition=0`), a no-op too: what
  the partitioned run pays for each partition it runs;
- a rerun after one source's content changed, and after one source was added.

With --one-dag, the same dry run and no-op are measured without partitions
(the build is then made again, in one DAG), for comparison.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import yaml
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare import copy_workflow  # noqa: E402
from scale import make_sources, measure, planned_targets, repeated, snakemake  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=10000)
    parser.add_argument("--partitions", type=int, default=20)
    parser.add_argument("--widths", type=int, nargs="+", help="default: config.yaml's")
    parser.add_argument("--formats", nargs="+", help="default: config.yaml's")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--one-dag", action="store_true", help="also measure without partitions")
    parser.add_argument("--plan-only", action="store_true", help="measure the dry run only, before any build")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="partitions-") as tmp_name:
        workdir = copy_workflow(Path(tmp_name) / "w")
        config = yaml.safe_load((workdir / "config.yaml").read_text())
        config["widths"] = args.widths or config["widths"]
        config["formats"] = args.formats or config["formats"]
        (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        make_sources(workdir / "input_images", args.sources)
        targets = planned_targets(workdir / "input_images", config)
        partitioned = ("--config", f"partitions={args.partitions}")
        print(
            f"{args.sources} sources (+2 photos), {targets} targets, widths {config['widths']}, "
            f"formats {config['formats']}, {args.partitions} partitions",
            flush=True,
        )

        def row(what: str, wall: str | float, mb: float) -> None:
            wall_text = f"{wall:.1f}" if isinstance(wall, float) else wall
            print(f"  {what:<40} {wall_text:>16} s {mb:>7.0f} MB", flush=True)

        row("dry run, nothing built", *repeated(snakemake("-n", *partitioned), workdir, args.repeats))
        if args.plan_only:
            return 0
        wall, mb, cpu = measure(snakemake(*partitioned), workdir)
        row(f"full build ({cpu / targets:.3f} busy CPU-s a target)", wall, mb)
        row("no-op rerun", *repeated(snakemake(*partitioned), workdir, args.repeats))
        row("dry run after the build", *repeated(snakemake("-n", *partitioned), workdir, args.repeats))
        own_run = ("--config", f"partitions={args.partitions}", "partition=0")
        row("partition 0's own run, a no-op", *repeated(snakemake(*own_run), workdir, args.repeats))
        changed = workdir / "input_images" / "small00000.jpg"
        Image.new("RGB", (4096, 8), (200, 10, 10)).save(changed, quality=80)
        wall, mb, _ = measure(snakemake(*partitioned), workdir)
        row("rerun after one changed source", wall, mb)
        Image.new("RGB", (4096, 8), (10, 200, 10)).save(workdir / "input_images" / "added.jpg", quality=80)
        wall, mb, _ = measure(snakemake(*partitioned), workdir)
        row("rerun after one added source", wall, mb)
        if args.one_dag:
            row("one DAG: dry run (all up to date)", *repeated(snakemake("-n"), workdir, args.repeats))
            wall, mb, _ = measure(snakemake(), workdir)
            row("one DAG: first run (writes its web files)", wall, mb)
            row("one DAG: no-op rerun", *repeated(snakemake(), workdir, args.repeats))
    return 0


if __name__ == "__main__":
    sys.exit(main())

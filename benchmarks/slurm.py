#!/usr/bin/env python3
"""A cluster build against a local build of the same sources, on a real
single-node SLURM cluster started here (tests/slurm_cluster.py; needs root
and Debian's slurm-wlm and munge, as the tests do).

    uv run python benchmarks/slurm.py [SOURCE_DIR] [--partitions 1] [--rounds 2]

Each round builds SOURCE_DIR (default: the sample images) from nothing, once
locally (`snakemake --cores 2`) and once on the cluster
(`--workflow-profile profiles/slurm`, each partition one cluster job with the
node's 2 cores), alternately, and prints both wall times and their ratio.
The partitions are a setting of the run (docs/scaling.md suggests one per
few hundred sources), so a handful of sources is one partition.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare import ROOT, copy_workflow  # noqa: E402

sys.path.insert(0, str(ROOT / "tests"))
from slurm_cluster import missing_programs, running_cluster  # noqa: E402


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{done.stderr[-3000:]}")
    return wall


def clean(workdir: Path) -> None:
    for name in ("results", "build", ".snakemake"):
        shutil.rmtree(workdir / name, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sources", nargs="?", type=Path, default=ROOT / "input_images")
    parser.add_argument("--partitions", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    missing = missing_programs()
    if missing or os.geteuid() != 0:
        sys.exit(f"needs root and SLURM ({', '.join(missing) or 'installed'}): apt-get install slurm-wlm munge")
    snakemake = [sys.executable, "-m", "snakemake"]
    with tempfile.TemporaryDirectory(prefix="slurm-bench-") as tmp_name:
        tmp = Path(tmp_name)
        workdir = copy_workflow(tmp / "w")
        shutil.copytree(args.sources, workdir / "input_images")
        (tmp / "cluster").mkdir()
        env = dict(os.environ)
        with running_cluster(tmp / "cluster") as launcher:
            local = [*snakemake, "--cores", "2"]
            cluster = [
                *launcher, *snakemake, "--workflow-profile", "profiles/slurm",
                "--set-threads", "build_partition=2", "--config", f"partitions={args.partitions}",
            ]
            walls: dict[str, list[float]] = {"local": [], "cluster": []}
            for _ in range(args.rounds):
                for name, cmd in (("local", local), ("cluster", cluster)):
                    clean(workdir)
                    walls[name].append(timed(cmd, workdir, env))
    local_s, cluster_s = (statistics.median(walls[name]) for name in ("local", "cluster"))
    print(f"sources: {args.sources}, {args.partitions} partition(s), {args.rounds} alternating round(s)")
    print(f"local build, 2 cores:        {local_s:6.1f} s  (rounds {', '.join(f'{w:.1f}' for w in walls['local'])})")
    print(f"cluster build, profiles/slurm: {cluster_s:6.1f} s  (rounds {', '.join(f'{w:.1f}' for w in walls['cluster'])})")
    print(f"cluster / local: {cluster_s / local_s:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

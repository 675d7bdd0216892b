#!/usr/bin/env python3
"""Time the workflow against the hand-rolled process pool on one corpus.

    uv run python benchmarks/compare.py CORPUS_DIR [--rounds 3] [--cores N] [--no-sequential] [--sharp]

Each round runs, alternately, the workflow (`snakemake --cores C`, from empty
results/, build/ and .snakemake/, Snakemake's start-up included) and the
reference pool (benchmarks/pool_reference.py, C workers), at C = 1 and C = N.
Both get the same widths, formats and encoder settings, from config.yaml.
When the workflow deflates its PNGs itself (`encoders.png.deflate`:
libdeflate or zlib-ng),
the pool runs twice: once with Pillow's own zlib at its default level, as the
hand-rolled script saves ("reference"), and once deflating as the workflow
does ("same deflate"). Prints the median wall time of each, the
workflow/reference ratios, and the output bytes per format (a speed-up only
counts if the workflow's outputs are no larger than the reference's, within
2%).

With --sharp, sharp (libvips, what eleventy-img runs) is installed from npm
into a temporary folder and does the same widths and formats at C = N in
each round (benchmarks/peer_sharp.mjs, sharp's default encoders): the peer
to beat, in time and in bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.imageops import REDEFLATE_LIBRARIES  # noqa: E402

WORKFLOW_FILES = ("Snakefile", "config.yaml", "rules", "scripts", "profiles", "presets")


def copy_workflow(dest: Path) -> Path:
    """A private copy of the workflow, so runs never touch the checkout's results/."""
    dest.mkdir(parents=True)
    for name in WORKFLOW_FILES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dest / name)
    return dest


IMAGE_FORMATS = ("png", "webp", "avif", "jpeg")


def bytes_per_format(folder: Path) -> dict[str, int]:
    """Bytes of the image variants in ``folder``, per format (the web files
    the workflow also writes have no counterpart in the reference)."""
    totals: dict[str, int] = defaultdict(int)
    for path in folder.iterdir():
        fmt = path.suffix.lstrip(".")
        if path.is_file() and not path.name.startswith(".") and fmt in IMAGE_FORMATS:
            totals[fmt] += path.stat().st_size
    return dict(totals)


def timed(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{done.stderr[-3000:]}")
    return elapsed


def run_pipeline(workdir: Path, corpus: Path, cores: int) -> tuple[float, dict[str, int]]:
    for leftover in ("results", "build", ".snakemake"):
        shutil.rmtree(workdir / leftover, ignore_errors=True)
    # min_width_step=1: the pool and sharp make every configured width, so the
    # workflow drops no near-duplicate width here either.
    cmd = [sys.executable, "-m", "snakemake", "--cores", str(cores), "--quiet", "all",
           "--config", f"input_dir={corpus}", "min_width_step=1"]
    elapsed = timed(cmd, workdir)
    return elapsed, bytes_per_format(workdir / "results")


def reference_encoders(encoders: dict[str, dict], png_deflate: str = "zlib") -> dict[str, dict]:
    """The workflow's encoder settings for the reference pool. With ``png_deflate``
    "zlib", a libdeflate or zlib-ng PNG setting becomes Pillow's defaults, as the hand-rolled
    script saves; with "same", the pool deflates its PNGs as the workflow does."""
    reference = {fmt: dict(options) for fmt, options in encoders.items()}
    png = reference.get("png", {})
    library = png.pop("deflate", "zlib")
    if library in REDEFLATE_LIBRARIES:
        if png_deflate == "same":
            png["deflate"] = library
        else:
            reference["png"] = {}
    return reference


def run_reference(
    workdir: Path, corpus: Path, cores: int, config: dict, png_deflate: str = "zlib"
) -> tuple[float, dict[str, int]]:
    out = workdir / "reference"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [
        sys.executable, str(ROOT / "benchmarks" / "pool_reference.py"), str(corpus), str(out), str(cores),
        "--widths", ",".join(map(str, config["widths"])),
        "--formats", ",".join(config["formats"]),
        "--encoders", json.dumps(reference_encoders(config.get("encoders", {}), png_deflate)),
    ]
    elapsed = timed(cmd, workdir)
    return elapsed, bytes_per_format(out)


def install_sharp(folder: Path) -> Path:
    """npm-install sharp (with its prebuilt libvips) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--silent", "sharp"],
        cwd=folder, capture_output=True, text=True,
    )
    if done.returncode != 0:
        sys.exit(f"npm install sharp failed:\n{done.stderr[-3000:]}")
    return folder


def run_sharp(workdir: Path, corpus: Path, sharp_dir: Path, config: dict) -> tuple[float, dict[str, int]]:
    """sharp's wall time as it reports it (node's start-up excluded) and its bytes."""
    out = workdir / "sharp"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [
        "node", str(ROOT / "benchmarks" / "peer_sharp.mjs"), str(corpus), str(out),
        ",".join(map(str, config["widths"])), ",".join(config["formats"]),
    ]
    done = subprocess.run(cmd, cwd=workdir, env={**os.environ, "PEER_DIR": str(sharp_dir)},
                          capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{done.stderr[-3000:]}")
    words = done.stdout.split()
    return float(words[2]), bytes_per_format(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cores", type=int, default=os.cpu_count())
    parser.add_argument("--no-sequential", action="store_true", help="only time C = N")
    parser.add_argument("--sharp", action="store_true", help="also time sharp (npm) at C = N")
    args = parser.parse_args()
    corpus = args.corpus.resolve()
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    core_counts = [args.cores] if args.no_sequential else [1, args.cores]
    encoders = config.get("encoders", {})
    # Each reference pool by name: the PNG deflate it uses.
    references = {"reference": "zlib"}
    if encoders.get("png", {}).get("deflate") in REDEFLATE_LIBRARIES:
        references["same deflate"] = "same"
    times: dict[tuple[str, int], list[float]] = defaultdict(list)
    sizes: dict[str, dict[str, int]] = {}
    with tempfile.TemporaryDirectory(prefix="compare-") as tmp:
        workdir = copy_workflow(Path(tmp) / "workflow")
        sharp_dir = install_sharp(Path(tmp) / "sharp-peer") if args.sharp else None
        for round_number in range(1, args.rounds + 1):
            for cores in core_counts:
                for name in ("workflow", *references):
                    if name == "workflow":
                        elapsed, sizes[name] = run_pipeline(workdir, corpus, cores)
                    else:
                        elapsed, sizes[name] = run_reference(workdir, corpus, cores, config, references[name])
                    times[(name, cores)].append(elapsed)
                    print(f"round {round_number}: {name:12} --cores {cores}: {elapsed:7.2f} s", flush=True)
            if sharp_dir is not None:
                elapsed, sizes["sharp"] = run_sharp(workdir, corpus, sharp_dir, config)
                times[("sharp", args.cores)].append(elapsed)
                print(f"round {round_number}: {'sharp':12} (libvips threads): {elapsed:7.2f} s", flush=True)
    print()
    print(f"corpus: {corpus} ({len(list(corpus.iterdir()))} files), medians of {args.rounds} round(s)")
    for fmt in config["formats"]:
        settings = ", ".join(
            f"{name} {reference_encoders(encoders, deflate).get(fmt) or 'Pillow defaults'}"
            for name, deflate in references.items()
        )
        print(f"{fmt} settings: workflow {encoders.get(fmt, {})}; {settings}")
    print(f"{'cores':>5} {'workflow s':>11}" + "".join(f" {name + ' s':>16} {'ratio':>6}" for name in references))
    for cores in core_counts:
        pipeline = statistics.median(times[("workflow", cores)])
        row = f"{cores:>5} {pipeline:>11.2f}"
        for name in references:
            reference = statistics.median(times[(name, cores)])
            row += f" {reference:>16.2f} {pipeline / reference:>6.2f}"
        print(row)
    if sharp_dir is not None:
        pipeline = statistics.median(times[("workflow", args.cores)])
        peer = statistics.median(times[("sharp", args.cores)])
        print(f"sharp at {args.cores} cores: {peer:.2f} s; workflow/sharp {pipeline / peer:.2f} "
              "(sharp's own timer, node's start-up left out; the workflow's includes Snakemake's)")
        references = {**references, "sharp": None}
    print()
    print(f"{'format':>6} {'workflow bytes':>15}" + "".join(f" {name + ' bytes':>20} {'ratio':>6}" for name in references))
    all_ok = True
    for fmt in sorted(set().union(*(sizes[name] for name in sizes))):
        ours = sizes["workflow"].get(fmt, 0)
        row = f"{fmt:>6} {ours:>15,}"
        for name in references:
            theirs = sizes[name].get(fmt, 0)
            ratio = ours / theirs if theirs else float("inf")
            all_ok &= ratio <= 1.02
            row += f" {theirs:>20,} {ratio:>6.3f}"
        print(row)
    print("outputs no larger than the references' (within 2%):", "yes" if all_ok else "NO")
    return 0


if __name__ == "__main__":
    sys.exit(main())

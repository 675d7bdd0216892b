#!/usr/bin/env python3
"""What ``quality: auto`` costs and saves in a real build, against fixed qualities.

    uv run python benchmarks/auto_build.py CORPUS_DIR [--formats webp] [--rounds 1]
        [--cores 2] [--max-width 0] [--target SCORE]

In a private copy of the workflow, builds the corpus with the formats given
plus png (config.yaml's fixed qualities), then with those formats'
``quality: auto``, alternately, each from empty results/, build/ and
.snakemake/. The png variants are the lossless resizes, the reference every
score is taken against.

Without --target, the target is the 10th percentile of the fixed variants'
SSIMULACRA2 scores at 480 px and up, per format (issue 24's benchmark: equal
worst-case quality); the auto build then runs once per format. With
--target, one auto build for all formats, at that target (config's default: 70).

Prints each build's median wall time and its ratio to the fixed build's, and
per format the bytes of both builds and their ratio, and the worst score of
the auto variants (480 px and up), measured again here, with how many are
more than one point under the target. --max-width sets auto_quality.max_width.
benchmarks/varied_set.py makes a set with screenshots and flat graphics.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import yaml
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.compare import copy_workflow, timed  # noqa: E402
from scripts.ssimulacra2 import Reference  # noqa: E402

MIN_WIDTH = 480


def build(workdir: Path, corpus: Path, cores: int, config: dict) -> float:
    for leftover in ("results", "build", ".snakemake"):
        shutil.rmtree(workdir / leftover, ignore_errors=True)
    overrides = workdir / "bench.yaml"
    overrides.write_text(yaml.safe_dump(config))
    cmd = [sys.executable, "-m", "snakemake", "--cores", str(cores), "--quiet", "all",
           "--configfile", str(overrides), "--config", f"input_dir={corpus}"]
    return timed(cmd, workdir)


def variants(workdir: Path) -> list[dict]:
    manifest = json.loads((workdir / "results" / "manifest.json").read_text())
    return [v for source in manifest["sources"].values() for v in source["variants"]]


def full_scores(workdir: Path, fmt: str) -> dict[str, float]:
    """SSIMULACRA2 of each ``fmt`` variant 480 px and up against the png of its name."""
    scores = {}
    for variant in variants(workdir):
        if variant["format"] != fmt or variant["width"] < MIN_WIDTH:
            continue
        results = workdir / "results"
        with Image.open(results / Path(variant["path"]).with_suffix(".png")) as reference:
            prepared = Reference(reference.convert("RGB"))
        with Image.open(results / variant["path"]) as distorted:
            scores[variant["path"]] = prepared.score(distorted.convert("RGB"))
    return scores


def bytes_of(workdir: Path, fmt: str) -> int:
    return sum(v["bytes"] for v in variants(workdir) if v["format"] == fmt)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--formats", nargs="+", default=["webp"])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--max-width", type=int, default=0)
    parser.add_argument("--target", type=float, default=None)
    args = parser.parse_args()
    corpus = args.corpus.resolve()
    formats = ["png", *args.formats]
    with tempfile.TemporaryDirectory() as tmp:
        workdir = copy_workflow(Path(tmp) / "workflow")
        fixed_config = {"formats": formats, "min_width_step": 1}
        fixed_time = build(workdir, corpus, args.cores, fixed_config)
        fixed_bytes = {fmt: bytes_of(workdir, fmt) for fmt in args.formats}
        if args.target is None:
            targets = {
                fmt: statistics.quantiles(full_scores(workdir, fmt).values(), n=10)[0] for fmt in args.formats
            }
            runs = [[fmt] for fmt in args.formats]
        else:
            targets = dict.fromkeys(args.formats, args.target)
            runs = [args.formats]
        times = {"fixed": [fixed_time]}
        rows = []
        for run in runs:
            auto_config = {
                **fixed_config,
                "encoders": {fmt: {"quality": "auto"} for fmt in run},
                "auto_quality": {"target": targets[run[0]], "max_width": args.max_width},
            }
            name = "auto " + "+".join(run)
            times[name] = []
            for round_ in range(args.rounds):
                if round_:
                    times["fixed"].append(build(workdir, corpus, args.cores, fixed_config))
                times[name].append(build(workdir, corpus, args.cores, auto_config))
            for fmt in run:
                scores = full_scores(workdir, fmt)
                worst = min(scores.values())
                under = sum(score < targets[fmt] - 1 for score in scores.values())
                rows.append(
                    f"| {fmt} | {targets[fmt]:.2f} | {fixed_bytes[fmt]:,} | {bytes_of(workdir, fmt):,} "
                    f"| **{bytes_of(workdir, fmt) / fixed_bytes[fmt]:.3f}** | {worst:.2f} | {under} of {len(scores)} |"
                )
        fixed = statistics.median(times["fixed"])
        print(f"{len(list(corpus.iterdir()))} files in {corpus}, formats {formats}, {args.cores} cores, "
              f"max_width {args.max_width}\n")
        print("| build | wall (median) | against fixed |\n|---|---|---|")
        for name, measured in times.items():
            print(f"| {name} | {statistics.median(measured):.1f} s | {statistics.median(measured) / fixed:.2f}x |")
        print("\n| format | target | fixed bytes | auto bytes | ratio | worst auto score (full) | more than 1 under |")
        print("|---|---|---|---|---|---|---|")
        print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

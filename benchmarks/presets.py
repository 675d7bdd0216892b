#!/usr/bin/env python3
"""What the web preset (presets/web.yaml) saves against the defaults on a corpus.

    uv run python benchmarks/presets.py CORPUS_DIR [--rounds 1] [--cores N]

Builds the corpus with config.yaml alone and with ``--configfile
presets/web.yaml``, alternately, each from empty results/, build/ and .snakemake/, in a private copy
of the workflow. Prints each build's median wall time, the bytes on disk per
format, and what a page's visitors download: for every source and width the
two builds share, the variant a browser takes from the ``<picture>`` snippet
(the first ``<source>`` type it supports, else the ``<img>``), for a browser
that shows AVIF and WebP, and the ``<img>`` fallback that one showing
neither gets (the defaults fall back to WebP, which every current browser
shows: their PNGs weigh about 30 times more).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.compare import bytes_per_format, copy_workflow, timed  # noqa: E402
from scripts.web import MODERN_FORMATS, Variant, fallback_format  # noqa: E402

BUILDS = {"defaults": [], "web preset": ["--configfile", "presets/web.yaml"]}


def build(workdir: Path, corpus: Path, cores: int, extra: list[str]) -> float:
    for leftover in ("results", "build", ".snakemake"):
        shutil.rmtree(workdir / leftover, ignore_errors=True)
    cmd = [sys.executable, "-m", "snakemake", "--cores", str(cores), "--quiet", "all", *extra,
           "--config", f"input_dir={corpus}"]
    return timed(cmd, workdir)


def picked(variants: list[Variant], modern: bool) -> dict[int, int]:
    """Width -> bytes of the variant a browser downloads from a source's snippet:
    one that shows every modern format takes the first ``<source>``; one that
    shows none takes the ``<img>`` fallback."""
    grouped: dict[str, list[Variant]] = {}
    for v in variants:
        grouped.setdefault(v.format, []).append(v)
    fallback = fallback_format(grouped)
    chosen = fallback
    if modern:
        chosen = next((f for f in MODERN_FORMATS if f in grouped and f != fallback), fallback)
    return {v.width: v.bytes for v in grouped[chosen]}


def downloads(manifest: dict, modern: bool) -> dict[tuple[str, int], int]:
    out = {}
    for stem, source in manifest["sources"].items():
        variants = [Variant(**v) for v in source["variants"]]
        for width, size in picked(variants, modern).items():
            out[(stem, width)] = size
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--cores", type=int, default=os.cpu_count())
    args = parser.parse_args()
    corpus = args.corpus.resolve()
    times: dict[str, list[float]] = {name: [] for name in BUILDS}
    manifests: dict[str, dict] = {}
    disk: dict[str, dict[str, int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = copy_workflow(Path(tmp) / "wf")
        for round_ in range(args.rounds):
            for name, extra in BUILDS.items():
                seconds = build(workdir, corpus, args.cores, extra)
                times[name].append(seconds)
                print(f"round {round_ + 1}: {name}: {seconds:.1f} s", flush=True)
                manifests[name] = json.loads((workdir / "results" / "manifest.json").read_text())
                disk[name] = bytes_per_format(workdir / "results")
    base, preset = "defaults", "web preset"
    print(f"\ncorpus: {corpus} ({len(manifests[base]['sources'])} sources), {args.cores} cores")
    print(f"{'':12} {'build s':>8} {'on disk':>12}  per format")
    for name in BUILDS:
        formats = ", ".join(f"{f} {b / 1e6:.1f} MB" for f, b in sorted(disk[name].items()))
        print(f"{name:12} {statistics.median(times[name]):8.1f} {sum(disk[name].values()) / 1e6:9.1f} MB  {formats}")
    print(f"build time ratio (preset/defaults): {statistics.median(times[preset]) / statistics.median(times[base]):.2f}")
    print(f"bytes on disk ratio: {sum(disk[preset].values()) / sum(disk[base].values()):.3f}")
    a, b = downloads(manifests[base], True), downloads(manifests[preset], True)
    shared = sorted(set(a) & set(b))
    wide = [k for k in shared if k[1] >= 480]
    total_a, total_b = sum(a[k] for k in shared), sum(b[k] for k in shared)
    wide_a, wide_b = sum(a[k] for k in wide), sum(b[k] for k in wide)
    print(
        f"downloads, a browser that shows AVIF and WebP: {total_a / 1e6:.2f} MB -> {total_b / 1e6:.2f} MB "
        f"for {len(shared)} variants (ratio {total_b / total_a:.3f}; widths >= 480: {wide_b / wide_a:.3f})"
    )
    for name in BUILDS:
        fallbacks = {s["fallback"]["format"] for s in manifests[name]["sources"].values()}
        legacy = downloads(manifests[name], False)
        print(
            f"downloads, a browser that shows neither, {name}: the <img> fallback is "
            f"{', '.join(sorted(fallbacks))}: {sum(legacy[k] for k in shared) / 1e6:.2f} MB"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

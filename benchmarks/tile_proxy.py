#!/usr/bin/env python3
"""Can tiles of a wide variant stand in for it in a quality search?

    uv run python benchmarks/tile_proxy.py RESULTS_DIR [--tile 256] [--tiles 16]
        [--format webp] [--target 70] [--min-width 1928]

RESULTS_DIR holds a build's PNG variants (the lossless resizes, as
``formats: [png]`` makes them). For each one at least --min-width wide, the
quality search of scripts/auto_quality.py runs twice: on the whole variant,
and on a proxy made of --tiles tiles of --tile px at full resolution, taken
from the centres of a grid over the variant (aligned to 16 px, the codecs'
blocks) and pasted side by side into one image. Prints both qualities, their
difference and the CPU seconds of each search (docs/quality.md, "Levers").
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import yaml
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.auto_quality import search_quality  # noqa: E402

VARIANT = re.compile(r"(?P<stem>.+)_(?P<width>\d+)x(?P<height>\d+)\.png$")
#: The formats whose quality a search chooses, and the workflow's settings for them.
LOSSY = ("webp", "avif", "jpeg")
ENCODERS = yaml.safe_load((ROOT / "config.yaml").read_text())["encoders"]


def tile_proxy(im: Image.Image, tile: int, tiles: int) -> Image.Image:
    """``tiles`` squares of ``tile`` px from the centres of a grid over
    ``im`` (as many columns as its aspect ratio asks), side by side."""
    width, height = im.size
    columns = max(1, round((tiles * width / height) ** 0.5))
    rows = max(1, round(tiles / columns))
    proxy = Image.new(im.mode, (columns * tile, rows * tile))
    for row in range(rows):
        for column in range(columns):
            left = min(width - tile, max(0, int((column + 0.5) * width / columns - tile / 2) // 16 * 16))
            top = min(height - tile, max(0, int((row + 0.5) * height / rows - tile / 2) // 16 * 16))
            proxy.paste(im.crop((left, top, left + tile, top + tile)), (column * tile, row * tile))
    return proxy


def timed_search(im: Image.Image, fmt: str, target: float) -> tuple[int, float]:
    started = time.process_time()
    quality = search_quality(im, fmt, ENCODERS[fmt], target)[0]
    return quality, time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("--tile", type=int, default=256)
    parser.add_argument("--tiles", type=int, default=16)
    parser.add_argument("--format", choices=LOSSY, default="webp")
    parser.add_argument("--target", type=float, default=70.0)
    parser.add_argument("--min-width", type=int, default=1928)
    args = parser.parse_args()
    differences = []
    print(f"{'variant':30} {'whole':>5} {'proxy':>5} {'diff':>5} {'whole s':>8} {'proxy s':>8}")
    for path in sorted(args.results.glob("*.png")):
        found = VARIANT.match(path.name)
        if not found or int(found["width"]) < args.min_width:
            continue
        with Image.open(path) as im:
            im.load()
        whole, whole_s = timed_search(im, args.format, args.target)
        proxy, proxy_s = timed_search(tile_proxy(im, args.tile, args.tiles), args.format, args.target)
        differences.append(proxy - whole)
        print(f"{path.stem:30} {whole:5} {proxy:5} {proxy - whole:+5} {whole_s:8.2f} {proxy_s:8.2f}")
    if differences:
        print(f"{len(differences)} variants: proxy minus whole from {min(differences):+} to {max(differences):+}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Where the WebP bytes differ from sharp's: resampling strategies, bytes and quality.

    uv run python benchmarks/resample_vs_sharp.py CORPUS_DIR [--strategies levels:3,draft:3,levels:1.2]

sharp (installed from npm into a temporary folder, benchmarks/peer_sharp.mjs)
makes the config's widths as WebP at its defaults (quality 80, effort 4, the
workflow's settings too). Each strategy then resamples every source to the
same widths and encodes them with the workflow's WebP settings:

- ``levels:G`` is the workflow's own: Lanczos from the smallest 2x box-reduced
  pyramid level still G times the width (config ``reducing_gap``);
- ``draft:G`` takes the levels 1/2, 1/4 and 1/8 of a JPEG source from
  libjpeg's DCT scaling (Pillow's ``draft()``, what libvips's shrink-on-load
  does) instead of box reductions, then does the same;
- ``pillow:G`` is Pillow's own ``reducing_gap`` (any integer box factor).

Prints, per strategy, the WebP bytes against sharp's, and the mean SSIMULACRA2
score (scripts/ssimulacra2.py) of the decoded WebP against a full Lanczos
resample of the source, over the variants at least 150 px wide that are
resampled and that sharp made the same size (it rounds some heights down).
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import yaml
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare import install_sharp, run_sharp  # noqa: E402

from scripts.imageops import (  # noqa: E402
    RASTER_LEVELS,
    Raster,
    calculate_new_height,
    normalize,
    open_source,
    pyramid_level,
    resize_raster,
)
from scripts.ssimulacra2 import ssimulacra2  # noqa: E402

#: The narrowest variant scored: SSIMULACRA2 needs a few scales of the image.
SCORED_FROM = 150


def box_levels(full: Image.Image) -> list[Image.Image]:
    """The workflow's pyramid: ``full`` and its successive 2x box reductions."""
    levels = [full]
    while len(levels) < RASTER_LEVELS:
        levels.append(levels[-1].reduce(2))
    return levels


def draft_levels(source: Path, full: Image.Image) -> list[Image.Image]:
    """Levels 1-3 decoded at 1/2, 1/4 and 1/8 by libjpeg, then box reductions."""
    levels = [full]
    for k in (1, 2, 3):
        with open_source(source) as im:
            if im.format != "JPEG":
                return box_levels(full)
            im.draft("RGB", (-(-im.width // 2**k), -(-im.height // 2**k)))
            levels.append(normalize(im))
    while len(levels) < RASTER_LEVELS:
        levels.append(levels[-1].reduce(2))
    return levels


def from_levels(levels: list[Image.Image], width: int, height: int, gap: float) -> Image.Image:
    """The level the workflow would pick (``pyramid_level``), resampled as it does (``resize_raster``)."""
    full = levels[0]
    k = pyramid_level(full.width, width, gap, len(levels))
    return resize_raster(Raster(levels[k], full.size, 2**k), width, height)


def resampler(strategy: str, source: Path, full: Image.Image) -> Callable[[int, int], Image.Image]:
    """A function of (width, height) for one strategy and one source."""
    kind, _, gap_text = strategy.partition(":")
    gap = float(gap_text)
    if kind == "pillow":
        return lambda width, height: full.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=gap)
    if kind in ("levels", "draft"):
        levels = box_levels(full) if kind == "levels" else draft_levels(source, full)
        return lambda width, height: from_levels(levels, width, height, gap)
    msg = f"unknown strategy {strategy!r}; expected levels:G, draft:G or pillow:G"
    raise ValueError(msg)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--strategies", default="levels:3,draft:3,levels:2,levels:1.2,draft:1.3,levels:1")
    args = parser.parse_args()
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    webp = config["encoders"]["webp"]
    strategies = args.strategies.split(",")
    sizes = {name: 0 for name in ["sharp", *strategies]}
    scores: dict[str, list[float]] = {name: [] for name in sizes}
    with tempfile.TemporaryDirectory(prefix="resample-") as tmp:
        sharp_dir = install_sharp(Path(tmp) / "sharp-peer")
        run_sharp(Path(tmp), args.corpus.resolve(), sharp_dir, {**config, "formats": ["webp"]})
        sharp_out = Path(tmp) / "sharp"
        for source in sorted(p for p in args.corpus.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png")):
            with open_source(source) as im:
                full = normalize(im)
            resamplers = {name: resampler(name, source, full) for name in strategies}
            for width in sorted({min(w, full.width) for w in config["widths"]}):
                height = calculate_new_height(full.width, full.height, width)
                theirs = (sharp_out / f"{source.stem}_{width}.webp").read_bytes()
                sizes["sharp"] += len(theirs)
                with Image.open(io.BytesIO(theirs)) as decoded:
                    theirs_image = decoded.convert("RGB")
                scored = width < full.width and width >= SCORED_FROM and theirs_image.size == (width, height)
                reference = full.resize((width, height), Image.Resampling.LANCZOS) if scored else None
                if scored:
                    scores["sharp"].append(ssimulacra2(reference, theirs_image))
                for name, resample in resamplers.items():
                    image = full if width == full.width else resample(width, height)
                    buffer = io.BytesIO()
                    image.save(buffer, "WEBP", **webp)
                    sizes[name] += buffer.tell()
                    if scored:
                        with Image.open(buffer) as decoded:
                            scores[name].append(ssimulacra2(reference, decoded.convert("RGB")))
            print(f"{source.name} done", flush=True)
    print(f"{'strategy':12} {'WebP bytes':>11} {'/ sharp':>8} {'SSIMULACRA2':>12} (mean of {len(scores['sharp'])} variants)")
    for name in sizes:
        print(f"{name:12} {sizes[name]:11d} {sizes[name] / sizes['sharp']:8.4f} {statistics.mean(scores[name]):12.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

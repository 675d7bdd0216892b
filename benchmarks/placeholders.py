#!/usr/bin/env python3
"""Which tiny preview looks most like its photo per byte: the placeholder's
format, width and quality (scripts/placeholder.py).

    uv run python benchmarks/placeholders.py CORPUS_DIR

For each source, the reference is what a placeholder should show: the photo
at 256 px wide, blurred (Gaussian, radius 4). Each candidate (WebP, JPEG or
PNG, at 8 to 48 px wide) is decoded from its data URI, scaled up to 256 px
bilinearly as a browser scales a background, blurred the same way, and
compared with the reference (PSNR, dB, higher is closer). The corpus is
landscape, so a width here is the preview's longer side. Prints the median
PSNR and data-URI bytes of each candidate over the sources, and the time the
chosen placeholder takes per source (from the source's 50 px variant, as the
workflow makes it).
"""

from __future__ import annotations

import argparse
import base64
import io
import math
import statistics
import sys
import time
from pathlib import Path

from PIL import Image, ImageChops, ImageFilter, ImageStat

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.imageops import upright  # noqa: E402
from scripts.placeholder import describe_placeholder, encode_preview  # noqa: E402

REFERENCE_WIDTH = 256
BLUR = ImageFilter.GaussianBlur(4)
CANDIDATES = [
    (fmt, width, quality)
    for fmt, qualities in (("webp", (30, 50, 70, 90)), ("jpeg", (30, 50, 70)), ("png", (0,)))
    for width in (8, 12, 16, 24, 32, 48)
    for quality in qualities
]


def psnr(a: Image.Image, b: Image.Image) -> float:
    mse = statistics.fmean(v**2 for v in ImageStat.Stat(ImageChops.difference(a, b)).rms)
    return 99.0 if mse == 0 else 10 * math.log10(255**2 / mse)


def decoded(uri: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).convert("RGB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path)
    args = parser.parse_args()
    sources = sorted(p for p in args.corpus.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp"))
    scores: dict[tuple, list[float]] = {c: [] for c in CANDIDATES}
    sizes: dict[tuple, list[int]] = {c: [] for c in CANDIDATES}
    timings = []
    for path in sources:
        with Image.open(path) as opened:
            photo = upright(opened).convert("RGB")
        box = (REFERENCE_WIDTH, round(photo.height * REFERENCE_WIDTH / photo.width))
        reference = photo.resize(box, Image.Resampling.BOX).filter(BLUR)
        small = photo.resize((64, round(64 * photo.height / photo.width)), Image.Resampling.LANCZOS)
        for candidate in CANDIDATES:
            fmt, width, quality = candidate
            uri = encode_preview(small, width, fmt, quality)
            shown = decoded(uri).resize(box, Image.Resampling.BILINEAR).filter(BLUR)
            scores[candidate].append(psnr(shown, reference))
            sizes[candidate].append(len(uri))
        narrow = path.parent / f".{path.stem}_50.png"
        photo.resize((50, max(1, round(50 * photo.height / photo.width))), Image.Resampling.LANCZOS).save(narrow)
        start = time.perf_counter()
        describe_placeholder(narrow)
        timings.append(time.perf_counter() - start)
        narrow.unlink()
    print(f"{len(sources)} sources; PSNR against the photo blurred at {REFERENCE_WIDTH} px (median over sources)\n")
    print("| format | width | quality | data URI bytes | PSNR dB |")
    print("|---|---|---|---|---|")
    for candidate in sorted(CANDIDATES, key=lambda c: statistics.median(sizes[c])):
        fmt, width, quality = candidate
        print(
            f"| {fmt} | {width} | {quality or '-'} | {statistics.median(sizes[candidate]):.0f} "
            f"| {statistics.median(scores[candidate]):.2f} |"
        )
    print(f"\nplaceholder and colour from a 50 px variant: {statistics.median(timings) * 1000:.1f} ms per source (median)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

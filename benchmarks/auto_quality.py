#!/usr/bin/env python3
"""How many bytes a per-variant quality would save at equal worst-case quality.

    uv run --with ssimulacra2 python benchmarks/auto_quality.py CORPUS_DIR [--widths 480 768 992] [--formats webp jpeg avif]

For each photo, width and format, the photo resized (Lanczos) is the
reference. The variant at the workflow's fixed quality (config.yaml) is scored
with SSIMULACRA2 (the ``ssimulacra2`` package, on images mirror-tiled to 256 px
a side when smaller: benchmarks/ssimulacra2_small.py). The target is the 10th
percentile of those scores, per format. Then, for each variant, a bisection
finds the lowest quality whose score reaches the target (--search secant:
steps from the fixed quality along the line through the last two scores,
then confirms the boundary; --search predict: a line through the fixed
quality's score and one 10 away predicts the quality, which is scored and
raised until it passes). Prints, per format,
the target, the fixed and searched bytes and their ratio, the worst searched
score, the encodes and scores a search took, and its time against the fixed
encode's. This measures what an ``auto`` quality could give (issue 24),
before the workflow has one.
"""

from __future__ import annotations

import argparse
import io
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml
from PIL import Image, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ssimulacra2 import ssimulacra2 as package  # noqa: E402

from scripts.formats import FORMATS  # noqa: E402
from scripts.imageops import pillow_save_options  # noqa: E402
from scripts.ssimulacra2 import mirror_tiled  # noqa: E402
from scripts.ssimulacra2 import ssimulacra2 as vectorised_ssimulacra2  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def encode(im: Image.Image, fmt: str, options: dict, quality: int) -> bytes:
    buffer = io.BytesIO()
    im.save(buffer, format=FORMATS[fmt].pillow, **{**pillow_save_options(fmt, options), "quality": quality})
    return buffer.getvalue()


class Scorer:
    """SSIMULACRA2 of an encoding against the current reference, both
    mirror-tiled to full scale: by the ``ssimulacra2`` package (through PNG
    files, as it reads them), or by scripts/ssimulacra2.py (in memory)."""

    def __init__(self, folder: Path, metric: str = "package"):
        self.ref, self.dist = folder / "ref.png", folder / "dist.png"
        self.metric = metric
        self.count = 0

    def reference(self, im: Image.Image) -> None:
        self.ref_image = mirror_tiled(im)
        if self.metric == "package":
            self.ref_image.save(self.ref)

    def __call__(self, data: bytes) -> float:
        self.count += 1
        distorted = mirror_tiled(Image.open(io.BytesIO(data)).convert("RGB"))
        if self.metric == "vectorised":
            return vectorised_ssimulacra2(self.ref_image, distorted)
        distorted.save(self.dist)
        return package.compute_ssimulacra2(str(self.ref), str(self.dist))


def lowest_quality(score_at, target: float, low: int = 1, high: int = 100) -> int:
    """The lowest quality in [low, high] whose score reaches ``target``, by
    bisection (scores are taken to grow with quality); ``high`` if none does."""
    while low < high:
        middle = (low + high) // 2
        if score_at(middle) >= target:
            high = middle
        else:
            low = middle + 1
    return high


def secant_quality(score_at, target: float, start: int, low: int = 1, high: int = 100) -> int:
    """The same answer as :func:`lowest_quality` when scores grow with quality,
    found from ``start`` (the fixed quality, whose score is known) by stepping
    along the line through the last two scores, then confirming the boundary:
    the answer reaches the target and the quality below it does not."""
    known = {start: score_at(start)}
    guess = start - 10 if known[start] >= target else start + 10
    while True:
        guess = min(high, max(low, guess))
        if guess not in known:
            known[guess] = score_at(guess)
        passing = [q for q in known if known[q] >= target]
        failing = [q for q in known if known[q] < target]
        best = min(passing) if passing else high
        below = max((q for q in failing if q < best), default=low - 1)
        if best - below <= 1 or (not passing and guess == high) or (not failing and guess == low):
            return best if passing else high
        # Interpolate between the tightest known pair around the target.
        q_lo, q_hi = below, best
        if q_lo >= low and q_lo in known and q_hi in known and known[q_hi] != known[q_lo]:
            t = (target - known[q_lo]) / (known[q_hi] - known[q_lo])
            guess = round(q_lo + t * (q_hi - q_lo))
        else:
            guess = (q_lo + q_hi) // 2
        guess = min(q_hi - 1, max(q_lo + 1, guess))


def predicted_quality(score_at, target: float, start: int, low: int = 1, high: int = 100) -> int:
    """A quality that reaches ``target``, not proven the lowest: from the fixed
    quality ``start`` (whose score a build has anyway) and one quality 10
    away, the line through their scores predicts where the target is
    crossed; the prediction is scored, and raised one step at a time until
    it passes. Two or three scores beyond the fixed one, where the secant
    search confirms the boundary with more."""
    first = score_at(start)
    other = max(low, min(high, start - 10 if first >= target else start + 10))
    second = score_at(other)
    slope = (first - second) / (start - other) if second != first else 0.0
    guess = start + (target - first) / slope if slope > 0 else start
    quality = max(low, min(high, math.ceil(guess)))
    while quality < high and score_at(quality) < target:
        quality += 1
    return quality


def proxy_search(proxy: Image.Image, scorer, fmt: str, options: dict, target: float, start: int, search: str) -> int:
    """The quality the search finds for ``proxy``, the photo at the proxy width."""
    scorer.reference(proxy)
    cache: dict[int, float] = {}

    def score_at(quality: int) -> float:
        if quality not in cache:
            cache[quality] = scorer(encode(proxy, fmt, options, quality))
        return cache[quality]

    if search == "secant":
        return secant_quality(score_at, target, start)
    if search == "predict":
        return predicted_quality(score_at, target, start)
    return lowest_quality(score_at, target)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--widths", type=int, nargs="+", default=[480, 768, 992])
    parser.add_argument("--formats", nargs="+", default=["webp", "jpeg", "avif"])
    parser.add_argument(
        "--search", choices=["bisect", "secant", "predict"], default="bisect",
        help="bisection over 1-100, secant steps from the fixed quality, or a prediction from two scores, raised until it passes",
    )
    parser.add_argument(
        "--metric", choices=["package", "vectorised"], default="package",
        help="the ssimulacra2 package, or scripts/ssimulacra2.py (closer to libjxl's tool, and faster)",
    )
    parser.add_argument(
        "--proxy-width", type=int, default=0,
        help="search each photo's quality once per format at this width (the photo resized to it), and give that quality to every wider variant; 0: search each variant",
    )
    args = parser.parse_args()
    encoders = yaml.safe_load((ROOT / "config.yaml").read_text())["encoders"]
    sources = sorted(p for p in args.corpus.iterdir() if p.suffix.lower() in (".jpg", ".png"))
    with tempfile.TemporaryDirectory() as tmp:
        scorer = Scorer(Path(tmp), args.metric)
        references = []
        proxies: dict[str, Image.Image] = {}
        for source in sources:
            with Image.open(source) as opened:
                photo = ImageOps.exif_transpose(opened).convert("RGB")
            for width in args.widths:
                if width <= photo.width:
                    references.append((source.name, width, photo.resize((width, round(width * photo.height / photo.width)), Image.Resampling.LANCZOS)))
            if args.proxy_width:
                proxies[source.name] = photo.resize(
                    (args.proxy_width, round(args.proxy_width * photo.height / photo.width)), Image.Resampling.LANCZOS
                )
        print(f"{len(sources)} photos, widths {args.widths}: {len(references)} variants per format\n")
        print("| format | fixed quality | target (p10 of fixed) | fixed bytes | searched bytes | ratio | worst searched score | scores per search | search time / fixed encode |")
        print("|---|---|---|---|---|---|---|---|---|")
        for fmt in args.formats:
            options = encoders[fmt]
            fixed_quality = int(options["quality"])
            fixed = []
            for name, width, reference in references:
                scorer.reference(reference)
                start = time.perf_counter()
                data = encode(reference, fmt, options, fixed_quality)
                encode_time = time.perf_counter() - start
                fixed.append((len(data), scorer(data), encode_time))
            target = statistics.quantiles([f[1] for f in fixed], n=10)[0]
            searched, worst, counts, ratios = [], [], [], []
            proxy_quality: dict[str, int] = {}
            for (name, width, reference), (_, _, encode_time) in zip(references, fixed):
                scorer.count = 0
                start = time.perf_counter()
                cache: dict[int, tuple[bytes, float]] = {}

                def score_at(quality: int) -> float:
                    if quality not in cache:
                        data = encode(reference, fmt, options, quality)
                        cache[quality] = (data, scorer(data))
                    return cache[quality][1]

                if args.proxy_width and width > args.proxy_width:
                    if name not in proxy_quality:
                        proxy_quality[name] = proxy_search(
                            proxies[name], scorer, fmt, options, target, fixed_quality, args.search
                        )
                    ratios.append((time.perf_counter() - start) / encode_time)
                    quality = proxy_quality[name]
                    scorer.reference(reference)
                    score_at(quality)
                    searched.append(len(cache[quality][0]))
                    worst.append(cache[quality][1])
                    counts.append(0)
                    print(f"  {name} {width} {fmt}: q{quality} scores {cache[quality][1]:.2f}", file=sys.stderr, flush=True)
                    continue
                scorer.reference(reference)
                if args.search == "secant":
                    quality = secant_quality(score_at, target, fixed_quality)
                elif args.search == "predict":
                    quality = predicted_quality(score_at, target, fixed_quality)
                else:
                    quality = lowest_quality(score_at, target)
                score_at(quality)
                ratios.append((time.perf_counter() - start) / encode_time)
                searched.append(len(cache[quality][0]))
                worst.append(cache[quality][1])
                counts.append(scorer.count)
            fixed_bytes, searched_bytes = sum(f[0] for f in fixed), sum(searched)
            print(
                f"| {fmt} | {fixed_quality} | {target:.2f} | {fixed_bytes:,} | {searched_bytes:,} "
                f"| **{searched_bytes / fixed_bytes:.3f}** | {min(worst):.2f} | {statistics.median(counts):.0f} "
                f"| {statistics.median(ratios):.0f}x |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

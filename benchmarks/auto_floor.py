#!/usr/bin/env python3
"""The least an ``auto`` build can cost over a fixed one, if it scores each variant whole.

    uv run python benchmarks/auto_floor.py CORPUS_DIR [--format webp] [--min-width-step 1]

For every source and every width the config plans (``--min-width-step 1``:
every configured width, as benchmarks/auto_build.py builds), in one process
with no scheduler, as benchmarks/floor.py does, this measures the CPU
seconds of:

- the fixed build's work: decode, resample, and encode png and ``--format``
  at the config's quality;
- the parts of one search step on that variant, as scripts/auto_quality.py
  takes them: preparing the reference (``Reference``), one encode, its
  decoding and its score (mirror-tiled under 256 px a side).

Then two floors, each a lower bound for any search that scores every
variant whole and encodes its result once (the encode it checked is the
file it writes):

- one check: the fixed work, plus a reference, a decoding and a score per
  variant (the quality is known in advance and only checked);
- a proof: the fixed work, plus a reference, one more encode and two
  decodings and scores per variant (the chosen quality passes and the one
  below fails, the least that shows it is the lowest).

Prints each part's CPU seconds, and each floor over the fixed work: where a
floor is over 2, issue 24's time bar cannot be met by scoring whole variants
(docs/quality.md, "The time bar").
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections import defaultdict
from pathlib import Path

import yaml
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.floor import resized_targets  # noqa: E402
from scripts.auto_quality import encode  # noqa: E402
from scripts.imageops import image_to_encode  # noqa: E402
from scripts.ssimulacra2 import FULL_SCALES_SIDE, Reference, mirror_tiled  # noqa: E402


def part_cpu(input_dir: Path, out: Path, config: dict, fmt: str) -> dict[str, float]:
    """CPU seconds of each part of the fixed build (benchmarks/floor.py's, with
    png and ``fmt``) and of one search step, summed over every variant of
    ``input_dir`` that ``config`` plans."""
    options = config["encoders"][fmt]
    cpu: dict[str, float] = defaultdict(float)

    def timed(part: str, work):
        start = time.process_time()
        result = work()
        cpu[part] += time.process_time() - start
        return result

    for resized in resized_targets(input_dir, out, {**config, "formats": ["png", fmt]}, cpu):
        ready = image_to_encode(resized, fmt, config["background"])
        tiled = min(ready.size) < FULL_SCALES_SIDE
        reference = timed("reference", lambda: Reference(mirror_tiled(ready) if tiled else ready))
        encoded = timed("encode", lambda: encode(ready, fmt, options, options["quality"]))

        def decoded() -> Image.Image:
            with Image.open(io.BytesIO(encoded)) as im:
                im.load()
                return mirror_tiled(im) if tiled else im.copy()

        distorted = timed("decoding", decoded)
        timed("score", lambda: reference.score(distorted))
    return dict(cpu)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--format", default="webp", choices=["webp", "avif", "jpeg"])
    parser.add_argument("--min-width-step", type=float, default=1.0)
    parser.add_argument("--out", type=Path, default=Path("/tmp/auto_floor"))
    args = parser.parse_args()
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    config["min_width_step"] = args.min_width_step
    if config["encoders"][args.format]["quality"] == "auto":
        msg = f"config.yaml's {args.format} quality is auto: the fixed build needs a number"
        raise SystemExit(msg)
    args.out.mkdir(parents=True, exist_ok=True)
    cpu = part_cpu(args.corpus, args.out, config, args.format)
    fixed = cpu["decode"] + cpu["resize"] + cpu["png"] + cpu[args.format]
    check = fixed + cpu["reference"] + cpu["decoding"] + cpu["score"]
    proof = fixed + cpu["reference"] + cpu["encode"] + 2 * (cpu["decoding"] + cpu["score"])
    print(" ".join(f"{part} {seconds:.2f}" for part, seconds in cpu.items()), "CPU-s")
    print(f"fixed work {fixed:.2f} CPU-s")
    print(f"floor, one check a variant: {check:.2f} CPU-s, {check / fixed:.2f}x the fixed work")
    print(f"floor, a proof a variant:   {proof:.2f} CPU-s, {proof / fixed:.2f}x the fixed work")
    return 0


if __name__ == "__main__":
    sys.exit(main())

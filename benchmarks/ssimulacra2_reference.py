#!/usr/bin/env python3
"""Reference SSIMULACRA2 scores from libjxl's own tool, for tests/test_ssimulacra2.py.

    uv run python benchmarks/ssimulacra2_reference.py --tool PATH/TO/ssimulacra2

libjxl's ``ssimulacra2`` is the metric's reference implementation; it is not
part of the project (build it from libjxl's sources to rerun this). For each
pair that :func:`pairs` makes from the sample photos in input_images/ (a
Lanczos resize as the reference, its WebP or JPEG as the distorted image, each
also mirror-tiled to 256 px a side), it writes libjxl's score to
tests/data/ssimulacra2_reference.json. The test scores the same pairs with the
``ssimulacra2`` package and compares.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.ssimulacra2 import mirror_tiled  # noqa: E402


REFERENCE = ROOT / "tests" / "data" / "ssimulacra2_reference.json"
PHOTOS = ("storm.jpg", "goldfish.png", "twowings.jpg")
WIDTHS = (100, 150, 260, 480)
DISTORTIONS = (("WEBP", 80), ("JPEG", 50))


def pairs() -> Iterator[tuple[str, Image.Image, Image.Image]]:
    """``(name, reference, distorted)`` for every photo, width, distortion and tiling."""
    for photo_name in PHOTOS:
        with Image.open(ROOT / "input_images" / photo_name) as opened:
            photo = ImageOps.exif_transpose(opened).convert("RGB")
        for width in WIDTHS:
            reference = photo.resize((width, round(width * photo.height / photo.width)), Image.Resampling.LANCZOS)
            for fmt, quality in DISTORTIONS:
                buffer = io.BytesIO()
                reference.save(buffer, format=fmt, quality=quality)
                distorted = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
                name = f"{photo_name} {width} {fmt.lower()} q{quality}"
                yield name, reference, distorted
                yield f"{name} tiled", mirror_tiled(reference), mirror_tiled(distorted)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tool", required=True, help="libjxl's ssimulacra2 binary")
    args = parser.parse_args()
    scores = {}
    with tempfile.TemporaryDirectory() as tmp:
        ref_path, dist_path = Path(tmp) / "ref.png", Path(tmp) / "dist.png"
        for name, reference, distorted in pairs():
            reference.save(ref_path)
            distorted.save(dist_path)
            out = subprocess.run([args.tool, str(ref_path), str(dist_path)], capture_output=True, text=True, check=True)
            scores[name] = round(float(out.stdout.split()[-1]), 4)
            print(f"{name}: {scores[name]}")
    REFERENCE.parent.mkdir(parents=True, exist_ok=True)
    REFERENCE.write_text(json.dumps({"tool": "libjxl tools/ssimulacra2", "scores": scores}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

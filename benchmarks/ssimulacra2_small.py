#!/usr/bin/env python3
"""SSIMULACRA2 on small widths: the PyPI package, libjxl's own tool, and both
on the images mirror-tiled to at least 256 px a side.

    uv run --with ssimulacra2 python benchmarks/ssimulacra2_small.py CORPUS_DIR [--tool PATH] [--widths 100 150 260 480]

For each photo and width, the photo resized (Lanczos) is the reference and its
WebP at quality 80 the distorted image. Prints the score of the ``ssimulacra2``
package, of libjxl's ``ssimulacra2`` binary if --tool gives one, and of each
on the pair mirror-tiled: SSIMULACRA2 averages 6 scales, each half the size of
the one before, and stops at the first scale under 8 px a side; the weights of
the scales it skips are then given to the wrong terms. Tiling by mirroring
keeps every pixel's neighbourhood and gives all 6 scales (docs/quality.md).
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.ssimulacra2 import mirror_tiled  # noqa: E402

def tool_score(tool: str, reference: Path, distorted: Path) -> float:
    out = subprocess.run([tool, str(reference), str(distorted)], capture_output=True, text=True, check=True)
    return float(out.stdout.split()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--tool", help="libjxl's ssimulacra2 binary")
    parser.add_argument("--widths", type=int, nargs="+", default=[100, 150, 260, 480, 992])
    args = parser.parse_args()
    from ssimulacra2 import ssimulacra2 as package  # only this command needs it

    sources = sorted(p for p in args.corpus.iterdir() if p.suffix.lower() in (".jpg", ".png"))
    columns = ["package", "package tiled"] + (["libjxl", "libjxl tiled"] if args.tool else [])
    print("| photo | width | " + " | ".join(columns) + " |")
    print("|---|---|" + "---|" * len(columns))
    with tempfile.TemporaryDirectory() as tmp:
        ref_path, dist_path = Path(tmp) / "ref.png", Path(tmp) / "dist.png"
        for source in sources:
            with Image.open(source) as opened:
                photo = ImageOps.exif_transpose(opened).convert("RGB")
            for width in args.widths:
                reference = photo.resize((width, round(width * photo.height / photo.width)), Image.Resampling.LANCZOS)
                buffer = io.BytesIO()
                reference.save(buffer, format="WEBP", quality=80)
                distorted = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
                scores = []
                for tiled in (False, True):
                    pair = (mirror_tiled(reference), mirror_tiled(distorted)) if tiled else (reference, distorted)
                    pair[0].save(ref_path)
                    pair[1].save(dist_path)
                    scores.append(("package", tiled, package.compute_ssimulacra2(str(ref_path), str(dist_path))))
                    if args.tool:
                        scores.append(("libjxl", tiled, tool_score(args.tool, ref_path, dist_path)))
                ordered = sorted(scores, key=lambda s: (s[0] != "package", s[1]))
                print(f"| {source.name} | {width} | " + " | ".join(f"{s[2]:.2f}" for s in ordered) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

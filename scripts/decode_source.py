"""Decode one source image once into the uncompressed rasters its resizes share.

    python scripts/decode_source.py SOURCE LEVEL0 [LEVEL1 ...] [--digests FILE]
        [--max-pixels N] [--log LOG]

LEVEL0 holds the upright, sRGB, 8-bit pixels (see imageops.normalize); each
further level is the previous one box-reduced by 2. Every resize job maps the
smallest level it can resample from instead of decoding the source again.
FILE, written last, lists the SHA-256 of each level (resize jobs depend on it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PIL import Image

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.imageops import SOURCE_FORMATS, normalize, open_source, write_pyramid
from scripts.joblog import run_job


def decode_source(
    source: Path,
    rasters: list[Path],
    max_pixels: int | None = None,
    digests: Path | None = None,
    formats: tuple[str, ...] = SOURCE_FORMATS,
) -> str:
    """Decode ``source``, normalise it and write its pyramid to ``rasters``; describe the result."""
    # Pillow's own check in Image.open() raises only above twice its limit, with
    # its own wording; opening reads the header alone, and the check below, with
    # the config's limit and key, runs before any pixel is decoded.
    Image.MAX_IMAGE_PIXELS = None
    with open_source(source, formats) as im:
        if max_pixels is not None and im.width * im.height > max_pixels:
            msg = (
                f"{im.width}x{im.height} is {im.width * im.height:,} pixels, "
                f"above the limit of {max_pixels:,} (config max_pixels)"
            )
            raise Image.DecompressionBombError(msg)
        original_mode = im.mode
        upright = normalize(im)
        write_pyramid(upright, rasters, digests)
    missing = [str(path) for path in [*rasters, *([digests] if digests else [])] if not path.is_file()]
    if missing:
        msg = f"the decode did not write {', '.join(missing)}"
        raise OSError(msg)
    return (
        f"decoded {source} ({original_mode}) -> {rasters[0]} (+{len(rasters) - 1} levels) "
        f"{upright.width}x{upright.height} {upright.mode}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("rasters", type=Path, nargs="+")
    parser.add_argument("--digests", type=Path, default=None)
    parser.add_argument("--max-pixels", type=int, default=0, help="0: no limit")
    parser.add_argument("--formats", default=",".join(SOURCE_FORMATS), help="allowed decoders, comma-separated")
    parser.add_argument("--log", type=Path, default=None)
    args = parser.parse_args(argv)
    return run_job(
        lambda: decode_source(
            args.source, args.rasters, args.max_pixels or None, args.digests, tuple(args.formats.split(","))
        ),
        args.log,
        str(args.source),
    )


if __name__ == "__main__":
    sys.exit(main())

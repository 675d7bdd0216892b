"""Resize one decoded source to one width and encode it in one format.

    python scripts/resize_image.py RASTER OUTPUT --width W --height H --format F
        [--options JSON] [--background COLOUR] [--log LOG]

RASTER is the pyramid level of the source chosen by the planner.

This is the step Snakemake runs once per target ``results/{stem}_{W}x{H}.{fmt}``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.imageops import calculate_new_height, read_raster, resize_raster, save_image
from scripts.joblog import run_job


def resize_image(
    raster: Path,
    output: Path,
    width: int,
    height: int,
    fmt: str,
    options: dict[str, Any],
    background: str = "#ffffff",
) -> str:
    """Write ``output``: the raster resized to ``width`` x ``height`` as ``fmt``."""
    level = read_raster(raster)
    full_width, full_height = level.full_size
    expected = calculate_new_height(full_width, full_height, width)
    if height != expected:
        msg = (
            f"target height {height} does not match the source's aspect ratio "
            f"({full_width}x{full_height} at width {width} gives height {expected})"
        )
        raise ValueError(msg)
    resized = resize_raster(level, width, height)
    save_image(resized, output, fmt, options, background)
    return f"wrote {output} {width}x{height} {fmt} {output.stat().st_size} bytes"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raster", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--width", type=int, required=True)
    parser.add_argument("--height", type=int, required=True)
    parser.add_argument("--format", dest="fmt", required=True)
    parser.add_argument("--options", type=json.loads, default={})
    parser.add_argument("--background", default="#ffffff")
    parser.add_argument("--log", type=Path, default=None)
    args = parser.parse_args(argv)
    return run_job(
        lambda: resize_image(
            args.raster,
            args.output,
            args.width,
            args.height,
            args.fmt,
            args.options,
            args.background,
        ),
        args.log,
        str(args.output),
    )


if __name__ == "__main__":
    sys.exit(main())

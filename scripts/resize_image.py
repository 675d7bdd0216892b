"""Resize one decoded source to one width and encode it in one format.

This is the step Snakemake runs once per target ``results/{stem}_{W}x{H}.{fmt}``,
in a thread of its own process (rules/resize.smk). It reads only the raster
pyramid the decode step wrote, never the source itself. The command line does
the same in a process of its own:

    python scripts/resize_image.py PYRAMID OUTPUT --level K --width W --height H --format F
        [--options JSON] [--background COLOUR] [--threads N] [--log LOG]

PYRAMID is the source's pyramid digest file, next to its levels, or with object
storage the level file itself; K is the level chosen by the planner.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PIL import Image

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.imageops import (
    Raster,
    calculate_new_height,
    level_path,
    raster_full_size,
    read_raster,
    resize_raster,
    save_image,
)
from scripts.joblog import run_job
from scripts.memo import SharedResults, file_identity


def load_level(path: str, *identity: int) -> Raster:
    return read_raster(Path(path))


def resample(level: tuple, width: int, height: int) -> Image.Image:
    return resize_raster(LEVELS.get(*level), width, height)


#: The jobs of one process (threads of Snakemake's) share what they read and
#: resample (scripts/memo.py): a level is read, and a width resampled, once
#: for all its formats. Sizes in entries (a level is at most 4 bytes a pixel
#: of its source); docs/performance.md has what they save.
LEVELS: SharedResults[Raster] = SharedResults(load_level, size=12)
RESAMPLES: SharedResults[Image.Image] = SharedResults(resample, size=8)


def checked_height(level: Path, width: int, height: int) -> None:
    """ValueError unless ``height`` is the height of the level's source at ``width``."""
    full_width, full_height = raster_full_size(level)
    expected = calculate_new_height(full_width, full_height, width)
    if height != expected:
        msg = (
            f"target height {height} does not match the source's aspect ratio "
            f"({full_width}x{full_height} at width {width} gives height {expected})"
        )
        raise ValueError(msg)


def resize_image(
    pyramid: Path,
    output: Path,
    width: int,
    height: int,
    fmt: str,
    options: Mapping[str, Any],
    background: str = "#ffffff",
    level: int = 0,
    threads: int = 1,
) -> str:
    """Write ``output``: pyramid level ``level`` resized to ``width`` x ``height`` as ``fmt``."""
    path = level_path(pyramid, level)
    checked_height(path, width, height)
    resized = RESAMPLES.get(file_identity(path), width, height)
    save_image(resized, output, fmt, options, background, threads)
    return f"wrote {output} {width}x{height} {fmt} {output.stat().st_size} bytes"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pyramid", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--level", type=int, default=0)
    parser.add_argument("--width", type=int, required=True)
    parser.add_argument("--height", type=int, required=True)
    parser.add_argument("--format", dest="fmt", required=True)
    parser.add_argument("--options", type=json.loads, default={})
    parser.add_argument("--background", default="#ffffff")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--log", type=Path, default=None)
    args = parser.parse_args(argv)
    return run_job(
        lambda: resize_image(
            args.pyramid,
            args.output,
            args.width,
            args.height,
            args.fmt,
            args.options,
            args.background,
            args.level,
            args.threads,
        ),
        args.log,
        str(args.output),
    )


if __name__ == "__main__":
    sys.exit(main())

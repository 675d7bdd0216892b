"""Resize one decoded source to one width and encode it in one format.

    python scripts/resize_image.py PYRAMID OUTPUT --level K --width W --height H --format F
        [--options JSON] [--background COLOUR] [--log LOG]

PYRAMID is the source's pyramid digest file, next to its levels, or with object
storage the level file itself; K is the level chosen by the planner.

This is the step Snakemake runs once per target ``results/{stem}_{W}x{H}.{fmt}``.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.imageops import (
    calculate_new_height,
    level_path,
    raster_full_size,
    read_raster,
    resize_raster,
    save_image,
    write_raster,
)
from scripts.joblog import run_job


def resample_key(output: Path | str) -> str:
    """What the formats of one source and width have in common: the output
    path without its format suffix (results/x_992x655.png -> results/x_992x655)."""
    return str(Path(output).with_suffix(""))


@dataclass(frozen=True)
class SharedResamples:
    """Where the jobs of one run share their resampled images, and how many
    jobs of the run use each one: output path without its format suffix ->
    number of formats to make (only those above 1 are listed)."""

    folder: Path
    users: dict[str, int]

    def users_of(self, output: Path) -> int:
        return self.users.get(resample_key(output), 1)

    @classmethod
    def load(cls, folder: Path, users_file: Path) -> SharedResamples:
        return cls(folder, json.loads(users_file.read_text()))


#: Set by the job server (jobserver.py) for the jobs of one local run; None
#: when a job runs on its own, as on a cluster node, and resamples by itself.
SHARED: SharedResamples | None = None


def shared_resample(level: Path, width: int, height: int, folder: Path, users: int) -> Image.Image:
    """Resample the raster ``level`` to ``width`` x ``height`` once for all the
    formats of a width.

    The first job of a width resamples and stores the pixels in ``folder``;
    the jobs of the other formats map them and never unpack the level. A lock
    makes a job that comes while another one is resampling wait for it rather
    than do the same work.
    The last of the ``users`` jobs removes the stored pixels; whatever a run
    leaves there (a failed job) goes with the run's folder. The key is
    the level file's identity and modification time, so a level written again
    is never confused with an older one.
    """
    stat = level.stat()
    key = f"{stat.st_dev}-{stat.st_ino}-{stat.st_mtime_ns}-{width}x{height}"
    stored, lock_path = folder / f"{key}.raster", folder / f"{key}.lock"
    folder.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "ab") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            resized = read_raster(stored).image
        except (OSError, ValueError):
            resized = resize_raster(read_raster(level), width, height)
            write_raster(resized, stored, (width, height), 1)
        lock.write(b".")
        lock.flush()
        if lock.tell() >= users:
            stored.unlink(missing_ok=True)  # the mapping stays valid
            lock_path.unlink(missing_ok=True)
    return resized


def resize_image(
    pyramid: Path,
    output: Path,
    width: int,
    height: int,
    fmt: str,
    options: dict[str, Any],
    background: str = "#ffffff",
    level: int = 0,
    shared: SharedResamples | None = None,
) -> str:
    """Write ``output``: pyramid level ``level`` resized to ``width`` x ``height`` as ``fmt``."""
    path = level_path(pyramid, level)
    full_width, full_height = raster_full_size(path)
    expected = calculate_new_height(full_width, full_height, width)
    if height != expected:
        msg = (
            f"target height {height} does not match the source's aspect ratio "
            f"({full_width}x{full_height} at width {width} gives height {expected})"
        )
        raise ValueError(msg)
    users = 1 if shared is None else shared.users_of(output)
    if users < 2:
        resized = resize_raster(read_raster(path), width, height)
    else:
        resized = shared_resample(path, width, height, shared.folder, users)
    save_image(resized, output, fmt, options, background)
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
            SHARED,
        ),
        args.log,
        str(args.output),
    )


if __name__ == "__main__":
    sys.exit(main())

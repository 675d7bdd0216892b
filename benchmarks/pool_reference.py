#!/usr/bin/env python3
"""Reference: the hand-rolled approach this project replaces (kept for comparisons).

A plain ProcessPoolExecutor over (image, width, format) tasks, as in the
original batch-resize exercise and ../shared/bench/pool_baseline.py: every task
opens and decodes its source, resizes with LANCZOS and saves it.

Two changes from pool_baseline.py make the comparison like for like with the
workflow's default config, and nothing else: it makes the same set of files
(widths wider than the source are replaced by the source's own width), and it
passes the same encoder settings to Image.save (--encoders, JSON). PNG settings
with the workflow's own `"deflate"` (libdeflate or zlib-ng) are saved as the
workflow saves them (scripts/imageops.py's save_image: Pillow filters the
rows, that library deflates them).

    python pool_reference.py SRC_DIR OUT_DIR WORKERS [--widths 4000,...] [--formats png,webp]
                             [--encoders '{"png": {...}}']

WORKERS=1 runs sequentially in-process. Prints one line: tasks, seconds, bytes written.
"""

import argparse
import json
import math
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent

DEFAULT_WIDTHS = [4000, 2500, 1928, 992, 768, 576, 480, 260, 150, 100, 50]
DEFAULT_FORMATS = ["png", "webp"]
SOURCE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff"}
PILLOW_FORMATS = {"png": "PNG", "webp": "WEBP", "avif": "AVIF", "jpeg": "JPEG"}


def new_height(width, height, new_width):
    return max(1, math.ceil(new_width * height / width))


def workflow_save_image():
    """The workflow's own save_image (scripts/imageops.py), imported on first use."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from scripts.imageops import save_image

    return save_image


def resize_one(task):
    src, out_dir, new_width, fmt, options = task
    with Image.open(src) as im:
        h = new_height(im.width, im.height, new_width)
        out = Path(out_dir) / f"{Path(src).stem}_{new_width}x{h}.{fmt}"
        resized = im.resize((new_width, h), Image.Resampling.LANCZOS)
        if fmt == "jpeg" and resized.mode != "RGB":
            resized = resized.convert("RGB")
        if options.get("deflate", "zlib") != "zlib":
            workflow_save_image()(resized, out, fmt, options)
        else:
            resized.save(out, format=PILLOW_FORMATS[fmt], **options)
    return out.stat().st_size


def widths_for(source_width, widths):
    kept = {w for w in widths if w <= source_width}
    if len(kept) < len(set(widths)):
        kept.add(source_width)
    return sorted(kept, reverse=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("out")
    ap.add_argument("workers", type=int)
    ap.add_argument("--widths", default=",".join(map(str, DEFAULT_WIDTHS)))
    ap.add_argument("--formats", default=",".join(DEFAULT_FORMATS))
    ap.add_argument("--encoders", type=json.loads, default={})
    a = ap.parse_args()
    widths = [int(w) for w in a.widths.split(",")]
    formats = a.formats.split(",")
    Path(a.out).mkdir(parents=True, exist_ok=True)
    tasks = []
    for src in sorted(Path(a.src).iterdir()):
        if src.suffix.lower() not in SOURCE_SUFFIXES:
            continue
        with Image.open(src) as im:
            width = im.width
        tasks += [
            (str(src), a.out, w, f, a.encoders.get(f, {}))
            for w in widths_for(width, widths)
            for f in formats
        ]
    t = time.perf_counter()
    if a.workers == 1:
        sizes = [resize_one(x) for x in tasks]
    else:
        with ProcessPoolExecutor(a.workers) as ex:
            sizes = list(ex.map(resize_one, tasks))
    print(f"{len(tasks)} tasks {time.perf_counter() - t:.2f} s {sum(sizes)} bytes")


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Deflate back-ends for the PNG variants: CPU time and bytes on the same filtered rows.

    uv run --with deflate --with isal python benchmarks/png_deflate.py CORPUS_DIR

Decodes each source of CORPUS_DIR, resamples it to every planned width (the
workflow's pyramid levels and Lanczos) and lets Pillow filter the rows of each
PNG variant (`compress_level=0`, as the workflow does). Each back-end then
deflates those same rows. Printed: CPU seconds and total bytes against zlib's
level 6 with Pillow's strategy (what Pillow, and so the reference pool, does),
and how many files come out larger than that. libdeflate (the `deflate`
package) and ISA-L (`isal`) are not dependencies of the workflow: without
them their rows are skipped.
"""

from __future__ import annotations

import io
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import yaml
from PIL import Image
from zlib_ng import zlib_ng

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.imageops import (  # noqa: E402
    RASTER_LEVELS,
    Raster,
    _png_chunks,
    calculate_new_height,
    normalize,
    pyramid_level,
    resize_raster,
)
from scripts.plan import find_sources, planned_widths  # noqa: E402


def filtered_rows(corpus: Path, config: dict) -> list[bytes]:
    """The filtered (not yet deflated) rows of every PNG variant of the corpus."""
    rows = []
    for path in find_sources(corpus).values():
        with Image.open(path) as im:
            levels = [normalize(im)]
        while len(levels) < RASTER_LEVELS:
            levels.append(levels[-1].reduce(2))
        full_width, full_height = levels[0].size
        for width in planned_widths(full_width, config["widths"], config["allow_upscale"], config["min_width_step"]):
            height = calculate_new_height(full_width, full_height, width)
            index = pyramid_level(full_width, width, config["reducing_gap"], RASTER_LEVELS)
            resized = resize_raster(Raster(levels[index], levels[0].size, 2**index), width, height)
            buffer = io.BytesIO()
            resized.save(buffer, format="PNG", compress_level=0)
            stored = b"".join(bytes(data) for kind, data in _png_chunks(buffer.getvalue()) if kind == b"IDAT")
            rows.append(zlib.decompress(stored))
    return rows


def zlib_like(module, level: int) -> Callable[[bytes], bytes]:
    """Deflate as Pillow asks zlib to: ``level``, Z_FILTERED, memory level 9."""

    def compress(data: bytes) -> bytes:
        deflate = module.compressobj(level, module.DEFLATED, 15, 9, module.Z_FILTERED)
        return deflate.compress(data) + deflate.flush()

    return compress


def back_ends() -> dict[str, Callable[[bytes], bytes]]:
    candidates: dict[str, Callable[[bytes], bytes]] = {"zlib level 6 (Pillow, the pool)": zlib_like(zlib, 6)}
    for level in range(1, 9):
        candidates[f"zlib-ng level {level}"] = zlib_like(zlib_ng, level)
    try:
        import deflate
    except ImportError:
        print("libdeflate: not installed (uv run --with deflate ...)")
    else:
        for level in (6, 7, 8):
            candidates[f"libdeflate level {level}"] = lambda data, level=level: deflate.zlib_compress(data, level)
    try:
        from isal import isal_zlib
    except ImportError:
        print("ISA-L: not installed (uv run --with isal ...)")
    else:
        for level in (1, 3):
            candidates[f"ISA-L level {level}"] = lambda data, level=level: isal_zlib.compress(data, level)
    return candidates


def main() -> int:
    corpus = Path(sys.argv[1])
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    rows = filtered_rows(corpus, config)
    print(f"{len(rows)} PNG variants, {sum(map(len, rows)):,} bytes of filtered rows")
    print(f"{'back-end':32} {'CPU s':>7} {'time':>6} {'bytes':>12} {'bytes':>7} {'files larger':>13}")
    base_time, base_sizes = None, None
    for name, compress in back_ends().items():
        start = time.process_time()
        sizes = [len(compress(data)) for data in rows]
        cpu = time.process_time() - start
        if base_sizes is None:
            base_time, base_sizes = cpu, sizes
        larger = [new / old for new, old in zip(sizes, base_sizes) if new > old]
        worst = f" (up to +{(max(larger) - 1) * 100:.1f}%)" if larger else ""
        print(
            f"{name:32} {cpu:7.2f} {cpu / base_time:5.2f}x {sum(sizes):12,} {sum(sizes) / sum(base_sizes):6.3f}x"
            f" {len(larger):>4}{worst}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

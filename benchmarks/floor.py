#!/usr/bin/env python3
"""The floor: decode each source once, then resize and encode every target in
one process, with no scheduler and no files in between.

    uv run python benchmarks/floor.py CORPUS_DIR OUT_DIR

Same targets and encoder settings as the workflow; each width is resampled
once, with Lanczos and Pillow's own reducing_gap (config.yaml), the in-memory
equivalent of the workflow's raster pyramid. Prints the CPU seconds spent decoding, resampling and
encoding each format: no per-target pipeline can do less work than this.
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import yaml
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.imageops import normalize, save_image  # noqa: E402
from scripts.plan import find_sources, plan_targets  # noqa: E402


def resized_targets(input_dir: Path, out: Path, config: dict, cpu: dict[str, float]) -> Iterator[Image.Image]:
    """Decode every source in ``input_dir``, resample it to each width ``config``
    plans and write each format of that width to ``out``, adding the CPU
    seconds of each part to ``cpu`` (decode, resize, and each format);
    yield each width's resample once its files are written."""
    gap = config["reducing_gap"] or None
    for stem, path in find_sources(input_dir).items():
        start = time.process_time()
        with Image.open(path) as im:
            upright = normalize(im)
        cpu["decode"] += time.process_time() - start
        targets = plan_targets({stem: upright.size}, config["widths"], config["formats"], config["allow_upscale"], config["min_width_step"])
        for width, height in sorted({(t.width, t.height) for t in targets}, reverse=True):
            start = time.process_time()
            resized = upright.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=gap)
            cpu["resize"] += time.process_time() - start
            for fmt in config["formats"]:
                start = time.process_time()
                save_image(resized, out / f"{stem}_{width}x{height}.{fmt}", fmt, config["encoders"][fmt])
                cpu[fmt] += time.process_time() - start
            yield resized


def floor_cpu(input_dir: Path, out: Path, config: dict) -> dict[str, float]:
    """CPU seconds of decoding, resampling and each format's encoding, for every
    source in ``input_dir`` and the targets ``config`` plans for it, written to ``out``."""
    cpu: dict[str, float] = defaultdict(float)
    for _ in resized_targets(input_dir, out, config, cpu):
        pass
    return dict(cpu)


def main() -> int:
    corpus, out = Path(sys.argv[1]), Path(sys.argv[2])
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    cpu = floor_cpu(corpus, out, config)
    print(" ".join(f"{name} {seconds:.1f} s" for name, seconds in cpu.items()), f"total {sum(cpu.values()):.1f} CPU-s")
    return 0

if __name__ == "__main__":
    sys.exit(main())

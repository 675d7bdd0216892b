#!/usr/bin/env python3
"""What ``min_width_step`` (config.yaml) drops, for sources of every width.

    uv run python benchmarks/width_step.py [--steps 1 1.1 1.2 1.25 1.33 1.5] [--from 300] [--to 6000]

For each source width from --from to --to (every 8 px) and the configured
widths, plans the widths with each step value, and prints: how many sources
lose a width, the variants and the pixels dropped (bytes follow pixels for a
given photo and format), and the largest ratio between two neighbouring
widths that planning leaves (what a srcset has to bridge: a browser then
downloads up to that many times the width it needs). The configured widths'
own largest step is the yardstick: a value of min_width_step that never
makes a gap larger than it costs no srcset quality.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.plan import planned_widths  # noqa: E402


def largest_gap(widths: list[int]) -> float:
    ordered = sorted(widths)
    return max((b / a for a, b in zip(ordered, ordered[1:])), default=1.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=float, nargs="+", default=[1.0, 1.1, 1.2, 1.25, 1.33, 1.5])
    parser.add_argument("--from", dest="low", type=int, default=300)
    parser.add_argument("--to", dest="high", type=int, default=6000)
    args = parser.parse_args()
    widths = yaml.safe_load((ROOT / "config.yaml").read_text())["widths"]
    sources = range(args.low, args.high + 1, 8)
    print(f"configured widths {sorted(widths)}: largest step {largest_gap(widths):.2f}")
    print(f"{len(sources)} source widths, {args.low}-{args.high} px\n")
    print("| min_width_step | sources losing a width | variants dropped | pixels dropped | largest gap left |")
    print("|---|---|---|---|---|")
    base = {w: planned_widths(w, widths) for w in sources}
    base_pixels = sum(x * x for ws in base.values() for x in ws)
    base_count = sum(len(ws) for ws in base.values())
    for step in args.steps:
        planned = {w: planned_widths(w, widths, min_width_step=step) for w in sources}
        losing = sum(len(planned[w]) < len(base[w]) for w in sources)
        dropped = base_count - sum(len(ws) for ws in planned.values())
        pixels = base_pixels - sum(x * x for ws in planned.values() for x in ws)
        gap = max(largest_gap(ws) for ws in planned.values())
        print(
            f"| {step:g} | {losing} of {len(sources)} | {dropped} of {base_count} ({dropped / base_count:.1%}) "
            f"| {pixels / base_pixels:.1%} | {gap:.2f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

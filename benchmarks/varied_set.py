#!/usr/bin/env python3
"""A varied benchmark set: screenshots and flat graphics beside the photos.

    uv run python benchmarks/varied_set.py OUT_DIR [--photos ../shared/corpus]

The photo corpus has only photos; a fixed quality serves screenshots (text
with sharp edges) and flat graphics (a few colours, large even areas) worst.
This writes four such images, drawn with Pillow alone so the set is the same
on every machine, and copies the photos beside them:

- ``screenshot.png``: a page of text lines, buttons and a sidebar, 2400x1500;
- ``chart.png``: a bar chart with axes, grid lines and labels, 2000x1250;
- ``flat.png``: overlapping flat shapes in a few colours, 2560x1440;
- ``diagram.png``: boxes, arrows and captions on white, 1800x1200.
"""

from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont


def font(size: int) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def screenshot(rng: random.Random) -> Image.Image:
    im = Image.new("RGB", (2400, 1500), "#f6f7f9")
    draw = ImageDraw.Draw(im)
    draw.rectangle((0, 0, 2400, 90), fill="#24292f")
    draw.text((40, 25), "responsive-images  ·  Dashboard  ·  Builds  ·  Settings", fill="#ffffff", font=font(36))
    draw.rectangle((0, 90, 420, 1500), fill="#eaeef2")
    for row in range(18):
        draw.text((40, 130 + row * 70), f"results/photo_{rng.randint(50, 4000)}.webp", fill="#1f2328", font=font(26))
    words = "the build resizes every source into each width and format a srcset needs and rebuilds only what changed".split()
    for line in range(30):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(8, 14)))
        draw.text((480, 130 + line * 42), text, fill="#1f2328", font=font(28))
    for button in range(4):
        x = 480 + button * 300
        draw.rounded_rectangle((x, 1400, x + 260, 1460), radius=12, fill=("#2da44e", "#0969da", "#cf222e", "#8250df")[button])
        draw.text((x + 30, 1412), ("Build", "Deploy", "Delete", "Report")[button], fill="#ffffff", font=font(30))
    return im


def chart(rng: random.Random) -> Image.Image:
    im = Image.new("RGB", (2000, 1250), "#ffffff")
    draw = ImageDraw.Draw(im)
    for y in range(150, 1101, 95):
        draw.line((160, y, 1900, y), fill="#d0d7de", width=2)
        draw.text((40, y - 18), f"{(1100 - y) // 95 * 10}", fill="#57606a", font=font(32))
    draw.line((160, 1100, 1900, 1100), fill="#24292f", width=4)
    draw.line((160, 150, 160, 1100), fill="#24292f", width=4)
    for bar in range(12):
        height = rng.randint(100, 900)
        x = 200 + bar * 140
        draw.rectangle((x, 1100 - height, x + 90, 1100), fill=("#0969da", "#2da44e", "#bf8700")[bar % 3])
        draw.text((x + 10, 1120), f"W{bar + 1}", fill="#24292f", font=font(30))
    draw.text((700, 40), "Bytes per format and width", fill="#24292f", font=font(48))
    return im


def flat(rng: random.Random) -> Image.Image:
    im = Image.new("RGB", (2560, 1440), "#fde68a")
    draw = ImageDraw.Draw(im)
    colours = ["#ef4444", "#3b82f6", "#10b981", "#8b5cf6", "#f97316", "#111827"]
    for _ in range(40):
        x, y = rng.randint(-200, 2400), rng.randint(-200, 1300)
        size = rng.randint(120, 600)
        shape = rng.choice(("ellipse", "rectangle", "polygon"))
        colour = rng.choice(colours)
        if shape == "ellipse":
            draw.ellipse((x, y, x + size, y + size), fill=colour)
        elif shape == "rectangle":
            draw.rectangle((x, y, x + size, y + size // 2), fill=colour)
        else:
            draw.polygon([(x, y + size), (x + size // 2, y), (x + size, y + size)], fill=colour)
    return im


def diagram(rng: random.Random) -> Image.Image:
    im = Image.new("RGB", (1800, 1200), "#ffffff")
    draw = ImageDraw.Draw(im)
    boxes = [(100 + col * 560, 150 + row * 420) for row in range(2) for col in range(3)]
    names = ["decode_source", "choose_quality", "resize_image", "describe_source", "manifest", "gallery"]
    for (x, y), name in zip(boxes, names):
        draw.rounded_rectangle((x, y, x + 440, y + 220), radius=24, outline="#0969da", width=6, fill="#ddf4ff")
        draw.text((x + 30, y + 90), name, fill="#0a3069", font=font(40))
    for (x, y), (nx, ny) in zip(boxes, boxes[1:]):
        draw.line((x + 440, y + 110, nx, ny + 110), fill="#57606a", width=5)
    draw.text((100, 60), "How one source becomes its variants", fill="#24292f", font=font(44))
    return im


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--photos", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "corpus")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(24)
    for name, draw in (("screenshot", screenshot), ("chart", chart), ("flat", flat), ("diagram", diagram)):
        draw(rng).save(args.out / f"{name}.png")
    for photo in sorted(args.photos.iterdir()):
        if photo.suffix.lower() in (".jpg", ".png"):
            shutil.copy2(photo, args.out / photo.name)
    print(f"wrote {args.out}: 4 drawn images and the photos of {args.photos}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

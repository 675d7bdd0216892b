"""A source's placeholder: what a page shows in the image's box until it loads.

Two values per source, from its narrowest variant at least PLACEHOLDER_SIZE
wide (already upright and sRGB): ``color``, the mean colour of its opaque pixels as ``#rrggbb``, and
``placeholder``, a tiny blurred preview as a ``data:`` URI of at most
PLACEHOLDER_MAX_BYTES, with the source's aspect ratio. A browser scales the
preview up smoothly to the box, which blurs it. The size and encoding are the
ones benchmarks/placeholders.py found best per byte (docs/web-delivery.md).
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

from PIL import Image, ImageStat

from scripts.formats import FORMATS

#: The preview's longer side, in pixels, and its WebP quality: on the corpus,
#: the knee of resemblance per byte (about 400 bytes; docs/web-delivery.md).
PLACEHOLDER_SIZE = 48
PLACEHOLDER_QUALITY = 50
PLACEHOLDER_FORMAT = "webp"
#: The most bytes a placeholder's data URI may take.
PLACEHOLDER_MAX_BYTES = 2000


def has_transparency(im: Image.Image) -> bool:
    """Whether any pixel is less than opaque (a placeholder behind it would show)."""
    if im.mode not in ("RGBA", "LA", "PA") and "transparency" not in im.info:
        return False
    alpha = im.convert("RGBA").getchannel("A")
    return alpha.getextrema()[0] < 255


def mean_color(im: Image.Image) -> str:
    """``#rrggbb``: the mean of the pixels, each weighted by its alpha
    (premultiplied sums, so a transparent pixel's colour counts for nothing)."""
    sums = ImageStat.Stat(im.convert("RGBA").convert("RGBa")).sum
    alpha = sums[3]
    if alpha == 0:
        return "#000000"
    return "#{:02x}{:02x}{:02x}".format(*(min(255, round(c * 255 / alpha)) for c in sums[:3]))


def preview_size(size: tuple[int, int], longest: int) -> tuple[int, int]:
    """The preview's size: the image's aspect ratio in a ``longest`` square
    (never larger than the image), each side at least 1."""
    scale = min(1.0, longest / max(size))
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def data_uri(data: bytes, fmt: str) -> str:
    return f"data:{FORMATS[fmt].mime};base64," + base64.b64encode(data).decode("ascii")


def encode_preview(im: Image.Image, longest: int, fmt: str, quality: int) -> str:
    """The image shrunk into a ``longest`` square and encoded as a ``data:`` URI."""
    small = im.convert("RGB").resize(preview_size(im.size, longest), Image.Resampling.BOX)
    buffer = io.BytesIO()
    options = {"quality": quality} if fmt != "png" else {"optimize": True}
    small.save(buffer, format=FORMATS[fmt].pillow, **options)
    return data_uri(buffer.getvalue(), fmt)


def placeholder_uri(im: Image.Image) -> str:
    """The preview of ``im`` as a ``data:`` URI of at most PLACEHOLDER_MAX_BYTES:
    PLACEHOLDER_SIZE on its longer side, smaller if it would not fit."""
    longest = PLACEHOLDER_SIZE
    while True:
        uri = encode_preview(im, longest, PLACEHOLDER_FORMAT, PLACEHOLDER_QUALITY)
        if len(uri) <= PLACEHOLDER_MAX_BYTES or longest == 1:
            return uri
        longest = max(1, longest // 2)


def placeholder_variant(variants: list[tuple[Path, int]]) -> Path:
    """Of ``(path, width)`` pairs, the narrowest at least PLACEHOLDER_SIZE wide
    (the widest if none is): the cheapest to decode that has the pixels."""
    wide_enough = [v for v in variants if v[1] >= PLACEHOLDER_SIZE]
    if wide_enough:
        return min(wide_enough, key=lambda v: v[1])[0]
    return max(variants, key=lambda v: v[1])[0]


def describe_placeholder(variant: Path) -> dict[str, str | bool]:
    """``color``, ``placeholder`` and ``opaque`` (whether the image has no
    transparent pixel) of the image in ``variant``."""
    with Image.open(variant) as im:
        im.load()
        return {"color": mean_color(im), "placeholder": placeholder_uri(im), "opaque": not has_transparency(im)}

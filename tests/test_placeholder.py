"""Unit tests of scripts/placeholder.py: the colour and preview a page shows
until an image loads. In the browser: tests/test_sites.py and
tests/test_gallery_browser.py, with the image requests held back."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from PIL import Image

from scripts.placeholder import (
    PLACEHOLDER_MAX_BYTES,
    PLACEHOLDER_SIZE,
    describe_placeholder,
    has_transparency,
    mean_color,
    placeholder_uri,
    placeholder_variant,
    preview_size,
)


def decode(uri: str) -> Image.Image:
    head, data = uri.split(",", 1)
    assert head == "data:image/webp;base64"
    return Image.open(io.BytesIO(base64.b64decode(data)))


def halves(left, right, size=(40, 20), mode="RGB") -> Image.Image:
    im = Image.new(mode, size, left)
    im.paste(Image.new(mode, (size[0] // 2, size[1]), right), (size[0] // 2, 0))
    return im


@pytest.mark.parametrize(
    ("im", "expected"),
    [
        (Image.new("RGB", (5, 5), (10, 20, 30)), "#0a141e"),
        (halves((0, 0, 0), (255, 255, 255)), "#808080"),  # 127.5, rounded to 128
        (halves((255, 0, 0, 255), (0, 0, 255, 0), mode="RGBA"), "#ff0000"),  # transparent half counts for nothing
        (halves((255, 0, 0, 255), (0, 0, 255, 85), mode="RGBA"), "#bf0040"),  # weighted 3:1
        (Image.new("L", (3, 3), 200), "#c8c8c8"),
        (Image.new("RGBA", (3, 3), (9, 9, 9, 0)), "#000000"),
    ],
)
def test_mean_color_weights_each_pixel_by_its_alpha(im, expected):
    assert mean_color(im) == expected


@pytest.mark.parametrize(
    ("im", "expected"),
    [
        (Image.new("RGB", (4, 4)), False),
        (Image.new("RGBA", (4, 4), (0, 0, 0, 255)), False),
        (halves((0, 0, 0, 255), (0, 0, 0, 254), mode="RGBA"), True),
        (Image.new("LA", (4, 4), (0, 0)), True),
    ],
)
def test_has_transparency(im, expected):
    assert has_transparency(im) is expected


@pytest.mark.parametrize(
    ("size", "expected"),
    [((4000, 2667), (48, 32)), ((1000, 3000), (16, 48)), ((20, 10), (20, 10)), ((10000, 10), (48, 1))],
)
def test_preview_keeps_the_aspect_ratio_in_a_square(size, expected):
    assert preview_size(size, 48) == expected


@pytest.mark.parametrize("size", [(3000, 2000), (40, 6000), (6000, 40), (1, 1)])
def test_placeholder_is_a_small_webp_data_uri_of_the_image(size):
    im = Image.effect_noise(size, 80).convert("RGB")  # noise: the hardest preview to compress
    uri = placeholder_uri(im)
    assert len(uri) <= PLACEHOLDER_MAX_BYTES
    preview = decode(uri)
    assert max(preview.size) <= PLACEHOLDER_SIZE
    assert preview.size == preview_size(size, PLACEHOLDER_SIZE)


def test_placeholder_shows_the_images_layout():
    preview = decode(placeholder_uri(halves((0, 0, 0), (255, 255, 255), size=(400, 200)))).convert("L")
    assert preview.getpixel((2, 10)) < 40 and preview.getpixel((preview.width - 3, 10)) > 215


def test_placeholder_variant_is_the_narrowest_with_enough_pixels():
    paths = [(Path(f"a_{w}.webp"), w) for w in (20, 50, 100, 800)]
    assert placeholder_variant(paths) == Path("a_50.webp")
    assert placeholder_variant(paths[:1]) == Path("a_20.webp")


def test_describe_placeholder_reads_a_variant(tmp_path):
    path = tmp_path / "a_50x25.png"
    halves((255, 0, 0, 255), (0, 0, 255, 0), size=(50, 25), mode="RGBA").save(path)
    look = describe_placeholder(path)
    assert look["color"] == "#ff0000" and look["opaque"] is False
    assert look["placeholder"].startswith("data:image/webp;base64,")

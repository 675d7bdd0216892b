"""The output formats and how variants are named: the one place that defines them.

Each format is one row of ``FORMATS`` (in the spirit of eleventy-img's table of
defaults per format); everything else (the Snakefile's wildcard constraint,
the planner, the encoder, the web files, the orphan check) reads it from here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Format:
    """One output format, keyed by the extension used in target names."""

    #: Pillow's name for it (``Image.save(format=...)``).
    pillow: str
    #: The Pillow plugin that encodes it: importing only that one saves the
    #: ~70 ms Pillow spends importing all its plugins.
    plugin: str
    mime: str
    #: Whether the encoder keeps an alpha channel (else it is flattened).
    alpha: bool
    #: Whether the encoder takes Pillow's ``max_threads`` (its own thread pool).
    threaded: bool
    #: Relative CPU cost of encoding one megapixel with the default settings,
    #: for the scheduler's priorities (docs/performance.md has the measurement).
    cost: float
    #: Where a ``quality: auto`` search starts (the default fixed quality), or
    #: None for a format without a lossy quality (scripts/auto_quality.py).
    start_quality: int | None = None
    #: The highest quality a search may choose: Pillow's advice for JPEG is
    #: 95 at most (above, files grow for hardly any gain), as the config's.
    max_quality: int = 100
    #: Encoder settings an ``auto`` search turns to when no quality reaches
    #: the target (full chroma, or WebP's lossless mode): sharp coloured
    #: edges, as in screenshots and flat graphics, need them.
    exact: tuple[tuple[str, object], ...] = ()


FORMATS: dict[str, Format] = {
    "png": Format("PNG", "PIL.PngImagePlugin", "image/png", alpha=True, threaded=False, cost=22),
    "webp": Format("WEBP", "PIL.WebPImagePlugin", "image/webp", alpha=True, threaded=False, cost=6, start_quality=80, exact=(("lossless", True),)),
    "avif": Format("AVIF", "PIL.AvifImagePlugin", "image/avif", alpha=True, threaded=True, cost=25, start_quality=60, exact=(("subsampling", "4:4:4"),)),
    "jpeg": Format("JPEG", "PIL.JpegImagePlugin", "image/jpeg", alpha=False, threaded=False, cost=1, start_quality=82, max_quality=95, exact=(("subsampling", 0),)),
}

#: The formats whose quality may be ``auto``.
AUTO_QUALITY_FORMATS = tuple(name for name, spec in FORMATS.items() if spec.start_quality is not None)

#: Snakemake's wildcard constraint for ``{fmt}``.
FORMAT_PATTERN = "|".join(FORMATS)

_VARIANT_NAME = re.compile(
    rf"^(?P<stem>.+)_(?P<width>[1-9][0-9]*)x(?P<height>[1-9][0-9]*)\.(?P<fmt>{FORMAT_PATTERN})$"
)


def variant_name(stem: str, width: int, height: int, fmt: str) -> str:
    """The file name of one variant: ``{stem}_{width}x{height}.{fmt}``."""
    return f"{stem}_{width}x{height}.{fmt}"


def parse_variant_name(name: str) -> tuple[str, int, int, str]:
    """``(stem, width, height, format)`` of a variant's file name."""
    match = _VARIANT_NAME.match(name)
    if match is None:
        msg = f"{name!r} is not a variant name of the form STEM_WxH.FORMAT"
        raise ValueError(msg)
    return match["stem"], int(match["width"]), int(match["height"]), match["fmt"]


def is_variant_name(name: str) -> bool:
    return _VARIANT_NAME.match(name) is not None

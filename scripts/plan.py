"""Target planning: which sources exist and which files the workflow makes of them.

Used by ``rules/common.smk`` while Snakemake parses the workflow, so it only
reads image headers (no pixel is decoded) and does no other I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
import hashlib
import os
from functools import cache
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from scripts.formats import FORMATS, variant_name
from scripts.imageops import SOURCE_FORMATS, calculate_new_height, open_source, oriented_size

#: Source file extensions, compared case-insensitively; other files are ignored.
SOURCE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".gif"})


@dataclass(frozen=True, order=True)
class Target:
    """One output file: ``{stem}_{width}x{height}.{fmt}``."""

    stem: str
    width: int
    height: int
    fmt: str

    @property
    def name(self) -> str:
        return variant_name(self.stem, self.width, self.height, self.fmt)


#: Characters Snakemake reads as wildcards ``{}`` or path variables ``<>`` in a path.
UNUSABLE_CHARACTERS = frozenset("{}<>")


def is_source_file(path: Path) -> bool:
    """An image file by its extension, not hidden, not a folder."""
    return not path.name.startswith(".") and path.suffix.lower() in SOURCE_SUFFIXES and path.is_file()


def has_unusable_name(path: Path) -> bool:
    """Whether Snakemake would misread ``path``'s name as wildcards or path variables."""
    return bool(UNUSABLE_CHARACTERS & set(path.name))


def unusable_sources(input_dir: Path) -> list[Path]:
    """Source files whose names Snakemake would misread as wildcards; they are skipped."""
    if not input_dir.is_dir():
        return []
    return sorted(path for path in input_dir.iterdir() if is_source_file(path) and has_unusable_name(path))


def find_sources(input_dir: Path) -> dict[str, Path]:
    """Map each source's stem to its path, for the image files directly in ``input_dir``.

    Hidden files and files with other extensions are ignored, and so are the
    names listed by :func:`unusable_sources`. Two sources with the same stem
    would write the same targets, so they are refused.
    """
    if not input_dir.is_dir():
        return {}
    sources: dict[str, Path] = {}
    for path in sorted(input_dir.iterdir()):
        if not is_source_file(path) or has_unusable_name(path):
            continue
        if path.stem in sources:
            msg = (
                f"{sources[path.stem]} and {path} have the same stem {path.stem!r} "
                "and would write the same targets; rename one of them"
            )
            raise ValueError(msg)
        sources[path.stem] = path
    return sources


def partition_of(stem: str, partitions: int) -> int:
    """The partition (0 to ``partitions`` - 1) a source belongs to: from a hash
    of its stem alone, so adding or removing other sources never moves it."""
    if partitions < 1:
        msg = f"partitions must be at least 1, not {partitions}"
        raise ValueError(msg)
    digest = hashlib.sha256(stem.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % partitions


@cache
def probe_size(path: Path, formats: tuple[str, ...] = SOURCE_FORMATS) -> tuple[int, int] | None:
    """Upright (EXIF-rotated) size of an image from its header, or None if unreadable.

    Only the header is read, so an image of any size gets its size: its decode
    job is the one that refuses it above max_pixels, naming the limit. A file of
    a format not in ``formats`` is not opened: its decode job names it.
    """
    Image.MAX_IMAGE_PIXELS = None
    try:
        with open_source(path, formats) as im:
            return oriented_size(im)
    except (OSError, SyntaxError, ValueError, UnidentifiedImageError):
        return None


def planned_widths(
    source_width: int, widths: Iterable[int], allow_upscale: bool = False, min_width_step: float = 1.0
) -> list[int]:
    """Widths to make of a source ``source_width`` pixels wide, largest first.

    Without upscaling, configured widths wider than the source are dropped and
    the source's own width is made instead, so the largest available size is
    always there (as eleventy-img does). A configured width that the source's
    own width then exceeds by less than ``min_width_step`` times is dropped
    too, as a near duplicate of it (a 2000 px source gets 2000, not also
    1928); 1 keeps every width.
    """
    wanted = set(widths)
    if not allow_upscale and any(width > source_width for width in wanted):
        wanted = {
            width for width in wanted if width <= source_width and source_width >= width * min_width_step
        } | {source_width}
    return sorted(wanted, reverse=True)


def plan_targets(
    sizes: Mapping[str, tuple[int, int]],
    widths: Iterable[int],
    formats: Iterable[str],
    allow_upscale: bool = False,
    min_width_step: float = 1.0,
) -> list[Target]:
    """Every target for sources of known upright ``sizes`` (stem -> (width, height))."""
    widths = list(widths)
    formats = list(formats)
    targets = []
    for stem, (source_width, source_height) in sorted(sizes.items()):
        for width in planned_widths(source_width, widths, allow_upscale, min_width_step):
            height = calculate_new_height(source_width, source_height, width)
            targets.extend(Target(stem, width, height, fmt) for fmt in formats)
    return targets


def file_names(folder: Path) -> set[str]:
    """The names of the files directly in ``folder`` (none if it is not a
    folder): one listing, no stat per file."""
    try:
        with os.scandir(folder) as entries:
            return {entry.name for entry in entries if entry.is_file()}
    except (FileNotFoundError, NotADirectoryError):
        return set()


def missing_outputs(output_dir: Path, expected: Iterable[Path]) -> list[Path]:
    """The paths of ``expected`` (files directly in ``output_dir``) not there,
    in the given order."""
    present = file_names(output_dir)
    return [path for path in expected if os.path.basename(path) not in present]


def orphaned_outputs(output_dir: Path, expected: Iterable[Path]) -> list[Path]:
    """Image files in ``output_dir`` that no current target (files directly in
    ``output_dir``) accounts for."""
    keep = {os.path.basename(path) for path in expected}
    suffixes = {f".{fmt}" for fmt in FORMATS}
    return sorted(
        output_dir / name
        for name in file_names(output_dir)
        if os.path.splitext(name)[1] in suffixes and name not in keep
    )


def modified_at(path: Path) -> float:
    """The modification time of ``path``, or 0.0 if it is not there."""
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def logged_an_error(logs: Iterable[Path], since: float) -> bool:
    """True if one of the job logs ``logs`` written at or after ``since`` (a
    time stamp) holds an ERROR line, as scripts/joblog.py and the decode
    rule's shell write them."""
    for log in logs:
        if modified_at(log) < since:
            continue
        try:
            with open(log, encoding="utf-8", errors="replace") as handle:
                if any(line.split(" ", 3)[2:3] == ["ERROR"] for line in handle):
                    return True
        except OSError:
            continue
    return False

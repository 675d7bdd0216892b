"""Pure image operations shared by the decode and resize steps.

Everything here takes plain paths, sizes and Pillow images, and returns new
images or writes one file atomically, so pytest can import and test it without
Snakemake.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import mmap
import os
import struct
import threading
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import deflate
from PIL import Image, PngImagePlugin
from zlib_ng import zlib_ng

from scripts.formats import FORMATS

#: Modes kept in the decoded raster: every source is normalised to one of them.
RASTER_MODES = ("L", "LA", "RGB", "RGBA")

#: Pyramid levels kept per source: the full size, then 1/2, 1/4 ... 1/32.
RASTER_LEVELS = 6

#: The decoders a source may reach, by Pillow's format name (config
#: ``source_formats``): JPEG with MPO (the multi-picture JPEG phones write),
#: PNG with APNG, WebP, TIFF and GIF. No other decoder, and no external program
#: (Ghostscript for EPS), ever sees a source.
SOURCE_FORMATS = ("JPEG", "MPO", "PNG", "WEBP", "TIFF", "GIF")
#: How a refused format's message ends.
NOT_ALLOWED = "content, not an allowed image format"

#: EXIF orientation -> the transpose that makes the pixels upright.
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

#: What every PNG file starts with, and the length and type before each chunk.
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_CHUNK_HEADER = struct.Struct(">I4s")
#: The PNG specification's limit on one chunk's data.
_MAX_PNG_CHUNK = 2**31 - 1

_RASTER_MAGIC = b"RIMG2\n"
_RASTER_HEADER = struct.Struct("<6s4sIIIII")


def calculate_new_height(orig_width: int, orig_height: int, new_width: int) -> int:
    """Height that keeps the aspect ratio at ``new_width``, rounded up, at least 1.

    Exact integer arithmetic: ceil(new_width * orig_height / orig_width).
    """
    for name, value in (
        ("orig_width", orig_width),
        ("orig_height", orig_height),
        ("new_width", new_width),
    ):
        if value <= 0:
            msg = f"{name} must be a positive number of pixels, got {value}"
            raise ValueError(msg)
    return max(1, -(-new_width * orig_height // orig_width))


def png_exif_after_pixels(fp: BinaryIO) -> bytes | None:
    """The eXIf chunk of an open PNG file that has none before its pixels.

    Pillow's ``getexif()`` decodes the whole PNG to look for one after the
    pixels; this skips from chunk header to chunk header instead. A file that
    ends before its IEND chunk raises OSError, as decoding it would.
    """
    position = fp.tell()
    try:
        fp.seek(len(PNG_SIGNATURE))
        while len(header := fp.read(_PNG_CHUNK_HEADER.size)) == _PNG_CHUNK_HEADER.size:
            length, kind = _PNG_CHUNK_HEADER.unpack(header)
            if kind == b"eXIf":
                return fp.read(length)
            if kind == b"IEND":
                return None
            fp.seek(length + 4, os.SEEK_CUR)  # the data and its CRC
        msg = "PNG file is truncated: it ends before its IEND chunk"
        raise OSError(msg)
    finally:
        fp.seek(position)


def content_format(prefix: bytes) -> str | None:
    """Pillow's name for the format of a file that starts with ``prefix``, from
    the plugins' signature checks alone (no decoder runs); None if none claims it."""
    Image.init()
    for name, (_, accept) in Image.OPEN.items():
        if accept is None:
            continue
        try:
            claimed = accept(prefix)
        except (SyntaxError, IndexError, TypeError, struct.error):  # what Image.open forgives too
            continue
        if claimed and not isinstance(claimed, str):  # a str is a plugin's warning, not a claim
            return name
    return None


def open_source(fp: str | Path | BinaryIO, allowed: tuple[str, ...] = SOURCE_FORMATS) -> Image.Image:
    """``Image.open`` with only the ``allowed`` decoders.

    A file whose content is another format is refused without opening it
    (``UnidentifiedImageError: EPS content, not an allowed image format``).
    """
    from PIL import UnidentifiedImageError

    # Pillow opens MPO files with its JPEG reader, then names them MPO.
    readers = tuple(dict.fromkeys("JPEG" if name == "MPO" else name for name in allowed))
    try:
        im = Image.open(fp, formats=readers)
    except UnidentifiedImageError:
        if isinstance(fp, (str, Path)):
            with open(fp, "rb") as handle:
                prefix = handle.read(16)
        else:
            fp.seek(0)
            prefix = fp.read(16)
        kind = content_format(prefix)
        if kind is None:
            raise
        msg = f"{kind} {NOT_ALLOWED}"
        raise UnidentifiedImageError(msg) from None
    if im.format not in allowed:
        im.close()
        msg = f"{im.format} {NOT_ALLOWED}"
        raise UnidentifiedImageError(msg)
    return im


def orientation(im: Image.Image) -> int:
    """The orientation (1-8) still to apply to ``im`` as Pillow opened it, from
    its EXIF block or its PNG eXIf chunk, without decoding pixels.

    A TIFF's own Orientation tag is Pillow's to apply: its TIFF reader reports
    the upright size as soon as the file is open, and turns the pixels upright
    as it loads them, so nothing is left to apply.
    """
    from PIL import ExifTags, TiffImagePlugin

    if isinstance(im, TiffImagePlugin.TiffImageFile):
        return 1
    if im.format == "PNG" and "exif" not in im.info:
        exif = Image.Exif()
        if (data := png_exif_after_pixels(im.fp)) is not None:
            exif.load(data)
    else:
        exif = im.getexif()
    value = exif.get(ExifTags.Base.Orientation, 1)
    return value if value in _UPRIGHT else 1


def oriented_size(im: Image.Image) -> tuple[int, int]:
    """Size of ``im`` once its orientation is applied, without decoding pixels."""
    width, height = im.size
    if orientation(im) in (5, 6, 7, 8):
        return height, width
    return width, height


def mapped_tiff_would_scramble(im: Image.Image) -> bool:
    """Whether Pillow would scramble ``im``'s pixels as it loads them: it memory-maps
    an uncompressed TIFF opened from a path with the upright size of an
    Orientation of 5-8 instead of the stored size (docs/upstream/pillow-tiff-mmap-orientation.patch)."""
    from PIL import ExifTags, TiffImagePlugin

    return (
        isinstance(im, TiffImagePlugin.TiffImageFile)
        and bool(im.filename)
        and im.tag_v2.get(ExifTags.Base.Orientation) in (5, 6, 7, 8)
    )


def upright(im: Image.Image) -> Image.Image:
    """``im`` decoded and turned by :func:`orientation`, to :func:`oriented_size`."""
    if mapped_tiff_would_scramble(im):  # read from memory instead: Pillow maps files only
        with open(im.filename, "rb") as handle:
            im = Image.open(io.BytesIO(handle.read()), formats=("TIFF",))
    method = _UPRIGHT.get(orientation(im))
    im.load()
    if method is None:
        return im
    turned = im.transpose(method)
    turned.info.pop("exif", None)
    return turned


def _to_srgb(im: Image.Image) -> Image.Image:
    """Convert pixels with an embedded ICC profile to sRGB; drop the profile."""
    icc = im.info.get("icc_profile")
    # Grey profiles are left alone: grey pixels are device grey in practice.
    if not icc or im.mode not in ("RGB", "RGBA", "CMYK"):
        return im
    from PIL import ImageCms

    try:
        src_profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    except (OSError, ImageCms.PyCMSError):
        # An unreadable profile is ignored, as browsers do.
        return im
    out_mode = "RGB" if im.mode == "CMYK" else im.mode
    try:
        converted = ImageCms.profileToProfile(
            im,
            src_profile,
            ImageCms.createProfile("sRGB"),
            renderingIntent=ImageCms.Intent.PERCEPTUAL,
            outputMode=out_mode,
        )
    except ImageCms.PyCMSError:
        return im
    assert converted is not None
    converted.info.pop("icc_profile", None)
    return converted


def _sixteen_bit_to_l(im: Image.Image) -> Image.Image:
    """Scale a 16-bit (``I;16*``) or 32-bit (``I``, ``F``) grey image down to 8-bit ``L``.

    16-bit data always spans 0-65535. A 32-bit integer image is taken as 16-bit
    data when its values exceed 255, and as 8-bit data otherwise.
    """
    if im.mode == "F":
        return im.convert("L")
    as_int = im.convert("I") if im.mode != "I" else im
    sixteen_bit = im.mode.startswith("I;16") or as_int.getextrema()[1] > 255
    scale = 1 / 256 if sixteen_bit else 1
    return as_int.point(lambda value: value * scale).convert("L")


def normalize(im: Image.Image) -> Image.Image:
    """Return the upright, sRGB, 8-bit version of a decoded source image.

    Orientation (:func:`orientation`) is applied first; palette and 1-bit images are converted
    before any resampling; CMYK, 16-bit and float images become 8-bit RGB or L;
    transparency is kept as an alpha channel.
    """
    im = upright(im)
    im = _to_srgb(im)
    if im.mode in RASTER_MODES:
        return im
    if im.mode == "P":
        has_alpha = "transparency" in im.info or im.palette.mode == "RGBA"
        return im.convert("RGBA" if has_alpha else "RGB")
    if im.mode == "1":
        return im.convert("L")
    if im.mode == "PA":
        return im.convert("RGBA")
    if im.mode in ("La", "RGBa"):
        return im.convert(im.mode.upper())
    if im.mode.startswith("I") or im.mode == "F":
        return _sixteen_bit_to_l(im)
    # CMYK without a profile, YCbCr, LAB, HSV and anything else Pillow can convert.
    return im.convert("RGB")


def pyramid_level(full_width: int, width: int, reducing_gap: float, levels: int) -> int:
    """Index of the smallest pyramid level to resample ``width`` from.

    Level k is the source box-reduced by 2**k. The level chosen is the smallest
    one still at least ``reducing_gap`` times the target width, as Pillow's
    ``reducing_gap`` does with integer factors; 0 always picks the full size.
    """
    level = 0
    if reducing_gap > 0:
        while level + 1 < levels and -(-full_width // 2 ** (level + 1)) >= width * reducing_gap:
            level += 1
    return level


def resize_raster(raster: Raster, width: int, height: int) -> Image.Image:
    """Resample a raster level to exactly ``width`` x ``height`` with Lanczos.

    The resampling box covers the full image in the level's coordinates, so the
    aspect ratio is exact even where a level's size was rounded up.
    """
    im = raster.image
    if raster.factor == 1 and im.size == (width, height):
        return im.copy()
    full_width, full_height = raster.full_size
    box = (0, 0, full_width / raster.factor, full_height / raster.factor)
    return im.resize((width, height), Image.Resampling.LANCZOS, box=box)


def flatten(im: Image.Image, background: str) -> Image.Image:
    """Composite an image with alpha onto an opaque ``background`` colour."""
    if im.mode not in ("LA", "RGBA"):
        return im
    rgba = im.convert("RGBA")
    canvas = Image.new("RGBA", im.size, background)
    canvas.alpha_composite(rgba)
    return canvas.convert("RGB" if im.mode == "RGBA" else "L")


def prepare_for_format(im: Image.Image, fmt: str, background: str) -> Image.Image:
    """Adapt the image mode to what the encoder of ``fmt`` accepts."""
    if not FORMATS[fmt].alpha:
        return flatten(im, background)
    if fmt == "avif" and im.mode in ("L", "LA"):
        return im.convert("RGB" if im.mode == "L" else "RGBA")
    return im


def atomic_write(path: Path, write) -> None:
    """Call ``write(file_object)`` on a temporary file, then rename it to ``path``.

    The temporary file lives in the same directory, so the rename is atomic:
    a crash leaves either the old file or the new one, never a truncated one.
    Its name is ``.{name}.{pid}-{thread}.part``, unique to the writer, so two
    jobs in threads of one process never share it; a run removes the ones a
    killed run left (rules/summary.smk).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = partial_path(path)
    try:
        with open(tmp_path, "wb") as handle:
            write(handle)
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def partial_path(path: Path) -> Path:
    """Where :func:`atomic_write` writes ``path`` before renaming it into place."""
    return path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.part")


def _png_chunks(png: bytes | memoryview) -> list[tuple[bytes, bytes | memoryview]]:
    """Split a PNG file into its (type, data) chunks; ValueError if it is not one."""
    if bytes(png[: len(PNG_SIGNATURE)]) != PNG_SIGNATURE:
        msg = "not a PNG file (bad signature)"
        raise ValueError(msg)
    chunks, pos = [], len(PNG_SIGNATURE)
    while pos < len(png):
        if pos + 12 > len(png):
            msg = f"truncated PNG: a chunk header at byte {pos} is cut off"
            raise ValueError(msg)
        length, kind = _PNG_CHUNK_HEADER.unpack_from(png, pos)
        if pos + 12 + length > len(png):
            msg = f"truncated PNG: the {kind.decode('latin-1')} chunk at byte {pos} is cut off"
            raise ValueError(msg)
        chunks.append((kind, png[pos + 8 : pos + 8 + length]))
        pos += 12 + length
    return chunks


def _png_chunk_parts(kind: bytes, data: bytes | memoryview) -> tuple[bytes, bytes | memoryview, bytes]:
    """One chunk as the three pieces a file holds: length and type, data, CRC."""
    return _PNG_CHUNK_HEADER.pack(len(data), kind), data, struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))


#: The libraries that deflate the rows Pillow has filtered (``encoders.png.deflate``);
#: with ``zlib``, Pillow's own output is final.
REDEFLATE_LIBRARIES = ("libdeflate", "zlib-ng")


def _redeflated(idat: list[bytes | memoryview], level: int, library: str) -> bytes:
    """The rows of the zlib stream split over ``idat``, deflated again by ``library`` at ``level``."""
    inflate = zlib_ng.decompressobj()
    rows = (inflate.decompress(data) for data in idat)
    if library == "libdeflate":
        # libdeflate compresses whole buffers only.
        stream = deflate.zlib_compress(b"".join(rows), level)
    else:
        # Chunk by chunk, with the strategy and memory level Pillow gives zlib for PNG rows.
        compressor = zlib_ng.compressobj(level, zlib_ng.DEFLATED, 15, 9, zlib_ng.Z_FILTERED)
        stream = b"".join([*(compressor.compress(part) for part in rows), compressor.flush()])
    if not inflate.eof:
        msg = "truncated PNG: its pixel data ends early"
        raise ValueError(msg)
    return stream


def redeflated_chunks(
    chunks: list[tuple[bytes, bytes | memoryview]], level: int, library: str = "libdeflate"
) -> list[tuple[bytes, bytes | memoryview]]:
    """``chunks``, a PNG's (type, data) list, with the pixel data (the IDAT
    chunks) deflated again by ``library`` at ``level``.

    The filtered rows and every other chunk are kept as they are, so the image
    is the same pixel for pixel; only the compressed stream changes.
    """
    if library not in REDEFLATE_LIBRARIES:
        msg = f"unknown deflate library {library!r}; expected one of {list(REDEFLATE_LIBRARIES)}"
        raise ValueError(msg)
    kinds = [kind for kind, _ in chunks]
    if b"IDAT" not in kinds:
        msg = "PNG without pixel data (no IDAT chunk)"
        raise ValueError(msg)
    first = kinds.index(b"IDAT")
    last = len(kinds) - kinds[::-1].index(b"IDAT")
    stream = memoryview(_redeflated([data for _, data in chunks[first:last]], level, library))
    idat = [(b"IDAT", stream[i : i + _MAX_PNG_CHUNK]) for i in range(0, len(stream), _MAX_PNG_CHUNK)]
    return [*chunks[:first], *idat, *chunks[last:]]


def write_png(handle: BinaryIO, chunks: list[tuple[bytes, bytes | memoryview]]) -> None:
    """Write the PNG of ``chunks`` piece by piece, never joined into one buffer."""
    handle.write(PNG_SIGNATURE)
    for kind, data in chunks:
        for part in _png_chunk_parts(kind, data):
            handle.write(part)


def redeflate_png(png: bytes | memoryview, level: int, library: str = "libdeflate") -> bytes:
    """Return ``png`` with its pixel data deflated again (see :func:`redeflated_chunks`)."""
    buffer = io.BytesIO()
    write_png(buffer, redeflated_chunks(_png_chunks(png), level, library))
    return buffer.getvalue()


def pillow_save_options(fmt: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments of Image.save() for ``fmt``, from the workflow's encoder ``options``.

    PNG's ``deflate`` is the workflow's own setting: with ``libdeflate`` or
    ``zlib-ng`` Pillow only filters the rows (level 0) and ``redeflated_chunks``
    compresses them.
    """
    pillow = {key: value for key, value in options.items() if key != "deflate"}
    if redeflate_settings(fmt, options) is not None:
        pillow.update(compress_level=0, optimize=False)
    return pillow


def redeflate_settings(fmt: str, options: Mapping[str, Any]) -> tuple[str, int] | None:
    """The library and level a ``fmt`` file is deflated with afterwards, or None if Pillow's output is final."""
    library = options.get("deflate")
    if fmt != "png" or library not in REDEFLATE_LIBRARIES:
        return None
    return library, 9 if options.get("optimize") else int(options.get("compress_level", 6))


def image_to_encode(im: Image.Image, fmt: str, background: str) -> Image.Image:
    """``im`` as the encoder of ``fmt`` takes it, and never ``im`` itself.

    Image.save() keeps its arguments on the image (``encoderinfo``) while it
    encodes, and a save of the same image that starts meanwhile takes them
    over its own: two jobs saving one resample shared by scripts/memo.py
    could encode with each other's settings.
    """
    ready = prepare_for_format(im, fmt, background)
    return im.copy() if ready is im else ready


def encoder_arguments(fmt: str, options: Mapping[str, Any], threads: int = 1) -> dict[str, Any]:
    """The keyword arguments of Image.save() for ``fmt``: :func:`pillow_save_options`,
    and for an encoder with a thread pool of its own (AVIF) ``threads``, the
    job's budget, unless ``options`` sets ``max_threads``."""
    pillow_options = pillow_save_options(fmt, options)
    if FORMATS[fmt].threaded:
        pillow_options.setdefault("max_threads", threads)
    return pillow_options


def save_image(
    im: Image.Image,
    path: Path,
    fmt: str,
    options: Mapping[str, Any],
    background: str = "#ffffff",
    threads: int = 1,
) -> None:
    """Encode ``im`` as ``fmt`` with the encoder ``options`` and write it atomically.

    An encoder with a thread pool of its own (AVIF) gets ``threads``, the
    job's budget, unless ``options`` sets ``max_threads``.
    """
    if fmt not in FORMATS:
        msg = f"unknown output format {fmt!r}; expected one of {sorted(FORMATS)}"
        raise ValueError(msg)
    spec = FORMATS[fmt]
    importlib.import_module(spec.plugin)
    # Image.save() first imports Pillow's five common plugins (~30 ms) for
    # format detection; the format is explicit and its plugin loaded, so skip it.
    Image._initialized = max(Image._initialized, 1)
    ready = image_to_encode(im, fmt, background)
    pillow_options = encoder_arguments(fmt, options, threads)
    redeflate = redeflate_settings(fmt, options)
    if redeflate is None:
        atomic_write(path, lambda handle: ready.save(handle, format=spec.pillow, **pillow_options))
        return
    library, level = redeflate
    # Each chunk is kept as Pillow makes it and written piece by piece: a copy
    # of the whole file into one buffer would hold the GIL all along.
    pillow_chunks = [(kind, data) for kind, data, _ in PngImagePlugin.getchunks(ready, **pillow_options)]
    chunks = redeflated_chunks(pillow_chunks, level, library)
    atomic_write(path, lambda handle: write_png(handle, chunks))


@dataclass(frozen=True)
class Raster:
    """One pyramid level: ``image`` is the full image of ``full_size`` reduced ``factor`` times."""

    image: Image.Image
    full_size: tuple[int, int]
    factor: int


def write_raster(im: Image.Image, path: Path, full_size: tuple[int, int], factor: int) -> str:
    """Store one pyramid level uncompressed, so resize jobs skip decoding.

    Returns the SHA-256 of the file written.
    """
    if im.mode not in RASTER_MODES:
        msg = f"raster mode must be one of {RASTER_MODES}, got {im.mode!r}"
        raise ValueError(msg)
    header = _RASTER_HEADER.pack(_RASTER_MAGIC, im.mode.encode().ljust(4), *im.size, *full_size, factor)
    digest = hashlib.sha256(header)

    def write(handle) -> None:
        pixels = im.tobytes()
        digest.update(pixels)
        handle.write(header)
        handle.write(pixels)

    atomic_write(path, write)
    return digest.hexdigest()


def write_pyramid(im: Image.Image, paths: list[Path], digest_path: Path | None = None) -> None:
    """Write ``im`` and its successive 2x box reductions, one level per path.

    ``digest_path``, written last, lists the SHA-256 of each level, like
    ``sha256sum``. Resize jobs depend on this small file rather than on the
    levels themselves: Snakemake then hashes a few hundred bytes after each job
    instead of the level it read (up to 44 MB for a 5120x2880 photo).
    """
    level = im
    lines = []
    for index, path in enumerate(paths):
        if index:
            level = level.reduce(2)
        lines.append(f"{write_raster(level, path, im.size, 2**index)}  {path.name}\n")
    if digest_path is not None:
        atomic_write(digest_path, lambda handle: handle.write("".join(lines).encode()))


def level_path(pyramid: Path, level: int) -> Path:
    """The file of one pyramid level: ``pyramid`` is the pyramid's digest file,
    next to its levels, or (with object storage) already the level's file."""
    if pyramid.suffix == ".raster":
        return pyramid
    return pyramid.with_name(f"L{level}.raster")


def _parse_raster_header(header: bytes, path: Path) -> tuple[str, tuple[int, int], tuple[int, int], int]:
    """Mode, size, full size and factor from the first bytes of a raster file."""
    if len(header) < _RASTER_HEADER.size:
        msg = f"{path}: not a raster file (too short)"
        raise ValueError(msg)
    magic, raw_mode, width, height, full_width, full_height, factor = _RASTER_HEADER.unpack_from(header)
    mode = raw_mode.decode().strip()
    if magic != _RASTER_MAGIC or mode not in RASTER_MODES:
        msg = f"{path}: not a raster file (bad header)"
        raise ValueError(msg)
    return mode, (width, height), (full_width, full_height), factor


def raster_full_size(path: Path) -> tuple[int, int]:
    """The full size a raster level was reduced from, read from its header alone."""
    with open(path, "rb") as handle:
        return _parse_raster_header(handle.read(_RASTER_HEADER.size), path)[2]


def read_raster(path: Path) -> Raster:
    """Map a raster written by :func:`write_raster` into memory."""
    with open(path, "rb") as handle:
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    mode, (width, height), full_size, factor = _parse_raster_header(mapped, path)
    expected = _RASTER_HEADER.size + width * height * len(mode)
    if len(mapped) != expected:
        msg = f"{path}: raster is {len(mapped)} bytes, expected {expected}"
        raise ValueError(msg)
    data = memoryview(mapped)[_RASTER_HEADER.size :]
    image = Image.frombuffer(mode, (width, height), data, "raw", mode, 0, 1)
    return Raster(image, full_size, factor)

import hashlib
import importlib
import io
import os
import random
import struct
import threading
import zlib
from pathlib import Path

import pytest
from PIL import Image, UnidentifiedImageError

from conftest import apply_upstream_patch
from scripts.imageops import (
    SOURCE_FORMATS,
    Raster,
    atomic_write,
    content_format,
    flatten,
    level_path,
    mapped_tiff_would_scramble,
    normalize,
    open_source,
    oriented_size,
    pillow_save_options,
    pyramid_level,
    raster_full_size,
    read_raster,
    redeflate_png,
    redeflate_settings,
    resize_raster,
    save_image,
    write_pyramid,
    write_raster,
)


def assert_image(im: Image.Image, size, mode):
    assert im.size == size
    assert im.mode == mode


@pytest.mark.parametrize(
    ("mode", "expected_mode"),
    [
        ("RGB", "RGB"),
        ("RGBA", "RGBA"),
        ("L", "L"),
        ("LA", "LA"),
        ("1", "L"),
        ("P", "RGB"),
        ("CMYK", "RGB"),
        ("I;16", "L"),
        ("I", "L"),
        ("F", "L"),
    ],
)
def test_normalize_gives_an_8_bit_mode(mode, expected_mode):
    assert_image(normalize(Image.new(mode, (4, 3))), (4, 3), expected_mode)


def test_normalize_keeps_palette_transparency_as_alpha():
    im = Image.new("P", (4, 3), 1)
    im.info["transparency"] = 1
    out = normalize(im)
    assert_image(out, (4, 3), "RGBA")
    assert out.getpixel((0, 0))[3] == 0


@pytest.mark.parametrize(("mode", "value", "expected"), [("I;16", 65535, 255), ("I;16", 200, 0), ("I;16", 512, 2), ("I", 200, 200)])
def test_normalize_scales_16_bit_grey_to_8_bit(mode, value, expected):
    im = Image.new(mode, (2, 1), value)
    assert normalize(im).getpixel((0, 0)) == expected


def test_normalize_applies_exif_orientation():
    im = Image.new("RGB", (4, 2), (255, 0, 0))
    im.putpixel((0, 0), (0, 0, 255))
    exif = im.getexif()
    exif[0x0112] = 6
    im.info["exif"] = exif.tobytes()
    out = normalize(im)
    assert_image(out, (2, 4), "RGB")
    assert out.getpixel((1, 0)) == (0, 0, 255)


def full_raster(im: Image.Image) -> Raster:
    return Raster(im, im.size, 1)


def test_resize_raster_gives_exact_size():
    out = resize_raster(full_raster(Image.new("RGB", (640, 480), (10, 20, 30))), 50, 38)
    assert_image(out, (50, 38), "RGB")
    assert out.getpixel((25, 19)) == (10, 20, 30)


def noise(size, seed=3) -> Image.Image:
    return Image.frombytes("RGB", size, random.Random(seed).randbytes(size[0] * size[1] * 3))


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    return sum(abs(x - y) for x, y in zip(a.tobytes(), b.tobytes())) / len(a.tobytes())


def test_resize_raster_is_lanczos_on_detailed_content():
    im = noise((300, 200))
    out = resize_raster(full_raster(im), 50, 33)
    assert out.tobytes() == im.resize((50, 33), Image.Resampling.LANCZOS).tobytes()
    # The content tells resamplers apart: this oracle would catch another one.
    assert mean_difference(im.resize((50, 33), Image.Resampling.BICUBIC), out) > 1
    assert mean_difference(im.resize((50, 33), Image.Resampling.NEAREST), out) > 20


def test_resize_raster_from_a_level_stays_close_to_lanczos_from_the_full_size():
    im = noise((400, 300))
    level = im.reduce(2)
    out = resize_raster(Raster(level, im.size, 2), 50, 38)
    direct = im.resize((50, 38), Image.Resampling.LANCZOS)
    assert mean_difference(out, direct) < 1.5
    assert mean_difference(im.resize((50, 38), Image.Resampling.NEAREST), direct) > 20


def test_resize_raster_keeps_transparent_pixels_clean():
    im = Image.new("RGBA", (100, 100), (255, 0, 0, 0))
    im.paste((0, 0, 255, 255), (50, 0, 100, 100))
    out = resize_raster(full_raster(im), 10, 10)
    # Premultiplied resampling: no red bleeds into the opaque blue half.
    red, _, blue, alpha = out.getpixel((9, 5))
    assert (red, blue, alpha) == (0, 255, 255)


def test_resize_raster_from_a_reduced_level_maps_the_full_image():
    # 101 px wide: level 1 is 51 px, its last column half empty. The box must
    # cover 50.5 level pixels, so the right edge stays where the source's is.
    full = Image.new("L", (101, 10), 0)
    full.paste(255, (100, 0, 101, 10))
    level = full.reduce(2)
    out = resize_raster(Raster(level, full.size, 2), 10, 1).getpixel((9, 0))
    direct = full.resize((10, 1), Image.Resampling.LANCZOS).getpixel((9, 0))
    whole_level = level.resize((10, 1), Image.Resampling.LANCZOS).getpixel((9, 0))
    assert abs(out - direct) < abs(whole_level - direct)


@pytest.mark.parametrize(
    ("full_width", "width", "gap", "expected"),
    [
        (5120, 4000, 3.0, 0),
        (5120, 992, 3.0, 0),
        (5120, 768, 3.0, 1),
        (5120, 50, 3.0, 5),
        (5120, 50, 2.0, 5),
        (5120, 400, 2.0, 2),
        (5120, 50, 0, 0),
        (30, 30, 3.0, 0),
    ],
)
def test_pyramid_level_is_the_smallest_level_at_least_gap_times_wider(full_width, width, gap, expected):
    assert pyramid_level(full_width, width, gap, 6) == expected


def test_flatten_composites_alpha_onto_the_background():
    im = Image.new("RGBA", (2, 2), (0, 0, 0, 0))
    assert flatten(im, "#ff0000").getpixel((0, 0)) == (255, 0, 0)


@pytest.mark.parametrize(
    ("fmt", "mode", "expected_format", "expected_mode"),
    [
        ("png", "RGBA", "PNG", "RGBA"),
        ("webp", "RGBA", "WEBP", "RGBA"),
        ("webp", "RGB", "WEBP", "RGB"),
        ("avif", "RGB", "AVIF", "RGB"),
        ("avif", "L", "AVIF", "RGB"),
        ("jpeg", "RGBA", "JPEG", "RGB"),
        ("jpeg", "L", "JPEG", "L"),
    ],
)
def test_save_image_writes_the_requested_format(tmp_path: Path, fmt, mode, expected_format, expected_mode):
    path = tmp_path / f"out.{fmt}"
    save_image(Image.new(mode, (8, 6)), path, fmt, {})
    with Image.open(path) as im:
        assert im.format == expected_format
        assert_image(im, (8, 6), expected_mode)
    assert [p.name for p in tmp_path.iterdir()] == [f"out.{fmt}"]


def test_save_image_refuses_an_unknown_format(tmp_path: Path):
    with pytest.raises(ValueError, match="unknown output format 'gif'"):
        save_image(Image.new("RGB", (2, 2)), tmp_path / "x.gif", "gif", {})


def test_atomic_write_leaves_nothing_behind_on_error(tmp_path: Path):
    target = tmp_path / "out.png"
    target.write_bytes(b"old")

    def failing_write(handle):
        handle.write(b"partial")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, failing_write)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA"])
def test_raster_round_trip_keeps_pixels(tmp_path: Path, mode):
    im = Image.effect_noise((13, 7), 64).convert(mode)
    write_raster(im, tmp_path / "x.raster", (26, 14), 2)
    back = read_raster(tmp_path / "x.raster")
    assert_image(back.image, (13, 7), mode)
    assert back.image.tobytes() == im.tobytes()
    assert (back.full_size, back.factor) == ((26, 14), 2)


def test_write_pyramid_halves_each_level(tmp_path: Path):
    paths = [tmp_path / f"L{level}.raster" for level in range(4)]
    write_pyramid(Image.new("RGB", (13, 7), (1, 2, 3)), paths)
    levels = [read_raster(path) for path in paths]
    assert [level.image.size for level in levels] == [(13, 7), (7, 4), (4, 2), (2, 1)]
    assert [level.factor for level in levels] == [1, 2, 4, 8]
    assert {level.full_size for level in levels} == {(13, 7)}
    assert levels[3].image.getpixel((1, 0)) == (1, 2, 3)


def test_write_pyramid_lists_the_sha256_of_each_level(tmp_path: Path):
    paths = [tmp_path / f"L{level}.raster" for level in range(3)]
    write_pyramid(Image.effect_noise((9, 5), 64).convert("RGB"), paths, tmp_path / "levels.sha256")
    expected = "".join(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.name}\n" for path in paths)
    assert (tmp_path / "levels.sha256").read_text() == expected


def test_write_pyramid_digests_are_the_same_for_the_same_pixels(tmp_path: Path):
    im = Image.effect_noise((9, 5), 64).convert("RGB")
    for run in ("a", "b"):
        (tmp_path / run).mkdir()
        write_pyramid(im, [tmp_path / run / "L0.raster"], tmp_path / run / "levels.sha256")
    assert (tmp_path / "a" / "levels.sha256").read_bytes() == (tmp_path / "b" / "levels.sha256").read_bytes()


@pytest.mark.parametrize(
    ("pyramid", "level", "expected"),
    [
        ("cache/x/levels.sha256", 0, "cache/x/L0.raster"),
        ("cache/x/levels.sha256", 3, "cache/x/L3.raster"),
        ("bucket/cache/x/L2.raster", 2, "bucket/cache/x/L2.raster"),
    ],
)
def test_level_path_next_to_the_digests_or_the_level_itself(pyramid, level, expected):
    assert level_path(Path(pyramid), level) == Path(expected)


def test_raster_full_size_reads_the_header_alone(tmp_path: Path):
    write_raster(Image.new("RGB", (10, 5)), tmp_path / "x.raster", (80, 40), 8)
    data = (tmp_path / "x.raster").read_bytes()
    (tmp_path / "x.raster").write_bytes(data[:-5])  # pixels cut short: not read
    assert raster_full_size(tmp_path / "x.raster") == (80, 40)


@pytest.mark.parametrize("content", [b"", b"RIMG2\n", b"not a raster file at all, no header"])
def test_raster_full_size_refuses_a_file_without_a_header(tmp_path: Path, content):
    (tmp_path / "x.raster").write_bytes(content)
    with pytest.raises(ValueError, match="not a raster file"):
        raster_full_size(tmp_path / "x.raster")


def test_read_raster_refuses_a_truncated_file(tmp_path: Path):
    write_raster(Image.new("RGB", (10, 10)), tmp_path / "x.raster", (10, 10), 1)
    data = (tmp_path / "x.raster").read_bytes()
    (tmp_path / "x.raster").write_bytes(data[:-5])
    with pytest.raises(ValueError, match="expected"):
        read_raster(tmp_path / "x.raster")


def rotated_exif() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90 degrees: a stored 64x48 is shown 48x64
    return exif.tobytes()


def png_bytes_of(im: Image.Image, **save_args) -> bytes:
    buffer = io.BytesIO()
    im.save(buffer, "PNG", **save_args)
    return buffer.getvalue()


def png_bytes(**save_args) -> bytes:
    return png_bytes_of(Image.new("RGB", (64, 48), (10, 20, 30)), **save_args)


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    """One PNG chunk: length, type, data and CRC."""
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def with_chunk_before_iend(png: bytes, kind: bytes, payload: bytes) -> bytes:
    """``png`` with one more chunk after its pixel data."""
    iend = png.rindex(b"IEND") - 4
    return png[:iend] + png_chunk(kind, payload) + png[iend:]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (png_bytes(), (64, 48)),
        (png_bytes(exif=rotated_exif()), (48, 64)),
        (with_chunk_before_iend(png_bytes(), b"eXIf", rotated_exif()[6:]), (48, 64)),
        (with_chunk_before_iend(png_bytes(), b"tEXt", b"Comment\0after the pixels"), (64, 48)),
    ],
    ids=["no-exif", "exif-before-pixels", "exif-after-pixels", "other-chunk-after-pixels"],
)
def test_oriented_size_png_without_decoding(data: bytes, expected):
    with Image.open(io.BytesIO(data)) as im:
        assert oriented_size(im) == expected
        assert im.tile, "the pixels were decoded"
        im.load()  # the file position was left where Pillow expects it
        assert im.size == (64, 48)


def test_oriented_size_png_exif_after_pixels_matches_pillow():
    data = with_chunk_before_iend(png_bytes(), b"eXIf", rotated_exif()[6:])
    with Image.open(io.BytesIO(data)) as im:
        assert im.getexif()[0x0112] == 6  # Pillow decodes the image to find it


def test_oriented_size_png_truncated_raises():
    data = png_bytes()
    with Image.open(io.BytesIO(data[: data.rindex(b"IEND") - 4])) as im:
        with pytest.raises(OSError, match="truncated"):
            oriented_size(im)


def noisy(mode: str, size=(400, 200)) -> Image.Image:
    """A gradient with a little seeded noise: compressible, but not trivially."""
    bands = len(mode)
    data = bytes((x + y + (x * 7919 + y * 104729) % 13) % 256 for y in range(size[1]) for x in range(size[0]) for _ in range(bands))
    return Image.frombytes(mode, size, data)


def png_chunk_list(png: bytes) -> list[tuple[bytes, bytes]]:
    """The (type, data) chunks of ``png``, after checking the signature and every CRC."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, pos = [], 8
    while pos < len(png):
        length, kind = struct.unpack_from(">I4s", png, pos)
        data = png[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack_from(">I", png, pos + 8 + length)
        assert crc == zlib.crc32(kind + data), f"bad CRC on {kind!r}"
        chunks.append((kind, data))
        pos += 12 + length
    assert chunks[-1][0] == b"IEND"
    return chunks


def filtered_rows(png: bytes) -> bytes:
    return zlib.decompress(b"".join(data for kind, data in png_chunk_list(png) if kind == b"IDAT"))


@pytest.mark.parametrize("library", ["libdeflate", "zlib-ng"])
@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA"])
def test_redeflate_png_keeps_pixels_rows_and_other_chunks(mode, library):
    im = noisy(mode)
    stored = with_chunk_before_iend(png_bytes_of(im, compress_level=0), b"tEXt", b"Comment\0after the pixels")
    assert [kind for kind, _ in png_chunk_list(stored)].count(b"IDAT") > 1
    smaller = redeflate_png(stored, 7, library)
    assert len(smaller) < len(stored) / 2
    assert filtered_rows(smaller) == filtered_rows(stored)
    before = [(kind, data) for kind, data in png_chunk_list(stored) if kind != b"IDAT"]
    after = [(kind, data) for kind, data in png_chunk_list(smaller) if kind != b"IDAT"]
    assert after == before
    with Image.open(io.BytesIO(smaller)) as out:
        assert_image(out, im.size, mode)
        assert out.tobytes() == im.tobytes()


def png_with_idat(png: bytes, stream: bytes) -> bytes:
    """``png`` with its pixel data replaced by one IDAT chunk holding ``stream``."""
    start = png.index(b"IDAT") - 4
    end = png.index(b"IEND") - 4
    return png[:start] + png_chunk(b"IDAT", stream) + png[end:]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"GIF89a" + bytes(20), "not a PNG file"),
        (png_bytes()[:-6], "truncated PNG"),
        (png_bytes()[:50], "truncated PNG: the IDAT chunk at byte 33"),
        (png_bytes()[:8] + png_bytes()[8:33] + png_bytes()[-12:], "no IDAT chunk"),
        (png_with_idat(png_bytes(), zlib.compress(bytes(48 * (1 + 64 * 3)))[:-8]), "pixel data ends early"),
    ],
    ids=["not-png", "truncated-header", "truncated-data", "no-pixels", "short-pixel-data"],
)
@pytest.mark.parametrize("library", ["libdeflate", "zlib-ng"])
def test_redeflate_png_refuses_a_broken_file(data: bytes, message: str, library: str):
    with pytest.raises(ValueError, match=message):
        redeflate_png(data, 7, library)


def test_redeflate_png_refuses_an_unknown_library():
    with pytest.raises(ValueError, match="unknown deflate library 'zopfli'; expected one of"):
        redeflate_png(png_bytes(), 7, "zopfli")


@pytest.mark.parametrize("library", ["libdeflate", "zlib-ng"])
@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA"])
def test_save_image_png_redeflated_has_pillows_rows(tmp_path: Path, mode, library):
    im = noisy(mode)
    save_image(im, tmp_path / "zlib.png", "png", {"deflate": "zlib", "compress_level": 6})
    save_image(im, tmp_path / "ours.png", "png", {"deflate": library, "compress_level": 7})
    pillow, ours = (tmp_path / "zlib.png").read_bytes(), (tmp_path / "ours.png").read_bytes()
    assert filtered_rows(ours) == filtered_rows(pillow)
    assert [kind for kind, _ in png_chunk_list(ours)] == [b"IHDR", b"IDAT", b"IEND"]
    # Built from Pillow's chunks as they come, the file is the one that
    # re-deflating Pillow's whole level-0 file gives.
    assert ours == redeflate_png(png_bytes_of(im, compress_level=0), 7, library)
    with Image.open(tmp_path / "ours.png") as out:
        assert out.tobytes() == im.tobytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ours.png", "zlib.png"]


@pytest.mark.parametrize(
    ("fmt", "options", "expected"),
    [
        ("png", {"deflate": "libdeflate", "compress_level": 6, "optimize": False}, {"compress_level": 0, "optimize": False}),
        ("png", {"deflate": "zlib-ng", "compress_level": 7, "optimize": True}, {"compress_level": 0, "optimize": False}),
        ("png", {"deflate": "zlib", "compress_level": 4, "optimize": False}, {"compress_level": 4, "optimize": False}),
        ("webp", {"quality": 80, "method": 4}, {"quality": 80, "method": 4}),
    ],
    ids=["png-libdeflate", "png-zlib-ng", "png-zlib", "webp"],
)
def test_pillow_save_options(fmt, options, expected):
    assert pillow_save_options(fmt, options) == expected


@pytest.mark.parametrize(
    ("fmt", "options", "expected"),
    [
        ("png", {"deflate": "libdeflate", "compress_level": 6, "optimize": False}, ("libdeflate", 6)),
        ("png", {"deflate": "zlib-ng", "compress_level": 7, "optimize": False}, ("zlib-ng", 7)),
        ("png", {"deflate": "zlib-ng", "compress_level": 3, "optimize": True}, ("zlib-ng", 9)),
        ("png", {"deflate": "zlib", "compress_level": 6}, None),
        ("webp", {"deflate": "libdeflate"}, None),
    ],
    ids=["libdeflate", "zlib-ng", "optimize", "zlib", "webp"],
)
def test_redeflate_settings(fmt, options, expected):
    assert redeflate_settings(fmt, options) == expected


@pytest.mark.parametrize(
    ("fmt", "options", "threads", "expected"),
    [
        ("avif", {}, 3, 3),
        ("avif", {"max_threads": 1}, 3, 1),
        ("webp", {}, 3, None),
        ("png", {"deflate": "zlib"}, 3, None),
    ],
)
def test_an_encoder_with_threads_of_its_own_gets_the_job_s_budget(tmp_path, monkeypatch, fmt, options, threads, expected):
    given = []
    save = Image.Image.save

    def recording_save(self, fp, format=None, **params):
        given.append(params.get("max_threads"))
        return save(self, fp, format=format, **params)

    monkeypatch.setattr(Image.Image, "save", recording_save)
    save_image(Image.new("RGB", (8, 8), (10, 200, 30)), tmp_path / f"x.{fmt}", fmt, options, threads=threads)
    assert given == [expected]


# Allowed decoders


def bmp_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 3), (1, 2, 3)).save(out, "BMP")
    return out.getvalue()


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n", "EPS"),
        (b"8BPS\x00\x01" + bytes(32), "PSD"),
        (None, "BMP"),
    ],
)
def test_open_source_refuses_other_formats_naming_them(tmp_path: Path, content, kind):
    path = tmp_path / "photo.jpg"
    path.write_bytes(bmp_bytes() if content is None else content)
    with pytest.raises(UnidentifiedImageError, match=f"^{kind} content, not an allowed image format$"):
        open_source(path)


def test_open_source_opens_a_format_the_config_allows(tmp_path: Path):
    path = tmp_path / "photo.jpg"
    path.write_bytes(bmp_bytes())
    with open_source(path, (*SOURCE_FORMATS, "BMP")) as im:
        assert (im.format, im.size) == ("BMP", (4, 3))


@pytest.mark.parametrize("prefix", [b"", b"B", b"\x00\x00"])
def test_content_format_of_a_short_file_is_unknown(prefix):
    assert content_format(prefix) is None


def test_open_source_says_nothing_new_about_a_file_no_plugin_claims(tmp_path: Path):
    path = tmp_path / "notes.jpg"
    path.write_bytes(b"just some text\n")
    with pytest.raises(UnidentifiedImageError, match="cannot identify image file"):
        open_source(path)


# Orientation, whatever its source

UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def oriented_file(tmp_path: Path, container: str, mode: str, value: int) -> tuple[Path, Image.Image]:
    """A 7x3 noise image saved with orientation ``value``, and its upright pixels."""
    stored = Image.frombytes("L", (7, 3), random.Random(value).randbytes(21)).convert(mode)
    path = tmp_path / f"o{value}.{container}"
    exif = Image.Exif()
    exif[0x0112] = value
    if container == "tif":  # the tag in the TIFF directory itself, not an EXIF block
        options = {"tiffinfo": {0x0112: value}, **({"compression": "group4"} if mode == "1" else {})}
    else:
        options = {"exif": exif.tobytes()}
    stored.save(path, **options)
    return path, stored.transpose(UPRIGHT[value]) if value in UPRIGHT else stored


@pytest.mark.parametrize("value", range(1, 9))
@pytest.mark.parametrize(("container", "mode"), [("tif", "1"), ("tif", "L"), ("tif", "RGB"), ("png", "RGB"), ("jpg", "L"), ("webp", "RGB")])
def test_planning_and_decoding_agree_on_the_upright_image(tmp_path: Path, container, mode, value):
    path, truth = oriented_file(tmp_path, container, mode, value)
    with Image.open(path) as im:
        planned = oriented_size(im)
        decoded = normalize(im)
    assert planned == decoded.size == truth.size
    if container in ("tif", "png"):  # lossless: the very pixels
        assert decoded.convert("L").tobytes() == truth.convert("L").tobytes()


def test_mpo_is_its_own_allowed_format(tmp_path: Path):
    path = tmp_path / "phone.jpg"
    Image.new("RGB", (8, 6), (9, 9, 9)).save(path, "MPO", save_all=True, append_images=[Image.new("RGB", (8, 6))])
    with open_source(path) as im:
        assert im.format == "MPO"
    with pytest.raises(UnidentifiedImageError, match="^MPO content, not an allowed image format$"):
        open_source(path, ("JPEG", "PNG"))


def test_pillow_still_maps_an_oriented_raw_tiff_with_its_upright_size_and_the_patch_fixes_it(tmp_path: Path):
    """Why upright() reads such TIFFs from memory: Pillow's memory map scrambles
    them. When a release fixes it, this fails, and the workaround can go."""
    import shutil

    import PIL

    source = tmp_path / "o6.tif"
    Image.effect_noise((7, 3), 40).save(source, tiffinfo={0x0112: 6})
    with Image.open(source) as im:
        assert mapped_tiff_would_scramble(im)
        im.load()
        assert im.size == (7, 3)  # upright is (3, 7)
    package = tmp_path / "src" / "PIL"
    package.mkdir(parents=True)
    shutil.copy(Path(PIL.__file__).parent / "ImageFile.py", package / "ImageFile.py")
    apply_upstream_patch(tmp_path, "pillow-tiff-mmap-orientation.patch")
    assert "size = (extents[2] - extents[0], extents[3] - extents[1])" in (package / "ImageFile.py").read_text()


def threads_while(action) -> int:
    """The most threads this process had while ``action`` ran, besides the
    caller and the sampling thread. Sampling can miss a thread, never add one."""
    seen, done = [], threading.Event()

    def sample():
        while not done.is_set():
            seen.append(len(os.listdir("/proc/self/task")))

    before = len(os.listdir("/proc/self/task"))
    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        action()
    finally:
        done.set()
        sampler.join()
    return max(seen) - before - 1


@pytest.mark.parametrize("threads", [1, 2])
def test_an_avif_encode_runs_no_more_threads_than_its_job_s_budget(tmp_path: Path, threads):
    im = Image.effect_noise((512, 512), 60).convert("RGB")
    extra = threads_while(lambda: save_image(im, tmp_path / "x.avif", "avif", {"quality": 60, "speed": 6}, threads=threads))
    assert extra <= threads - 1  # the encoder's workers besides the calling thread


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_save_image_keeps_its_settings_when_another_job_saves_the_same_image(tmp_path: Path, monkeypatch, mode):
    """Image.save() keeps its arguments on the image while it encodes, and a
    save that starts meanwhile takes them over its own (Pillow 13), so a
    resample shared between jobs (scripts/memo.py) must not be saved as it is.
    Here a WebP job starts while an AVIF job at quality 10 encodes the same
    image; the WebP must still be the quality-80 one."""
    shared = noise((96, 64)).convert(mode)
    options = {"quality": 80, "method": 4, "lossless": False}
    save_image(shared.copy(), tmp_path / "alone.webp", "webp", options)
    importlib.import_module("PIL.AvifImagePlugin")
    real_save = Image.SAVE["AVIF"]

    def webp_job_starts_meanwhile(im, fp, filename):
        save_image(shared, tmp_path / "shared.webp", "webp", options)
        return real_save(im, fp, filename)

    monkeypatch.setitem(Image.SAVE, "AVIF", webp_job_starts_meanwhile)
    save_image(shared, tmp_path / "shared.avif", "avif", {"quality": 10, "speed": 8})
    assert (tmp_path / "shared.webp").read_bytes() == (tmp_path / "alone.webp").read_bytes()

"""resize_image: one target from a pyramid."""

from pathlib import Path

import pytest
from PIL import Image

from scripts.imageops import read_raster, resize_raster, write_pyramid
from scripts.resize_image import resize_image


@pytest.fixture
def pyramid(tmp_path: Path) -> Path:
    """A 64x32 noise source's pyramid, as decode_source writes it."""
    folder = tmp_path / "cache" / "noise"
    folder.mkdir(parents=True)
    im = Image.effect_noise((64, 32), 80).convert("RGB")
    write_pyramid(im, [folder / f"L{level}.raster" for level in range(3)], folder / "levels.sha256")
    return folder / "levels.sha256"


def test_resize_image_writes_the_lanczos_resample_of_its_level(pyramid: Path, tmp_path: Path):
    """The PNG holds exactly the pixels of the level's Lanczos resample (PNG is lossless)."""
    out = tmp_path / "out" / "noise_32x16.png"
    assert resize_image(pyramid, out, 32, 16, "png", {}, level=1).startswith(f"wrote {out} 32x16 png ")
    level = read_raster(pyramid.with_name("L1.raster"))
    expected = level.image.resize((32, 16), Image.Resampling.LANCZOS, box=(0, 0, 32, 16))
    with Image.open(out) as im:
        assert im.size == (32, 16)
        assert im.convert("RGB").tobytes() == expected.tobytes()
        assert im.tobytes() == resize_raster(level, 32, 16).tobytes()


def test_resize_image_reads_a_level_file_given_directly(pyramid: Path, tmp_path: Path):
    """With object storage the job's input is the level file itself."""
    out = tmp_path / "out.webp"
    resize_image(pyramid.with_name("L2.raster"), out, 8, 4, "webp", {}, level=2)
    with Image.open(out) as im:
        assert (im.size, im.format) == ((8, 4), "WEBP")


def test_resize_image_refuses_a_height_off_the_aspect_ratio(pyramid: Path, tmp_path: Path):
    with pytest.raises(ValueError, match="does not match the source's aspect ratio"):
        resize_image(pyramid, tmp_path / "x.png", 32, 17, "png", {})


def test_the_shared_resample_gives_every_format_the_bytes_of_a_fresh_one(pyramid: Path, tmp_path: Path):
    """What one job resampled and another reuses cannot change an output."""
    from scripts import resize_image as module

    module.RESAMPLES.clear()
    module.LEVELS.clear()
    warm = tmp_path / "warm"
    for fmt in ("png", "webp", "png"):
        resize_image(pyramid, warm / f"noise_32x16.{fmt}", 32, 16, fmt, {}, level=1)
    assert module.RESAMPLES.hits == 2 and module.RESAMPLES.misses == 1
    for fmt in ("png", "webp"):
        module.RESAMPLES.clear()
        module.LEVELS.clear()
        cold = tmp_path / "cold" / f"noise_32x16.{fmt}"
        resize_image(pyramid, cold, 32, 16, fmt, {}, level=1)
        assert cold.read_bytes() == (warm / cold.name).read_bytes()


def test_a_pyramid_written_again_is_never_read_from_memory(pyramid: Path, tmp_path: Path):
    resize_image(pyramid, tmp_path / "before.png", 32, 16, "png", {}, level=1)
    levels = [pyramid.with_name(f"L{level}.raster") for level in range(3)]
    write_pyramid(Image.new("RGB", (64, 32), (200, 10, 10)), levels, pyramid)
    resize_image(pyramid, tmp_path / "after.png", 32, 16, "png", {}, level=1)
    with Image.open(tmp_path / "after.png") as im:
        assert im.getpixel((5, 5)) == (200, 10, 10)


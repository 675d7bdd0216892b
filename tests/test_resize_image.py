"""resize_image: one target from a pyramid, and the resample its formats share."""

from pathlib import Path

import pytest
from PIL import Image

from scripts.imageops import read_raster, resize_raster, write_pyramid
from scripts.resize_image import SharedResamples, resample_key, resize_image, shared_resample


@pytest.fixture
def pyramid(tmp_path: Path) -> Path:
    """A 64x32 noise source's pyramid, as decode_source writes it."""
    folder = tmp_path / "cache" / "noise"
    folder.mkdir(parents=True)
    im = Image.effect_noise((64, 32), 80).convert("RGB")
    write_pyramid(im, [folder / f"L{level}.raster" for level in range(3)], folder / "levels.sha256")
    return folder / "levels.sha256"


def stored_files(folder: Path) -> list[str]:
    return sorted(path.suffix for path in folder.iterdir())


def test_shared_resample_gives_the_pixels_of_a_plain_resample(pyramid: Path, tmp_path: Path):
    level = pyramid.with_name("L1.raster")
    first = shared_resample(level, 10, 5, tmp_path / "shared", 2)
    second = shared_resample(level, 10, 5, tmp_path / "shared", 2)
    expected = resize_raster(read_raster(level), 10, 5)
    assert first.tobytes() == second.tobytes() == expected.tobytes()


def test_shared_resample_is_stored_until_its_last_user(pyramid: Path, tmp_path: Path):
    level = pyramid.with_name("L0.raster")
    folder = tmp_path / "shared"
    shared_resample(level, 16, 8, folder, 3)
    assert stored_files(folder) == [".lock", ".raster"]
    shared_resample(level, 16, 8, folder, 3)
    assert stored_files(folder) == [".lock", ".raster"]
    shared_resample(level, 16, 8, folder, 3)
    assert stored_files(folder) == []


def test_shared_resample_keeps_widths_apart(pyramid: Path, tmp_path: Path):
    level = pyramid.with_name("L0.raster")
    folder = tmp_path / "shared"
    assert shared_resample(level, 16, 8, folder, 2).size == (16, 8)
    assert shared_resample(level, 20, 10, folder, 2).size == (20, 10)
    assert len(stored_files(folder)) == 4


def test_shared_resample_ignores_an_older_level_file(pyramid: Path, tmp_path: Path):
    """A level written again (new inode and mtime) never reuses the old pixels."""
    level = pyramid.with_name("L0.raster")
    shared_resample(level, 16, 8, tmp_path / "shared", 2)
    write_pyramid(Image.new("RGB", (64, 32), (200, 10, 10)), [level])
    assert shared_resample(level, 16, 8, tmp_path / "shared", 2).getpixel((3, 3)) == (200, 10, 10)


@pytest.mark.parametrize("users", [{}, {"out/noise_32x16": 2}])
def test_resize_image_with_or_without_sharing_writes_the_same_file(pyramid: Path, tmp_path: Path, users):
    plain, shared_png = tmp_path / "plain.png", tmp_path / "out" / "noise_32x16.png"
    resize_image(pyramid, plain, 32, 16, "png", {}, level=1)
    shared = SharedResamples(tmp_path / "shared", {str(tmp_path / key): n for key, n in users.items()})
    resize_image(pyramid, shared_png, 32, 16, "png", {}, level=1, shared=shared)
    assert plain.read_bytes() == shared_png.read_bytes()
    with Image.open(plain) as im:
        assert im.size == (32, 16)


def test_resize_image_stores_a_resample_only_for_targets_that_share_it(pyramid: Path, tmp_path: Path):
    out = tmp_path / "out"
    shared = SharedResamples(tmp_path / "shared", {str(out / "noise_32x16"): 2})
    resize_image(pyramid, out / "noise_16x8.png", 16, 8, "png", {}, level=1, shared=shared)
    assert not shared.folder.exists()
    resize_image(pyramid, out / "noise_32x16.png", 32, 16, "png", {}, level=1, shared=shared)
    assert stored_files(shared.folder) == [".lock", ".raster"]
    resize_image(pyramid, out / "noise_32x16.webp", 32, 16, "webp", {}, level=1, shared=shared)
    assert stored_files(shared.folder) == []


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("results/a_10x5.webp", "results/a_10x5"),
        ("results/sea & sky, Tom's_992x655.png", "results/sea & sky, Tom's_992x655"),
        ("results/v1.2_50x33.jpeg", "results/v1.2_50x33"),
    ],
)
def test_resample_key_drops_only_the_format(output, expected):
    assert resample_key(output) == expected


def test_shared_resamples_load_the_run_s_users_file(tmp_path: Path):
    users_file = tmp_path / "resample-users.json"
    users_file.write_text('{"results/a_10x5": 2}')
    shared = SharedResamples.load(tmp_path / "shared", users_file)
    assert shared.users_of(Path("results/a_10x5.webp")) == 2
    assert shared.users_of(Path("results/a_20x10.webp")) == 1


def test_resize_image_reads_a_level_file_given_directly(pyramid: Path, tmp_path: Path):
    """With object storage the job's input is the level file itself."""
    out = tmp_path / "out.webp"
    resize_image(pyramid.with_name("L2.raster"), out, 8, 4, "webp", {}, level=2)
    with Image.open(out) as im:
        assert (im.size, im.format) == ((8, 4), "WEBP")


def test_resize_image_refuses_a_height_off_the_aspect_ratio(pyramid: Path, tmp_path: Path):
    with pytest.raises(ValueError, match="does not match the source's aspect ratio"):
        resize_image(pyramid, tmp_path / "x.png", 32, 17, "png", {})

"""Property test: whatever the size, mode and widths, every planned file opens,
has exactly the size in its name, and is in the requested format."""

from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from PIL import Image

from scripts.decode_source import decode_source
from scripts.imageops import RASTER_LEVELS, pyramid_level
from scripts.plan import plan_targets, probe_size
from scripts.resize_image import resize_image

PILLOW_NAMES = {"png": "PNG", "webp": "WEBP", "avif": "AVIF", "jpeg": "JPEG"}
SOURCE_FORMATS = {"RGB": "png", "RGBA": "png", "L": "png", "LA": "png", "P": "png", "1": "png", "I;16": "png", "CMYK": "tiff"}

sizes = st.one_of(
    st.sampled_from([(1, 1), (1, 5000), (5000, 1), (2, 3), (3, 2)]),
    st.tuples(st.integers(1, 700), st.integers(1, 700)),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    size=sizes,
    mode=st.sampled_from(sorted(SOURCE_FORMATS)),
    widths=st.lists(st.integers(1, 1200), min_size=1, max_size=4, unique=True),
    fmt=st.sampled_from(sorted(PILLOW_NAMES)),
    gap=st.sampled_from([0, 2.0, 3.0]),
    allow_upscale=st.booleans(),
)
def test_every_planned_file_has_the_size_and_format_in_its_name(
    tmp_path_factory, size, mode, widths, fmt, gap, allow_upscale
):
    folder = tmp_path_factory.mktemp("prop")
    source = folder / f"src.{SOURCE_FORMATS[mode]}"
    Image.effect_noise(size, 40).convert(mode).save(source)
    rasters = [folder / f"L{level}.raster" for level in range(RASTER_LEVELS)]
    decode_source(source, rasters)

    upright = probe_size(source)
    assert upright == size
    targets = plan_targets({"src": upright}, widths, [fmt], allow_upscale)
    assert targets
    # Upscaling a 1-pixel-wide strip makes absurd heights; WebP stops at 16383.
    assume(all(t.height <= 16383 and t.width * t.height <= 10**7 for t in targets))
    for target in targets:
        level = pyramid_level(upright[0], target.width, gap, RASTER_LEVELS)
        out = folder / target.name
        resize_image(rasters[level], out, target.width, target.height, fmt, {})
        with Image.open(out) as im:
            im.load()
            assert im.size == (target.width, target.height)
            assert im.format == PILLOW_NAMES[fmt]
        assert Path(out).name == f"src_{target.width}x{target.height}.{fmt}"


#: Containers Pillow writes, the modes each takes, and whether it carries an
#: orientation (EXIF for JPEG, PNG and WebP; the TIFF directory's own tag).
CONTAINERS = {
    "jpg": (("L", "RGB", "CMYK"), True),
    "png": (("1", "L", "LA", "P", "RGB", "RGBA", "I;16"), True),
    "webp": (("RGB", "RGBA"), True),
    "tif": (("1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "I;16"), True),
    "gif": (("L", "P"), False),
}
TRANSPOSED = {5, 6, 7, 8}


@st.composite
def oriented_sources(draw):
    container = draw(st.sampled_from(sorted(CONTAINERS)))
    modes, oriented = CONTAINERS[container]
    mode = draw(st.sampled_from(modes))
    value = draw(st.integers(1, 8)) if oriented else 1
    size = draw(st.tuples(st.integers(1, 300), st.integers(1, 300)))
    return container, mode, value, size


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=oriented_sources(), width=st.integers(1, 400))
def test_every_mode_orientation_and_container_is_planned_and_built_upright(tmp_path_factory, case, width):
    container, mode, value, size = case
    folder = tmp_path_factory.mktemp("oriented")
    source = folder / f"src.{container}"
    stored = Image.effect_noise(size, 40).convert(mode)
    if container == "tif":
        stored.save(source, tiffinfo={0x0112: value})
    elif value != 1:
        exif = Image.Exif()
        exif[0x0112] = value
        stored.save(source, exif=exif.tobytes())
    else:
        stored.save(source)
    expected = size[::-1] if value in TRANSPOSED else size
    rasters = [folder / f"L{level}.raster" for level in range(RASTER_LEVELS)]
    try:
        decode_source(source, rasters, digests=folder / "levels.sha256")
    except (OSError, ValueError) as error:  # named, and nothing half-done
        assert str(error)
        assert not any(path.exists() for path in rasters)
        return
    assert probe_size(source) == expected
    (target,) = plan_targets({"src": expected}, [width], ["png"])
    out = folder / target.name
    resize_image(rasters[pyramid_level(expected[0], target.width, 3.0, RASTER_LEVELS)], out, target.width, target.height, "png", {})
    with Image.open(out) as im:
        assert im.size == (target.width, target.height)

"""End-to-end robustness: bad sources, odd names, crashes, concurrency, image modes."""

import io
import json
import os
import random
import re
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image, ImageCms

from conftest import job_environment, make_image, planned_resources


def build_log(done: subprocess.CompletedProcess) -> str:
    return done.stdout + done.stderr


#: Where a job's one ERROR line starts. A job's stderr and Snakemake's share a
#: stream, and Snakemake writes a message and its newline in two calls, so a
#: job's line can land right after a message, on its line.
ERROR_START = re.compile(r"ERROR (?=input_images/|https?://)")


def error_lines(log: str) -> list[str]:
    """The ERROR lines of the jobs, wherever on a line of the output each one starts."""
    return [line[found.start() :] for line in log.splitlines() if (found := ERROR_START.search(line))]


@pytest.mark.parametrize(
    ("name", "content", "cause"),
    [
        ("truncated.jpg", "truncated", "truncated"),
        ("empty.jpg", b"", "cannot identify image file"),
        ("notes.jpg", b"just some text\n", "cannot identify image file"),
        (
            "photo.heic.png",
            b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64),
            "cannot identify image file",
        ),
    ],
)
def test_a_bad_source_fails_alone_with_one_line(workflow, name, content, cause):
    make_image(workflow.inputs / "good.jpg", (64, 48))
    path = workflow.inputs / name
    if content == "truncated":
        make_image(path, (64, 48), quality=95)
        path.write_bytes(path.read_bytes()[:400])
    else:
        path.write_bytes(content)
    done = workflow.run(check=False)
    log = build_log(done)
    assert done.returncode != 0
    errors = error_lines(log)
    assert len(errors) == 1
    assert errors[0].startswith(f"ERROR input_images/{name}: ")
    assert cause in errors[0].lower()
    assert f"FAILED: 1 source(s): input_images/{name}" in log
    assert {n for n in workflow.outputs() if n.startswith("good_")} == {
        f"good_{s}.{f}" for s in ("40x30", "20x15", "10x8") for f in ("png", "webp")
    }
    assert not [n for n in workflow.outputs() if not n.startswith("good_")]


#: Loaded by every Python process of the run (PYTHONPATH): the JPEG decoder
#: crashes the process, for real (SIGSEGV), on a file named segfault*.
CRASHING_JPEG_DECODER = """
import faulthandler
import os

from PIL import JpegImagePlugin

_load = JpegImagePlugin.JpegImageFile.load


def load(self):
    if os.path.basename(self.filename or "").startswith("segfault"):
        faulthandler._sigsegv()
    return _load(self)


JpegImagePlugin.JpegImageFile.load = load
"""


def test_a_decoder_that_crashes_fails_only_its_source(workflow, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(CRASHING_JPEG_DECODER)
    make_image(workflow.inputs / "segfault.jpg", (64, 48))
    make_image(workflow.inputs / "good.jpg", (64, 48))
    done = workflow.run(check=False, env={"PYTHONPATH": str(site)})
    log = build_log(done)
    assert done.returncode != 0
    assert error_lines(log) == ["ERROR input_images/segfault.jpg: the decoder crashed (signal 11)"]
    assert "FAILED: 1 source(s): input_images/segfault.jpg" in log
    assert {n for n in workflow.outputs() if n.startswith("good_")} == {
        f"good_{s}.{f}" for s in ("40x30", "20x15", "10x8") for f in ("png", "webp")
    }
    assert not [n for n in workflow.outputs() if n.startswith("segfault")]
    assert not list(workflow.results.rglob("*.part"))
    assert not (workflow.build / "cache" / "segfault" / "levels.sha256").exists()
    decode_log = (workflow.build / "logs" / "decode_source" / "segfault.log").read_text().splitlines()
    assert decode_log[-1].endswith(" ERROR input_images/segfault.jpg: the decoder crashed (signal 11)")
    # The web files wait on it this once; from the next run on they leave it out.
    assert "Web files not updated: they wait on input_images/segfault.jpg;" in log
    again = build_log(workflow.run(check=False, env={"PYTHONPATH": str(site)}))
    assert "Web files leave out 1 failed source(s): input_images/segfault.jpg" in again
    assert list(json.loads((workflow.results / "manifest.json").read_text())["sources"]) == ["good"]


#: Stands in for Ghostscript (and its other names) on PATH: it leaves a mark if run.
FAKE_GHOSTSCRIPT = '#!/bin/sh\ntouch "$GHOSTSCRIPT_RAN"\nexit 1\n'


def test_other_formats_under_image_names_are_refused_unopened(workflow, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("gs", "gsc", "gswin32c", "gswin64c"):
        (bin_dir / name).write_text(FAKE_GHOSTSCRIPT)
        (bin_dir / name).chmod(0o755)
    ran = tmp_path / "ghostscript-ran"
    make_image(workflow.inputs / "good.jpg", (64, 48))
    (workflow.inputs / "vector.jpg").write_bytes(
        b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 64 48\nnewpath 0 0 moveto 64 48 lineto stroke\n%%EOF\n"
    )
    (workflow.inputs / "layers.png").write_bytes(b"8BPS\x00\x01" + bytes(6) + b"\x00\x03\x00\x00\x00\x30\x00\x00\x00\x40\x00\x08\x00\x03" + bytes(64))
    env = {"PATH": os.pathsep.join([str(bin_dir), job_environment()["PATH"]]), "GHOSTSCRIPT_RAN": str(ran)}
    done = workflow.run(check=False, env=env)
    errors = sorted(error_lines(build_log(done)))
    assert errors == [
        "ERROR input_images/layers.png: PSD content, not an allowed image format",
        "ERROR input_images/vector.jpg: EPS content, not an allowed image format",
    ]
    assert not ran.exists(), "Ghostscript was started"
    assert {n for n in workflow.outputs() if not n.startswith("good_")} == set()
    assert "good_40x30.png" in workflow.outputs()


def test_a_format_the_config_allows_is_built(workflow):
    workflow.inputs.mkdir()
    Image.new("RGB", (40, 20), (10, 20, 30)).save(workflow.inputs / "old.png", "BMP")
    workflow.set_config(source_formats=["JPEG", "PNG", "BMP"], widths=[40])
    workflow.run()
    with Image.open(workflow.results / "old_40x20.png") as out:
        assert out.getpixel((5, 5)) == (10, 20, 30)


def test_tiffs_with_their_own_orientation_tag_build_upright(workflow):
    """The Orientation tag of the TIFF directory (no EXIF block), on bilevel G4
    TIFFs as scanners write them: 1-4 keep 59x8, 5-8 turn to 8x59."""
    workflow.inputs.mkdir()
    for value in range(1, 9):
        stored = Image.frombytes("L", (59, 8), random.Random(value).randbytes(59 * 8)).point(lambda v: 255 * (v > 127))
        stored.convert("1").save(workflow.inputs / f"o{value}.tif", compression="group4", tiffinfo={0x0112: value})
    workflow.set_config(widths=[8], formats=["png"])
    workflow.run()
    assert set(workflow.outputs()) == {f"o{v}_8x2.png" for v in range(1, 5)} | {f"o{v}_8x59.png" for v in range(5, 9)}


def test_a_png_named_jpg_is_read_by_its_content(workflow):
    make_image(workflow.inputs / "actually_png.jpg", (20, 10), format="PNG")
    workflow.run()
    assert "actually_png_20x10.webp" in workflow.outputs()


# 5,000 is below half the source's pixels, where Pillow's own check would fire first.
@pytest.mark.parametrize("limit", [10_000, 5_000])
def test_a_source_above_max_pixels_is_refused_before_decoding(workflow, limit):
    make_image(workflow.inputs / "big.png", (120, 100))
    make_image(workflow.inputs / "small.png", (60, 50))
    workflow.set_config(max_pixels=limit)
    done = workflow.run(check=False)
    assert done.returncode != 0
    errors = error_lines(build_log(done))
    assert errors == [f"ERROR input_images/big.png: 120x100 is 12,000 pixels, above the limit of {limit:,} (config max_pixels)"]
    assert "small_40x34.png" in workflow.outputs()


@pytest.mark.parametrize(
    "stem",
    ["with space", "ünïcødé", "quote'd", 'double"q', "dollar$HOME", "semi;colon", "paren(s)", "-leading", "back\\slash"],
)
def test_awkward_file_names_build(workflow, stem):
    make_image(workflow.inputs / f"{stem}.jpg", (20, 10))
    workflow.run()
    assert set(workflow.outputs()) == {f"{stem}_20x10.png", f"{stem}_20x10.webp", f"{stem}_10x5.png", f"{stem}_10x5.webp"}


@pytest.mark.parametrize("name", ["curly{x}.jpg", "angle<y>.jpg"])
def test_names_snakemake_cannot_use_are_skipped_with_a_message(workflow, name):
    make_image(workflow.inputs / name, (20, 10))
    make_image(workflow.inputs / "fine.jpg", (20, 10))
    done = workflow.run()
    assert f"SKIPPED input_images/{name}: Snakemake reads {{}} and <> in file names as wildcards" in done.stderr
    assert {n.split("_")[0] for n in workflow.outputs()} == {"fine"}


def test_two_sources_with_one_stem_stop_the_run_before_any_job(workflow):
    make_image(workflow.inputs / "photo.jpg")
    make_image(workflow.inputs / "photo.png")
    done = workflow.run(check=False)
    assert done.returncode != 0
    assert "have the same stem 'photo'" in build_log(done)
    assert "Traceback (most recent call last)" not in build_log(done)
    assert not workflow.results.exists()


#: Loaded by every Python process of the run (PYTHONPATH): the atomic rename of
#: the file whose path ends with $TEST_GATE_FILE waits, its .part file written,
#: until the test opens the gate. ``entered`` says a writer is waiting; ``open``
#: lets it go on.
GATED_RENAME = """
import os
import pathlib
import time

_replace = os.replace
_gate = pathlib.Path(os.environ["TEST_GATE"])
_file = os.environ["TEST_GATE_FILE"]


def replace(src, dst, *args, **kwargs):
    if str(src).endswith(".part") and str(dst).endswith(_file):
        (_gate / "entered").write_text(str(src))
        while not (_gate / "open").exists():
            time.sleep(0.01)
    return _replace(src, dst, *args, **kwargs)


os.replace = replace
"""


def start_gated_run(workflow, gate, gated_file, *args, launcher=()):
    """A run whose write of ``gated_file`` waits at its rename; its output goes
    to a file. ``launcher`` is a command prefix it runs under, as in Workflow.run."""
    gate.mkdir()
    (gate / "sitecustomize.py").write_text(GATED_RENAME)
    env = {**job_environment(), "PYTHONPATH": str(gate), "TEST_GATE": str(gate), "TEST_GATE_FILE": gated_file}
    with open(gate / "output.log", "wb") as output:
        return subprocess.Popen(
            [*launcher, sys.executable, "-m", "snakemake", "--cores", "2", *args],
            cwd=workflow.root, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )


def wait_for(condition, what, run, timeout=120):
    """Poll ``condition`` until it holds; fail if ``run`` ends first or time runs out."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert run.poll() is None, f"the run ended before {what}"
        assert time.monotonic() < deadline, f"no {what} after {timeout} s"
        time.sleep(0.01)


def kill_the_whole_run(run):
    """SIGKILL ``run``'s process group, and wait until none of it is alive."""
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    deadline = time.monotonic() + 30
    while live_members(run.pid):
        assert time.monotonic() < deadline, f"the killed run's processes live on: {live_members(run.pid)}"
        time.sleep(0.01)


def assert_every_output_whole(workflow, partial):
    """Every variant of the gated sources is there and decodes, and neither the
    killed write's .part file nor any other is left."""
    expected = expected_outputs([f"img{i}" for i in range(4)] + ["gate"])
    assert set(workflow.outputs()) == expected
    for name in expected:
        with Image.open(workflow.results / name) as im:
            im.load()  # raises on a truncated file
    assert not partial.exists()
    assert [p.name for p in workflow.results.rglob(".*.part")] == []


def live_members(group: int) -> list[int]:
    """Processes of a process group that have not exited (zombies do not count)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


@pytest.fixture
def gated_sources(workflow):
    for index in range(4):
        make_image(workflow.inputs / f"img{index}.png", (900, 600), color=(index * 30, 80, 160))
    make_image(workflow.inputs / "gate.png", (900, 600), color=(10, 200, 60))
    workflow.set_config(widths=[800, 400, 100], formats=["png", "webp"])
    return workflow


def expected_outputs(stems) -> set[str]:
    return {f"{stem}_{w}x{-(-w * 2 // 3)}.{f}" for stem in stems for w in (800, 400, 100) for f in ("png", "webp")}


# The decode job (a process) killed with its first raster in place: Snakemake
# marked it incomplete. A resize (a thread of Snakemake) killed mid-write.
@pytest.mark.parametrize("gated_file", ["cache/gate/L1.raster", "gate_800x534.png"], ids=["decode", "resize"])
def test_kill_9_mid_write_then_a_plain_rerun_completes(gated_sources, tmp_path, gated_file, private_tmpdir):
    workflow = gated_sources
    gate = tmp_path / "gate"
    run = start_gated_run(workflow, gate, gated_file)
    try:
        wait_for(lambda: (gate / "entered").exists(), "write of a gate file", run)
        partial = Path(workflow.root, (gate / "entered").read_text())
        assert partial.exists(), "the killed write had a .part file"
        if gated_file.endswith("L1.raster"):
            assert (workflow.build / "cache" / "gate" / "L0.raster").exists(), "the killed job had an output in place"
        kill_the_whole_run(run)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
    done = workflow.run()
    assert "Built" in done.stderr
    assert_every_output_whole(workflow, partial)
    assert list(private_tmpdir.iterdir()) == []  # not even the killed run's temporary folder


def test_kill_9_of_a_partitioned_run_then_a_plain_rerun_completes(gated_sources, tmp_path, private_tmpdir):
    """The partitioned run and its partitions' runs, killed together while a
    partition's run writes a variant; the next partitioned run completes."""
    workflow = gated_sources
    gate = tmp_path / "gate"
    partitioned = ("--config", "partitions=2")
    run = start_gated_run(workflow, gate, "gate_800x534.png", *partitioned)
    try:
        wait_for(lambda: (gate / "entered").exists(), "write of a gate file", run)
        partial = Path(workflow.root, (gate / "entered").read_text())
        assert partial.exists(), "the killed write had a .part file"
        kill_the_whole_run(run)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
    done = workflow.run(*partitioned)
    assert "Built 2 partition(s)" in done.stderr or "Built 1 partition(s)" in done.stderr
    assert_every_output_whole(workflow, partial)
    manifest = json.loads((workflow.results / "manifest.json").read_text())
    assert sorted(manifest["sources"]) == ["gate", "img0", "img1", "img2", "img3"]
    assert "Nothing to build: every partition is up to date." in workflow.run(*partitioned).stderr
    assert list(private_tmpdir.iterdir()) == []  # the killed runs' temporary folders too


def test_a_second_run_in_the_same_folder_is_refused(gated_sources, tmp_path):
    workflow = gated_sources
    gate = tmp_path / "gate"
    first = start_gated_run(workflow, gate, "gate_800x534.png")
    try:
        wait_for(lambda: (gate / "entered").exists(), "write of a gate file", first)
        second = workflow.run(check=False)
        (gate / "open").touch()
        assert first.wait(timeout=600) == 0, (gate / "output.log").read_text()
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait()
    assert second.returncode != 0
    assert "another run (pid " in build_log(second)
    assert "is building in this folder" in build_log(second)
    assert "Nothing to build" not in build_log(second)
    assert set(workflow.outputs()) == expected_outputs([f"img{i}" for i in range(4)] + ["gate"])


def test_exif_orientation_sets_the_target_names(workflow):
    exif = Image.Exif()
    exif[0x0112] = 6
    make_image(workflow.inputs / "portrait.jpg", (64, 48), exif=exif)
    workflow.run()
    assert "portrait_40x54.png" in workflow.outputs()
    with Image.open(workflow.results / "portrait_40x54.png") as im:
        assert im.size == (40, 54)


def adobe_rgb_profile() -> bytes:
    """A minimal ICC v2 display profile with Adobe RGB (1998) primaries and gamma 2.2."""

    def s15(value: float) -> bytes:
        return struct.pack(">i", round(value * 65536))

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ " + bytes(4) + s15(x) + s15(y) + s15(z)

    text = b"Adobe RGB test\x00"
    tags = {
        b"desc": b"desc" + bytes(4) + struct.pack(">I", len(text)) + text + bytes(4 + 4 + 2 + 1 + 67),
        b"wtpt": xyz(0.9642, 1.0, 0.8249),
        b"rXYZ": xyz(0.6097, 0.3111, 0.0195),
        b"gXYZ": xyz(0.2053, 0.6257, 0.0609),
        b"bXYZ": xyz(0.1492, 0.0632, 0.7446),
    }
    curve = b"curv" + bytes(4) + struct.pack(">IH", 1, 563) + bytes(2)
    tags.update({b"rTRC": curve, b"gTRC": curve, b"bTRC": curve})
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for signature, body in tags.items():
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += body + bytes(-len(body) % 4)
    size = offset + len(data)
    header = (
        struct.pack(">I", size) + bytes(4) + struct.pack(">I", 0x02100000) + b"mntrRGB XYZ "
        + bytes(12) + b"acsp" + bytes(4 * 4 + 8 + 4) + s15(0.9642) + s15(1.0) + s15(0.8249) + bytes(4 + 16 + 28)
    )
    return header + struct.pack(">I", len(tags)) + table + data


def test_icc_profile_is_converted_to_srgb(workflow):
    icc = adobe_rgb_profile()
    make_image(workflow.inputs / "tagged.png", (20, 10), color=(200, 40, 40), icc_profile=icc)
    workflow.run()
    expected = ImageCms.profileToProfile(
        Image.new("RGB", (1, 1), (200, 40, 40)),
        ImageCms.ImageCmsProfile(io.BytesIO(icc)),
        ImageCms.createProfile("sRGB"),
        renderingIntent=ImageCms.Intent.PERCEPTUAL,
    ).getpixel((0, 0))
    assert expected != (200, 40, 40)  # the profile really changes the colour
    with Image.open(workflow.results / "tagged_20x10.png") as out:
        assert "icc_profile" not in out.info
        actual = out.getpixel((10, 5))
    assert max(abs(a - e) for a, e in zip(actual, expected)) <= 2


#: 16 known colours for palette sources.
PALETTE = [(17 * i, 255 - 17 * i, (97 * i) % 256) for i in range(16)]


def noise_image(mode: str, size: tuple[int, int], seed: int = 7) -> Image.Image:
    """Seeded random pixels in ``mode``, every channel and value range in use."""
    rng = random.Random(seed)
    count = size[0] * size[1]
    if mode == "I;16":
        return Image.frombytes("I;16", size, struct.pack(f"<{count}H", *(rng.randrange(65536) for _ in range(count))))
    if mode == "1":
        return Image.frombytes("L", size, rng.randbytes(count)).point(lambda v: 255 if v > 127 else 0).convert("1")
    if mode == "P":
        im = Image.frombytes("P", size, bytes(rng.randrange(16) for _ in range(count)))
        im.putpalette([channel for colour in PALETTE for channel in colour])
        return im
    return Image.frombytes(mode, size, rng.randbytes(count * len(mode)))


def expected_pixels(source: Image.Image) -> list:
    """The 8-bit pixels a source must give, from first principles, not from the workflow's code."""
    values = list(source.get_flattened_data())
    if source.mode == "P":
        return [PALETTE[index] for index in values]
    if source.mode == "1":
        return [255 if value else 0 for value in values]
    if source.mode == "I;16":
        return [value >> 8 for value in values]  # the high byte: 0-65535 onto 0-255
    if source.mode == "CMYK":
        return [tuple(round((255 - ink) * (255 - k) / 255) for ink in (c, m, y)) for c, m, y, k in values]
    return values


@pytest.mark.parametrize(
    ("mode", "suffix", "expected_mode"),
    [
        ("RGB", "png", "RGB"),
        ("RGBA", "png", "RGBA"),
        ("L", "png", "L"),
        ("LA", "png", "LA"),
        ("P", "png", "RGB"),
        ("1", "png", "L"),
        ("I;16", "png", "L"),
        ("CMYK", "tif", "RGB"),
        ("CMYK", "jpg", "RGB"),
    ],
)
def test_a_full_width_png_variant_has_the_sources_pixels_in_8_bits(workflow, mode, suffix, expected_mode):
    source = noise_image(mode, (20, 10))
    workflow.inputs.mkdir()
    source.save(workflow.inputs / f"src.{suffix}", **({"quality": 100} if suffix == "jpg" else {}))
    with Image.open(workflow.inputs / f"src.{suffix}") as saved:
        source = saved.copy()  # what a JPEG really holds
    workflow.set_config(formats=["png"], widths=[20])
    workflow.run()
    with Image.open(workflow.results / "src_20x10.png") as out:
        assert out.mode == expected_mode
        actual = list(out.get_flattened_data())
    expected = expected_pixels(source)
    tolerance = 1 if mode == "CMYK" else 0  # rounding of the product
    worst = max(
        max(abs(a - e) for a, e in zip(got, want)) if isinstance(got, tuple) else abs(got - want)
        for got, want in zip(actual, expected)
    )
    assert worst <= tolerance


@pytest.mark.parametrize(
    ("mode", "fmt", "expected_mode"),
    [
        ("RGBA", "png", "RGBA"),
        ("RGBA", "webp", "RGBA"),
        ("RGBA", "avif", "RGBA"),
        ("RGBA", "jpeg", "RGB"),
        ("LA", "png", "LA"),
        ("P", "png", "RGB"),
        ("CMYK", "jpeg", "RGB"),
        ("I;16", "png", "L"),
        ("L", "avif", "RGB"),
    ],
)
def test_image_modes_produce_valid_outputs(workflow, mode, fmt, expected_mode):
    suffix = "tif" if mode in ("CMYK", "I;16") else "png"
    workflow.inputs.mkdir()
    noise_image(mode, (20, 10)).save(workflow.inputs / f"src.{suffix}")
    workflow.set_config(formats=[fmt])
    workflow.run()
    with Image.open(workflow.results / f"src_20x10.{fmt}") as out:
        assert out.mode == expected_mode
        assert out.size == (20, 10)


def test_alpha_is_flattened_onto_the_background_for_jpeg(workflow):
    make_image(workflow.inputs / "clear.png", (20, 10), mode="RGBA", color=(0, 0, 0, 0))
    workflow.set_config(formats=["jpeg"], background="#00ff00")
    workflow.run()
    with Image.open(workflow.results / "clear_20x10.jpeg") as out:
        red, green, blue = out.getpixel((10, 5))
    assert green > 240 and red < 15 and blue < 15


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "PNG"])
def test_animated_sources_use_their_first_frame(workflow, fmt):
    frames = [Image.new("RGB", (20, 10), color) for color in ((255, 0, 0), (0, 0, 255))]
    workflow.inputs.mkdir()
    frames[0].save(workflow.inputs / f"anim.{fmt.lower()}", format=fmt, save_all=True, append_images=frames[1:], lossless=True)
    workflow.run()
    with Image.open(workflow.results / "anim_20x10.png") as out:
        assert out.getpixel((10, 5)) == (255, 0, 0)


def mounted_tmpfs(workflow, name: str, options: str):
    """A tmpfs under the workflow (needs root to mount; the test is skipped otherwise)."""
    mount_point = workflow.root / name
    mount_point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mount_point)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=True)


@pytest.fixture
def small_disk(workflow):
    yield from mounted_tmpfs(workflow, "small_disk", "size=256k")


@pytest.fixture
def read_only_folder(workflow):
    yield from mounted_tmpfs(workflow, "read_only", "ro,size=1m")


def test_a_read_only_output_folder_stops_the_run_and_writes_nothing(workflow, read_only_folder):
    """Snakemake stops this case itself, before any job (it creates each job's
    output folders first); the workflow's own write errors are the full-disk
    test's subject."""
    make_image(workflow.inputs / "photo.png", (40, 20))
    workflow.set_config(output_dir=read_only_folder.name)
    done = workflow.run(check=False)
    assert done.returncode != 0
    assert "Read-only file system" in build_log(done)
    assert list(read_only_folder.iterdir()) == []


def test_a_full_disk_fails_cleanly_with_one_line(workflow, small_disk):
    make_image(workflow.inputs / "large.png", (1200, 800))
    make_image(workflow.inputs / "tiny.png", (20, 10))
    workflow.set_config(output_dir=str(small_disk.name), build_dir=f"{small_disk.name}/build", widths=[20, 10])
    # One job at a time: two at once, the tiny source's write can also find
    # the disk full while the large one's partial file fills it (seen once in
    # CI), and this test is about the one source that cannot fit.
    done = workflow.run("--cores", "1", check=False)
    log = build_log(done)
    assert done.returncode != 0
    assert "ERROR input_images/large.png: [Errno 28] No space left on device" in log
    assert "FAILED: 1 source(s): input_images/large.png" in log
    assert "tiny_20x10.png" in {p.name for p in small_disk.iterdir()}
    assert not list(small_disk.rglob("*.part"))
    assert not (small_disk / "build" / "cache" / "large" / "L0.raster").exists()


def test_local_runs_cap_job_memory_to_the_machine_unless_told(workflow):
    make_image(workflow.inputs / "photo.png", (40, 20))
    done = workflow.run()
    assert "Memory: jobs share at most" in done.stderr
    (workflow.results / "photo_40x20.png").unlink()
    told = workflow.run("--resources", "mem_mb=4000")
    assert "Memory: jobs share at most" not in told.stderr
    assert "photo_40x20.png" in workflow.outputs()


def test_each_job_declares_memory_and_minutes_from_the_pixels_it_reads(workflow):
    # 12 megapixels. Decode: 100 + 12 MB per megapixel, 2 minutes + 1 per 10
    # megapixels. Resize: 100 + 6 MB and 1 minute + 1 per 10 megapixels of the
    # level it reads: the full size for width 3000, 1/1024 of it for width 40.
    make_image(workflow.inputs / "photo.png", (4000, 3000))
    workflow.set_config(widths=[3000, 40], formats=["webp"])
    planned = planned_resources(workflow.run("-n", "--logger-brief-jobs").stdout)
    decode = planned["decode_source", "build/cache/photo/L0.raster"]
    assert (decode["mem_mb"], decode["runtime"]) == ("244", "3")
    wide, narrow = planned["resize_image", "results/photo_3000x2250.webp"], planned["resize_image", "results/photo_40x30.webp"]
    assert (wide["mem_mb"], wide["runtime"]) == ("172", "2")
    assert (narrow["mem_mb"], narrow["runtime"]) == ("100", "1")

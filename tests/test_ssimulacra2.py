"""SSIMULACRA2 as the ``ssimulacra2`` package and scripts/ssimulacra2.py
compute it, against the scores of libjxl's own tool on the same pairs
(tests/data/ssimulacra2_reference.json, made by
benchmarks/ssimulacra2_reference.py; docs/quality.md).

The pairs are the sample photos resized, then encoded as WebP or JPEG, each
also mirror-tiled to 256 px a side. Only pairs with all six of the metric's
scales are compared: under 256 px a side both implementations are erratic.
"""

from __future__ import annotations

import json

import pytest
from ssimulacra2 import ssimulacra2 as package
from threadpoolctl import threadpool_info

from benchmarks.ssimulacra2_reference import REFERENCE, pairs
from scripts.ssimulacra2 import FULL_SCALES_SIDE, mirror_tiled
from scripts.ssimulacra2 import ssimulacra2 as vectorised

#: On full-scale pairs the package reads below libjxl's tool, never above: by
#: 0.3 to 3.2 points on these pairs (docs/quality.md). A quality chosen with
#: it reaches its target by libjxl's score too, for a few more bytes.
LOWEST, HIGHEST = -3.5, 0.1
REFERENCE_SCORES = json.loads(REFERENCE.read_text())["scores"]
FULL_SCALE_PAIRS = [
    (name, reference, distorted)
    for name, reference, distorted in pairs()
    if min(reference.size) >= FULL_SCALES_SIDE
]


def test_every_pair_has_a_reference_score():
    assert {name for name, _, _ in pairs()} == set(REFERENCE_SCORES)
    assert len(FULL_SCALE_PAIRS) == 30


@pytest.mark.parametrize(("name", "reference", "distorted"), FULL_SCALE_PAIRS, ids=[p[0] for p in FULL_SCALE_PAIRS])
def test_the_package_agrees_with_libjxls_tool_on_full_scale_pairs(tmp_path, name, reference, distorted):
    reference.save(tmp_path / "ref.png")
    distorted.save(tmp_path / "dist.png")
    score = package.compute_ssimulacra2(str(tmp_path / "ref.png"), str(tmp_path / "dist.png"))
    assert LOWEST <= score - REFERENCE_SCORES[name] <= HIGHEST, (score, REFERENCE_SCORES[name])


@pytest.mark.parametrize("size", [(100, 67), (255, 300), (40, 600), (256, 256)])
def test_mirror_tiling_reaches_full_scale_and_keeps_the_image_in_its_corner(size):
    from PIL import Image

    im = Image.linear_gradient("L").resize(size).convert("RGB")
    tiled = mirror_tiled(im)
    assert min(tiled.size) >= FULL_SCALES_SIDE
    assert tiled.crop((0, 0, *size)).tobytes() == im.tobytes()
    if tiled.width > size[0]:  # the copy to the right is the mirror image
        assert tiled.getpixel((size[0], 0)) == im.getpixel((size[0] - 1, 0))


#: scripts/ssimulacra2.py reads 0.04 to 0.40 points above libjxl's tool on
#: these pairs: its blur is a truncated Gaussian, libjxl's a recursive one.
VECTORISED_LOWEST, VECTORISED_HIGHEST = 0.0, 0.5


@pytest.mark.parametrize(("name", "reference", "distorted"), FULL_SCALE_PAIRS, ids=[p[0] for p in FULL_SCALE_PAIRS])
def test_the_vectorised_metric_agrees_with_libjxls_tool_on_full_scale_pairs(name, reference, distorted):
    score = vectorised(reference, distorted)
    assert VECTORISED_LOWEST <= score - REFERENCE_SCORES[name] <= VECTORISED_HIGHEST, (score, REFERENCE_SCORES[name])


def test_the_vectorised_metric_gives_100_for_identical_images_and_less_for_others():
    from PIL import Image, ImageFilter

    im = Image.effect_noise((300, 260), 60).convert("RGB")
    assert vectorised(im, im.copy()) == 100.0
    assert vectorised(im, im.filter(ImageFilter.GaussianBlur(2))) < vectorised(im, im.filter(ImageFilter.GaussianBlur(0.5)))


def test_the_vectorised_metric_refuses_images_of_different_sizes():
    from PIL import Image

    with pytest.raises(ValueError, match=r"the images differ in size: \(10, 10\) and \(10, 11\)"):
        vectorised(Image.new("RGB", (10, 10)), Image.new("RGB", (10, 11)))


def test_numpys_blas_runs_on_one_thread_once_the_metric_is_imported():
    """A job is one thread: numpy's BLAS pool of a thread a core busy-waited
    on the cores of the jobs beside it (docs/quality.md, "Two cores")."""
    numpys = [pool for pool in threadpool_info() if pool["user_api"] == "blas" and "numpy" in pool["filepath"]]
    assert numpys
    assert [pool["num_threads"] for pool in numpys] == [1] * len(numpys)

"""scripts/auto_quality.py: the quality search, on tiny images."""

import io
import math
import json

import pytest
from PIL import Image, ImageDraw

from scripts import auto_quality
from scripts.auto_quality import choose_quality, encode, lowest_quality, search_quality
from scripts.formats import FORMATS
from scripts.imageops import write_pyramid
from scripts.ssimulacra2 import Reference, mirror_tiled


def photo_like(size=(96, 64), seed=3) -> Image.Image:
    """Smooth gradients under fine noise: an encoder's quality shows on it."""
    im = Image.linear_gradient("L").resize(size).convert("RGB")
    noise = Image.effect_noise(size, 40 + seed).convert("RGB")
    return Image.blend(im, noise, 0.35)


@pytest.mark.parametrize("target", [0.5, 17.2, 50, 63.7, 99.9])
@pytest.mark.parametrize("start", [1, 40, 80, 100])
def test_lowest_quality_finds_the_boundary_of_a_growing_score(target, start):
    assert lowest_quality(float, target, start) == math.ceil(target)


@pytest.mark.parametrize("start", [1, 60, 100])
def test_lowest_quality_is_the_highest_when_no_quality_reaches_the_target(start):
    assert lowest_quality(lambda q: q / 2, 80, start) == 100
    assert lowest_quality(lambda q: q / 2, 80, min(start, 95), highest=95) == 95


@pytest.mark.parametrize("start", [1, 60, 100])
def test_lowest_quality_is_1_when_every_quality_reaches_the_target(start):
    assert lowest_quality(lambda q: 100 + q, 80, start) == 1


def test_lowest_quality_scores_each_quality_once():
    asked = []

    def score(quality):
        asked.append(quality)
        return quality * 0.7 + 10

    assert lowest_quality(score, 60, 80) == 72
    assert len(asked) == len(set(asked)) <= 7


def score_at(im: Image.Image, fmt: str, quality: int) -> float:
    ready = im.convert("RGB")
    with Image.open(io.BytesIO(encode(ready, fmt, {}, quality))) as decoded:
        decoded.load()
        if min(im.size) < 256:
            return Reference(mirror_tiled(ready)).score(mirror_tiled(decoded))
        return Reference(ready).score(decoded)


@pytest.mark.parametrize("fmt", ["webp", "jpeg", "avif"])
@pytest.mark.parametrize("target", [55, 75])
def test_search_quality_gives_the_lowest_quality_that_reaches_the_target(fmt, target):
    im = photo_like()
    quality, score, *_ = search_quality(im, fmt, {}, target)
    assert score == pytest.approx(score_at(im, fmt, quality))
    assert score >= target
    if quality > 1:
        assert score_at(im, fmt, quality - 1) < target


def test_search_quality_never_saves_the_shared_resample_itself(monkeypatch):
    """The resample is shared with resize jobs that save it meanwhile: two saves
    of one image object can swap their settings (scripts/imageops.py)."""
    im = photo_like()
    saved = []
    original = Image.Image.save
    monkeypatch.setattr(Image.Image, "save", lambda self, *a, **k: (saved.append(self), original(self, *a, **k))[1])
    search_quality(im, "webp", {}, 70)
    assert saved and all(each is not im for each in saved)


def test_search_quality_scores_a_wide_image_untiled():
    im = photo_like((300, 260))
    quality, score, *_ = search_quality(im, "webp", {}, 70)
    assert score == pytest.approx(Reference(im).score(Image.open(io.BytesIO(encode(im, "webp", {}, quality)))))


def test_a_higher_target_asks_a_higher_quality():
    im = photo_like()
    assert search_quality(im, "webp", {}, 50)[0] < search_quality(im, "webp", {}, 80)[0]


def test_png_has_no_quality_to_choose():
    with pytest.raises(ValueError, match="png has no lossy quality"):
        search_quality(photo_like(), "png", {}, 70)


def test_jpeg_is_scored_flattened_onto_the_background():
    im = photo_like().convert("RGBA")
    im.putalpha(128)
    quality, score, *_ = search_quality(im, "jpeg", {}, 60, background="#336699")
    assert score >= 60


@pytest.fixture
def pyramid(tmp_path):
    im = photo_like((120, 80))
    paths = [tmp_path / f"L{level}.raster" for level in range(3)]
    digests = tmp_path / "levels.sha256"
    write_pyramid(im, paths, digests)
    return digests


def test_choose_quality_writes_the_quality_and_its_score(pyramid, tmp_path):
    output = tmp_path / "quality" / "photo_120x80.webp.json"
    line = choose_quality(pyramid, output, "webp", {"method": 4, "quality": "auto"}, 65.0, (0, 60, 40))
    choice = json.loads(output.read_text())
    assert set(choice) == {"quality", "ssimulacra2", "settings"}
    assert choice["settings"] == {}
    assert choice["ssimulacra2"] >= 65
    assert f"chose quality {choice['quality']}" in line


def test_choose_quality_searches_once_for_the_variants_that_share_a_search(pyramid, tmp_path):
    auto_quality.SEARCHES.clear()
    for name in ("a", "b", "c"):
        choose_quality(pyramid, tmp_path / f"{name}.json", "webp", {}, 65.0, (0, 60, 40))
    assert auto_quality.SEARCHES.misses == 1
    assert auto_quality.SEARCHES.hits == 2
    assert len({(tmp_path / f"{name}.json").read_text() for name in "abc"}) == 1


def test_choose_quality_refuses_a_size_off_the_aspect_ratio(pyramid, tmp_path):
    with pytest.raises(ValueError, match="does not match the source's aspect ratio"):
        choose_quality(pyramid, tmp_path / "x.json", "webp", {}, 65.0, (0, 60, 41))
    assert not (tmp_path / "x.json").exists()


@pytest.mark.parametrize("hint", [20, 60, 95])
def test_a_hint_changes_where_the_search_starts_not_what_it_proves(hint):
    im = photo_like((300, 200))
    quality, score, *_ = search_quality(im, "webp", {}, 70, hint=hint)
    assert score >= 70
    if quality > 1:
        assert score_at(im, "webp", quality - 1) < 70


def test_a_hint_close_to_the_answer_takes_fewer_scores():
    asked = []

    def score(quality):
        asked.append(quality)
        return quality * 0.7 + 10

    assert lowest_quality(score, 60, 71, step=2) == 72
    assert len(asked) <= 3


def test_choose_quality_starts_a_wide_search_from_the_hints_search(tmp_path):
    im = photo_like((1000, 600))
    paths = [tmp_path / f"L{level}.raster" for level in range(3)]
    write_pyramid(im, paths, tmp_path / "levels.sha256")
    auto_quality.SEARCHES.clear()
    for width, height in ((600, 360), (1000, 600)):
        choose_quality(tmp_path / "levels.sha256", tmp_path / f"{width}.json", "webp", {}, 70.0, (0, width, height), hints=[(0, 480, 288)])
    # The hint's search once, then each variant's own.
    assert (auto_quality.SEARCHES.misses, auto_quality.SEARCHES.hits) == (3, 1)
    for width in (600, 1000):
        assert json.loads((tmp_path / f"{width}.json").read_text())["ssimulacra2"] >= 70


def test_past_max_width_a_passing_start_is_kept_and_a_failing_one_raised(tmp_path):
    im = photo_like((1000, 600))
    write_pyramid(im, [tmp_path / f"L{level}.raster" for level in range(3)], tmp_path / "levels.sha256")
    hints = [(0, 480, 288), (0, 600, 360)]
    choose_quality(tmp_path / "levels.sha256", tmp_path / "at.json", "webp", {}, 70.0, (0, 600, 360), hints=hints[:1])
    at_max = json.loads((tmp_path / "at.json").read_text())["quality"]
    choose_quality(tmp_path / "levels.sha256", tmp_path / "wide.json", "webp", {}, 70.0, (0, 1000, 600), hints=hints, max_width=600)
    wide = json.loads((tmp_path / "wide.json").read_text())
    assert wide["ssimulacra2"] >= 70
    assert wide["quality"] >= at_max
    if wide["quality"] > at_max:  # raised: then proven the lowest above the start
        assert score_at(im, "webp", wide["quality"] - 1) < 70


def test_accept_start_keeps_a_passing_start():
    assert lowest_quality(float, 50, 70, accept_start=True) == 70
    assert lowest_quality(float, 50, 40, accept_start=True) == 50


@pytest.mark.parametrize("start, step", [(80, 10), (55, 2), (5, 2), (100, 10)])
def test_lowest_quality_on_a_staircase_takes_few_scores(start, step):
    """WebP's score at small sizes: flat steps, then a jump. A bisection of
    1..100 takes 7 scores; a far start with a small step takes a few more."""
    asked = []

    def score(quality):
        asked.append(quality)
        return 60 + (quality // 7) * 0.4 + (8 if quality >= 77 else 0)

    assert lowest_quality(score, 70, start, step) == 77
    assert len(asked) == len(set(asked)) <= 12


@pytest.mark.parametrize("start", [1, 30, 55, 99])
def test_lowest_quality_from_a_far_start_on_a_shallow_line(start):
    """A 4000 px photo: the score moves 0.18 a quality step."""
    asked = []

    def score(quality):
        asked.append(quality)
        return 64 + 0.18 * quality

    assert lowest_quality(score, 68.03, start, step=2) == 23
    assert len(asked) <= 7


@pytest.mark.parametrize("fmt, highest", [("webp", 100), ("jpeg", 95)])
def test_an_unreachable_target_gives_the_highest_quality_and_says_so(pyramid, tmp_path, fmt, highest):
    # With the exact settings already configured, nothing is left to turn to.
    exact = dict(FORMATS[fmt].exact)
    line = choose_quality(pyramid, tmp_path / "x.json", fmt, exact, 100.5, (0, 60, 40))
    choice = json.loads((tmp_path / "x.json").read_text())
    assert choice["ssimulacra2"] < 100.5 and choice["settings"] == {}
    assert choice["quality"] == highest
    assert "no quality reaches the target" in line


def coloured_edges(size=(120, 68)) -> Image.Image:
    """Flat shapes in saturated colours: 4:2:0 chroma blurs their edges."""
    im = Image.new("RGB", size, "#fde68a")
    draw = ImageDraw.Draw(im)
    for i, colour in enumerate(("#ef4444", "#3b82f6", "#10b981", "#8b5cf6")):
        draw.rectangle((5 + i * 28, 8 + i * 9, 25 + i * 28, 50 + i * 3), fill=colour)
    return im


@pytest.mark.parametrize("fmt, exact", [("jpeg", {"subsampling": 0}), ("webp", {"lossless": True})])
def test_a_target_out_of_reach_of_420_chroma_turns_to_the_exact_settings(fmt, exact):
    im = coloured_edges()
    assert score_at(im, fmt, FORMATS[fmt].max_quality) < 85  # out of reach as configured
    quality, score, tried, settings = search_quality(im, fmt, {}, 85)
    assert settings == exact and score >= 85
    assert any(entry.endswith("exact") for entry in tried)

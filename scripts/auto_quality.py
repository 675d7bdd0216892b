"""Perceptual auto-quality: the lowest encoder quality at which one variant
reaches a SSIMULACRA2 target.

This is the step Snakemake runs once per ``quality: auto`` variant
(rules/resize.smk, ``choose_quality``), in a thread of its own process. It
resamples the variant as ``resize_image`` does, the lossless reference,
encodes it at a few qualities and scores each encoding against it
(scripts/ssimulacra2.py), and writes the quality it chose and its score to
a small JSON file, which the variant's resize job and its source's record
read.

A search of a variant wider than 480 px starts from the quality chosen for
its source at the widest of 480, 992 and 1928 px narrower than it, each of
those searches started from the one below it: a fixed ladder, so that
adding a configured width changes no other variant's search. With
``auto_quality.max_width`` set, the ladder stops there, and a variant wider
than that starts from the quality chosen at that width, and only checks
it: it keeps it if it passes, else raises it to the lowest that passes. A
score costs seconds at 4000 px, a search several (docs/quality.md).
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from PIL import Image

from scripts.formats import FORMATS
from scripts.imageops import encoder_arguments, image_to_encode, level_path
from scripts.memo import SharedResults, file_identity
from scripts.quality_choice import write_choice
from scripts.resize_image import RESAMPLES, checked_height
from scripts.ssimulacra2 import FULL_SCALES_SIDE, Reference, mirror_tiled

LOWEST, HIGHEST = 1, 100


def lowest_quality(
    score_at: Callable[[int], float],
    target: float,
    start: int,
    step: int = 10,
    accept_start: bool = False,
    highest: int = HIGHEST,
) -> int:
    """The lowest quality in 1..``highest`` whose score reaches ``target``,
    taking the score to grow with the quality; ``highest`` if none does.

    First it brackets the answer: from ``start``, it steps down from the
    lowest quality that passes, or up from the highest that fails, by
    ``step`` at first, then as far as the line through the two nearest
    scores says (two to four times the step before), until one
    quality passes and one below it fails. Then it narrows the bracket with
    a guess on the line between its ends, or its middle after two guesses
    fell on the same side, so a score that is not a line (WebP's is a
    staircase at small sizes) cannot slow it down. The answer passes and
    the quality one below it fails (docs/quality.md has how many scores
    that takes). ``accept_start``: a ``start`` that passes is the answer,
    not proven the lowest (max_width's check of a wider variant).
    """
    known = {start: score_at(start)}
    if accept_start and known[start] >= target:
        return start
    jump = step

    def slope_jump(edge: int, toward: int) -> int:
        """How far to step from ``edge`` toward the target: as far as the
        line through ``edge`` and its nearest known neighbour says, from
        twice to four times ``jump`` (two close scores give a poor slope)."""
        others = [q for q in known if q != edge]
        if not others:
            return step
        other = min(others, key=lambda q: abs(q - edge))
        slope = (known[edge] - known[other]) / (edge - other)
        wanted = math.ceil(abs(target - known[edge]) / slope) if slope > 0 else 4 * jump
        return min(4 * jump, max(2 * jump, wanted))

    while True:
        passing = [q for q in known if known[q] >= target]
        best = min(passing, default=None)
        below = max((q for q in known if best is not None and q < best), default=None)
        if best is None:  # every quality tried fails: go up
            top = max(known)
            if top >= highest:
                return highest
            jump = slope_jump(top, 1) if len(known) > 1 else step
            guess = min(highest, top + jump)
        elif below is None:  # every quality tried passes: go down
            if best == LOWEST:
                return LOWEST
            jump = slope_jump(best, -1) if len(known) > 1 else step
            guess = max(LOWEST, best - jump)
        else:
            break
        known[guess] = score_at(guess)

    sides: list[bool] = []
    while True:
        passing = [q for q in known if known[q] >= target]
        best = min(passing)
        below = max(q for q in known if q < best)
        if best - below <= 1:
            return best
        if len(sides) >= 2 and sides[-1] == sides[-2]:
            guess = (below + best) // 2
        else:
            span = known[best] - known[below]
            share = (target - known[below]) / span if span > 0 else 0.5
            guess = min(best - 1, max(below + 1, round(below + share * (best - below))))
        known[guess] = score_at(guess)
        sides.append(known[guess] >= target)


def encode(im: Image.Image, fmt: str, options: Mapping[str, Any], quality: int, threads: int = 1) -> bytes:
    """``im`` encoded as ``fmt`` with ``options`` at ``quality``, in memory,
    with the arguments the resize job's save gives the encoder."""
    pillow = {**encoder_arguments(fmt, options, threads), "quality": quality}
    buffer = io.BytesIO()
    im.save(buffer, format=FORMATS[fmt].pillow, **pillow)
    return buffer.getvalue()


def search_quality(
    im: Image.Image,
    fmt: str,
    options: Mapping[str, Any],
    target: float,
    background: str = "#ffffff",
    threads: int = 1,
    hint: int | None = None,
    accept_hint: bool = False,
) -> tuple[int, float, list[str], dict[str, Any]]:
    """The lowest quality at which ``im`` encoded as ``fmt`` scores ``target``
    or more against itself, its score, every score taken (``q80 71.25``),
    and the encoder settings it needed beyond ``options``. An image under 256 px a side is
    encoded as it is, then it and its decoding are scored mirror-tiled.
    ``hint``, a quality thought close (the one chosen for a smaller copy of
    the image), is where the search starts, else at the format's default;
    ``accept_hint``: if the hint passes, it is kept.

    If no quality reaches the target, the search is made again with the
    format's exact settings (full chroma; lossless for WebP, scored once),
    which are then returned with what they gave."""
    spec = FORMATS[fmt]
    if spec.start_quality is None:
        msg = f"{fmt} has no lossy quality to choose"
        raise ValueError(msg)
    # A copy: the resample is shared with the resize jobs, which save it meanwhile.
    ready = image_to_encode(im, fmt, background)
    tiled = min(ready.size) < FULL_SCALES_SIDE
    reference = Reference(mirror_tiled(ready) if tiled else ready)

    def scorer(settings: Mapping[str, Any], scores: dict[int, float]) -> Callable[[int], float]:
        def score_at(quality: int) -> float:
            if quality not in scores:
                with Image.open(io.BytesIO(encode(ready, fmt, settings, quality, threads))) as decoded:
                    decoded.load()
                    scores[quality] = reference.score(mirror_tiled(decoded) if tiled else decoded)
            return scores[quality]

        return score_at

    scores: dict[int, float] = {}
    score_at = scorer(options, scores)
    if hint is None:
        quality = lowest_quality(score_at, target, spec.start_quality, highest=spec.max_quality)
    else:
        start = min(hint, spec.max_quality)
        quality = lowest_quality(
            score_at, target, start, step=HINT_STEP, accept_start=accept_hint, highest=spec.max_quality
        )
    exact = dict(spec.exact)
    tried = [f"q{q} {score:.2f}" for q, score in scores.items()]
    if score_at(quality) >= target or not exact or all(options.get(k) == v for k, v in exact.items()):
        return quality, score_at(quality), tried, {}
    exact_scores: dict[int, float] = {}
    exact_at = scorer({**options, **exact}, exact_scores)
    if exact.get("lossless"):  # the quality is the effort: one encode, at the default
        quality = spec.start_quality
        exact_at(quality)
    else:
        quality = lowest_quality(exact_at, target, spec.start_quality, highest=spec.max_quality)
    tried += [f"q{q} {score:.2f} exact" for q, score in exact_scores.items()]
    return quality, exact_at(quality), tried, exact


#: The ladder of widths whose searches start wider ones: a variant's search
#: starts from the quality chosen for its source at the widest of these
#: narrower than it, a search of fewer, cheaper scores, itself started from
#: the one below it. From there the variant takes fewer scores, each far
#: costlier (docs/quality.md). The first step from that start.
HINT_WIDTHS, HINT_STEP = (480, 992, 1928), 2


def search_resample(
    level: tuple, width: int, height: int, fmt: str, options: tuple, target: float, background: str, threads: int,
    hints: tuple, max_width: int,
) -> tuple[int, float, list[str], dict[str, Any]]:
    """The search at ``width`` x ``height`` from pyramid level ``level`` (a
    file identity). It starts from the search at the last of ``hints``
    ((level, width, height), narrowest first), itself started from the ones
    before it; if ``width`` is above ``max_width`` (not 0), a start that
    passes is kept."""
    start = None
    if hints:
        start = SEARCHES.get(*hints[-1], fmt, options, target, background, threads, hints[:-1], max_width)[0]
    accept = bool(max_width) and width > max_width
    resampled = RESAMPLES.get(level, width, height)
    return search_quality(resampled, fmt, dict(options), target, background, threads, start, accept)


#: The searches of one process, shared by its jobs: a hint's search is made
#: once for all the wider variants of its source and format, and it is the
#: search of the variant of that width, if there is one.
SEARCHES: SharedResults[tuple[int, float, list[str], dict[str, Any]]] = SharedResults(
    search_resample, size=64
)


def choose_quality(
    pyramid: Path,
    output: Path,
    fmt: str,
    options: Mapping[str, Any],
    target: float,
    size: tuple[int, int, int],
    background: str = "#ffffff",
    threads: int = 1,
    hints: Sequence[tuple[int, int, int]] = (),
    max_width: int = 0,
) -> str:
    """Write ``output``: the quality chosen for ``fmt`` from pyramid level
    ``size[0]`` resized to ``size[1]`` x ``size[2]``, with its score. The
    search starts from the searches at ``hints`` (level, width, height),
    narrowest first; past ``max_width`` (not 0) it only checks the start
    and raises it until it passes."""
    key = []
    for level, width, height in (*hints, size):
        path = level_path(pyramid, level)
        checked_height(path, width, height)
        key.append((file_identity(path), width, height))
    settings = tuple(sorted((name, value) for name, value in options.items() if name != "quality"))
    quality, score, tried, exact = SEARCHES.get(
        *key[-1], fmt, settings, target, background, threads, tuple(key[:-1]), max_width
    )
    write_choice(output, quality, score, exact)
    verdict = "" if score >= target else "no quality reaches the target; "
    if exact:
        verdict += f"with {', '.join(f'{k}={v}' for k, v in exact.items())}; "
    return (
        f"chose quality {quality} for {output.name}: SSIMULACRA2 {score:.2f} "
        f"({verdict}target {target}; {len(tried)} scores: {', '.join(tried)})"
    )

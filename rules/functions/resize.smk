# Input functions, params, resources, priorities and job bodies of rules/resize.smk.
import hashlib
import shlex

from scripts.auto_quality import HINT_WIDTHS, choose_quality
from scripts.formats import FORMAT_PATTERN, FORMATS
from scripts.imageops import calculate_new_height, pyramid_level
from scripts.joblog import run_in_thread
from scripts.quality_choice import read_choice
from scripts.resize_image import resize_image


def code_version(*scripts):
    """A digest of these scripts and the modules they share, given to their jobs
    as a param: editing one reruns what it makes, as Snakemake does for the
    scripts it runs itself (as inputs, they would cost the DAG three files
    more per job)."""
    digest = hashlib.sha256()
    for name in (*scripts, "imageops.py", "formats.py", "joblog.py"):
        digest.update((SCRIPTS_DIR / name).read_bytes())
    return digest.hexdigest()[:16]


DECODE_CODE = code_version("decode_source.py")
# The decoders allowed, as an option: a resource of the decode rule, not a
# param, so that allowing one more format reruns no decode of the others.
DECODE_OPTIONS = shlex.join(["--formats", ",".join(SOURCE_FORMATS)])
RESIZE_CODE = code_version("resize_image.py")
QUALITY_CODE = code_version(
    "auto_quality.py", "resize_image.py", "ssimulacra2.py", "memo.py"
)


# Decoding: the job that reads a source, so any crash of a decoder on a
# hostile file ends this process only, and the run goes on.
def pixel_limit(wildcards):
    """The pixel limit a source's decode job enforces: 0 (none) for a source
    whose header shows it within max_pixels. Changing max_pixels then reruns
    only the sources it concerns, not every decode and so every target."""
    size = job_source_size(wildcards)
    if size is not None and size[0] * size[1] <= config["max_pixels"]:
        return 0
    return config["max_pixels"]


def decode_mem_mb(wildcards):
    """Decoding holds the decoded image, its normalised copy and the bytes written."""
    return int(100 + 12 * megapixels(wildcards))


def decode_disk_mb(wildcards):
    """The pyramid takes 4/3 of the decoded pixels, at up to 4 bytes each."""
    return int(100 + 6 * megapixels(wildcards))


def decode_runtime(wildcards):
    """Minutes a cluster may give a decode: generous, from the megapixels."""
    return int(2 + megapixels(wildcards) / 10)


def target_priority(width, height, fmt):
    """Costliest first (longest processing time first: a large PNG started
    last would run alone while the other cores idle), by the cost of all the
    formats of the target's width, so that they run one after the other and
    share one resample (scripts/resize_image.py); the costliest format of a
    width first."""
    width_cost = sum(FORMATS[name].cost for name in config["formats"])
    return width * height / 1e6 * width_cost + FORMATS[fmt].cost / 1000


# What a decode costs per megapixel, against FORMATS' encode costs.
DECODE_COST = 2


def decode_priority(wildcards):
    """A decode's own cost plus that of its costliest target (its upward rank),
    so the decodes that unlock the longest jobs run first."""
    targets = targets_by_stem().get(wildcards.stem, [])
    costliest = max(
        (target_priority(t.width, t.height, t.fmt) for t in targets), default=0
    )
    return DECODE_COST * megapixels(wildcards) + costliest


# Resizing: one job per target.
def level_for(wildcards, width):
    """The pyramid level the source is resampled from to ``width`` (see imageops.pyramid_level)."""
    size = job_source_size(wildcards)
    if size is None:
        return 0
    return pyramid_level(size[0], width, config["reducing_gap"], RASTER_LEVELS)


def target_level(wildcards):
    """The pyramid level a target is resampled from."""
    return level_for(wildcards, int(wildcards.width))


def target_raster(wildcards):
    return RASTER_LEVEL_PATTERNS[target_level(wildcards)].format(stem=wildcards.stem)


def resize_input():
    """What a resize job depends on: its source's pyramid digest file, an
    output of the same decode job as the levels and next to them, so that
    Snakemake hashes a few hundred bytes after the job rather than the level
    it reads. With object storage, the level file itself: the job needs it
    copied."""
    return target_raster if storage_prefix() else PYRAMID_DIGESTS


@functools.cache
def encoder_options(fmt):
    """One format's encoder settings, keys sorted, as given to Pillow."""
    return dict(sorted(config["encoders"][fmt].items()))


def flattened_onto(fmt):
    """The background a format's targets are flattened onto: only formats
    without alpha (jpeg) have one, so changing it reruns only their targets."""
    return "none" if FORMATS[fmt].alpha else config["background"]


def resize_settings(wildcards):
    """What a resize job takes besides its paths: the pyramid level it
    resamples, its format's encoder settings and the background (only jpeg
    flattens transparency).

    A param, so a change reruns only the targets it concerns: one format's
    encoder settings only that format, the background only jpeg. One function
    for the three: Snakemake goes through its input-function machinery for
    every function of every job (docs/performance.md)."""
    fmt = wildcards.fmt
    return {
        "level": target_level(wildcards),
        "encoder": encoder_options(fmt),
        "background": flattened_onto(fmt),
    }


def resize_mem_mb(wildcards):
    """Resizing maps one pyramid level and holds the resized image and the encoder's buffers."""
    return int(100 + 6 * megapixels(wildcards) / 4 ** target_level(wildcards))


def resize_runtime(wildcards):
    """Minutes a cluster may give a resize: generous, from the megapixels read."""
    return int(1 + megapixels(wildcards) / 4 ** target_level(wildcards) / 10)


def resize_priority(wildcards):
    return target_priority(int(wildcards.width), int(wildcards.height), wildcards.fmt)


def resize_job(input, output, wildcards, params, threads, log):
    """The body of a resize job (a thread of Snakemake's process). A
    `quality: auto` variant is encoded at the quality its choose_quality job
    wrote, with the settings beyond the configured ones that it needed."""
    settings = params.settings
    encoder = settings["encoder"]
    if AUTO_FORMATS and input.quality:
        choice = read_choice(Path(input.quality[0]))
        encoder = {**encoder, **choice["settings"], "quality": choice["quality"]}
    run_in_thread(
        functools.partial(
            resize_image,
            Path(input.pyramid),
            Path(output[0]),
            int(wildcards.width),
            int(wildcards.height),
            wildcards.fmt,
            encoder,
            settings["background"],
            settings["level"],
            threads,
        ),
        log[0],
        output[0],
    )


# Choosing a quality: one job per `quality: auto` target, before its resize.
#: Snakemake's wildcard constraint for the formats whose quality is auto
#: (a pattern that matches nothing when there are none).
AUTO_FORMAT_PATTERN = "|".join(AUTO_FORMATS) or "(?!)"


def chosen_quality(wildcards):
    """A resize job's second input: the quality chosen for its variant, if its format's is auto."""
    if wildcards.fmt not in AUTO_FORMATS:
        return []
    return [
        QUALITY_PATTERN.format(
            stem=wildcards.stem,
            width=wildcards.width,
            height=wildcards.height,
            fmt=wildcards.fmt,
        )
    ]


def quality_hints(wildcards):
    """(level, width, height) of the searches a variant's search starts from,
    narrowest first (scripts/auto_quality.py): its source at each width of
    HINT_WIDTHS up to auto_quality.max_width if set, and at max_width, each
    narrower than the variant. Fixed widths, not the configured ones, so
    that adding a width changes no other variant's params. No hints with
    object storage, where a job has only its own level: the search then
    starts at the format's default quality."""
    size = job_source_size(wildcards)
    if size is None or storage_prefix():
        return []
    width = int(wildcards.width)
    max_width = config["auto_quality"]["max_width"]
    widths = {hint for hint in HINT_WIDTHS if not max_width or hint <= max_width}
    widths.add(max_width)
    return [
        (
            level_for(wildcards, hint),
            hint,
            calculate_new_height(size[0], size[1], hint),
        )
        for hint in sorted(widths)
        if 0 < hint < width
    ]


def quality_settings(wildcards):
    """What a choose_quality job takes besides its paths: the level it
    searches, the searches it starts from, the encoder settings but the
    quality, the target and the background. A param: changing the target
    reruns the auto formats only; max_width only the variants it concerns."""
    fmt = wildcards.fmt
    encoder = {
        key: value for key, value in encoder_options(fmt).items() if key != "quality"
    }
    hints = quality_hints(wildcards)
    max_width = config["auto_quality"]["max_width"]
    return {
        "level": target_level(wildcards),
        "hints": hints,
        "max_width": max_width if any(h[1] == max_width for h in hints) else 0,
        "encoder": encoder,
        "target": config["auto_quality"]["target"],
        "background": flattened_onto(fmt),
    }


def choose_quality_priority(wildcards):
    """Just above its resize job's: that job waits for it."""
    return resize_priority(wildcards) + 1


def choose_quality_mem_mb(wildcards):
    """The level read, and the metric's float planes while it scores: about
    200 bytes a pixel searched (scripts/ssimulacra2.py)."""
    pixels = int(wildcards.width) * int(wildcards.height)
    return int(resize_mem_mb(wildcards) + 200 * pixels / 1e6)


def choose_quality_runtime(wildcards):
    """Minutes a cluster may give a search: generous, a few scores a megapixel."""
    return int(1 + int(wildcards.width) * int(wildcards.height) / 1e6)


def choose_quality_job(input, output, wildcards, params, threads, log):
    """The body of a choose_quality job (a thread of Snakemake's process)."""
    settings = params.settings
    run_in_thread(
        functools.partial(
            choose_quality,
            Path(input.pyramid),
            Path(output[0]),
            wildcards.fmt,
            settings["encoder"],
            settings["target"],
            (settings["level"], int(wildcards.width), int(wildcards.height)),
            settings["background"],
            threads,
            [tuple(hint) for hint in settings["hints"]],
            settings["max_width"],
        ),
        log[0],
        output[0],
    )

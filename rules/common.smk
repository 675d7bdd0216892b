# Helpers for the rules: config checks, source discovery, target lists and
# input functions. The planning logic itself lives in scripts/plan.py.
import csv
import fcntl
import gc
import hashlib
import inspect
import json
import re
import os
import secrets
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from functools import partial
from pathlib import Path

from snakemake import benchmark as snakemake_benchmark
from snakemake.common import overwrite_function_params
from snakemake.exceptions import WorkflowError
from snakemake.scheduling import job_scheduler
from snakemake.utils import validate

sys.path.insert(0, workflow.basedir)

from scripts import bucket
from scripts.download import (
    ORIGIN_FOLDER,
    download_summary,
    plan_downloads,
    read_origin,
    read_url_list,
    remote_versions,
)
from scripts.imageops import RASTER_LEVELS, pyramid_level
from scripts.jobserver import (
    SERVER_VARIABLE,
    TOKEN_VARIABLE,
    listening_socket,
    with_huge_pages,
)
from scripts.lazy_sequence import LazySequence
from scripts.plan import (
    find_sources,
    missing_outputs,
    orphaned_outputs,
    plan_targets,
    probe_size,
    unusable_sources,
)
from scripts.resize_image import resample_key
from scripts.summary import end_lines, start_lines, unique_in_order
from scripts.web import default_alt, report_summary
from snakemake_interface_executor_plugins.settings import ExecMode


def validate_config(config, schema):
    """Validate ``config`` against ``schema``, with a one-line message naming the key."""
    try:
        validate(config, schema)
    except WorkflowError as error:
        cause = error.__context__ or error  # jsonschema's ValidationError
        key = ".".join(str(part) for part in getattr(cause, "absolute_path", ()))
        message = getattr(cause, "message", str(cause))
        raise WorkflowError(
            f"config.yaml: invalid value for '{key or '(top level)'}': {message}"
        ) from None


validate_config(config, "schemas/config.schema.yaml")

INPUT_DIR = Path(config["input_dir"])
OUTPUT_DIR = Path(config["output_dir"])
LOG_DIR = OUTPUT_DIR / "logs"
BENCHMARK_DIR = OUTPUT_DIR / "benchmarks"
CACHE_DIR = OUTPUT_DIR / ".cache"
TARGET_PATTERN = str(OUTPUT_DIR / "{stem}_{width}x{height}.{fmt}")
# Web delivery (rules/web.smk).
RECORD_PATTERN = str(CACHE_DIR / "{stem}" / "record.json")
SNIPPET_PATTERN = str(OUTPUT_DIR / "html" / "{stem}.html")
MANIFEST = OUTPUT_DIR / "manifest.json"
SIZE_REPORT = OUTPUT_DIR / "report.csv"
GALLERY = OUTPUT_DIR / "index.html"
REPORT_GALLERY = OUTPUT_DIR / "report" / "gallery.html"
# The decoded pyramid of one source: level k is the upright image reduced 2**k times.
RASTER_LEVEL_PATTERNS = [
    str(CACHE_DIR / "{stem}" / f"L{level}.raster") for level in range(RASTER_LEVELS)
]
# The SHA-256 of each level, written after them.
PYRAMID_DIGESTS = str(CACHE_DIR / "{stem}" / "levels.sha256")

# Jobs run `python` from PATH (the uv environment, or the rule's conda env),
# through the job client, which each rule's bash command sources.
SCRIPTS_DIR = Path(os.path.relpath(Path(workflow.basedir) / "scripts"))
JOB_CLIENT = SCRIPTS_DIR / "jobclient.sh"
# Every job and the job server inherit this environment: huge pages for malloc.
os.environ.update(with_huge_pages(os.environ))


def collect_young_garbage_less_often():
    """Let Python's cyclic garbage collector run a young-generation pass every
    100,000 net allocations instead of every 700.

    Snakemake builds the DAG right after reading the workflow, before onstart:
    at 1,000 sources, tens of millions of objects for 25,000 jobs, and every
    700 of them start a pass that, every tenth and hundredth time, walks the
    older generations too. The jobs hold no reference cycles worth collecting
    early, and peak memory is the same (README, scaling). Applied when the
    workflow is read; it only concerns this Snakemake process."""
    gc.set_threshold(100_000, 50, 100)


collect_young_garbage_less_often()


def code_version(*scripts):
    """A digest of these scripts and the modules they share, given to their jobs
    as a param: editing one reruns what it makes, as Snakemake does for the
    scripts it runs itself. (As inputs, the scripts cost the DAG three files
    more per job, a fifth of the dry run at 1,000 sources.)"""
    digest = hashlib.sha256()
    for name in (*scripts, "imageops.py", "joblog.py"):
        digest.update((SCRIPTS_DIR / name).read_bytes())
    return digest.hexdigest()[:16]


DECODE_CODE = code_version("decode_source.py")
RESIZE_CODE = code_version("resize_image.py")
WEB_CODE = code_version("web.py")


def rule_function(func):
    """Mark a function that rules call for every job (input, params, resources).

    Snakemake runs inspect.signature() on such a function for every job. That
    was a fifth of the DAG-building time at 6,600 jobs. Computing it once here
    removes that cost.
    """
    overwrite_function_params(func, inspect.signature(func).parameters)
    return func


def storage_prefix():
    """The default storage prefix (s3://bucket/path) when the workflow runs on
    object storage (profiles/s3), else None."""
    settings = workflow.storage_settings
    if settings is None or settings.default_storage_provider is None:
        return None
    return settings.default_storage_prefix


def bucket_sources():
    """File name -> (ETag, upright size or None) of the sources in the bucket's
    input folder (listed, and new headers read, once per run)."""
    if "found" not in bucket_sources.__dict__:
        s3 = workflow.storage_registry.default_storage_provider.s3c
        try:
            bucket_name, key_prefix = bucket.source_key_prefix(
                storage_prefix(), str(INPUT_DIR)
            )
            etags = bucket.list_sources(s3, bucket_name, key_prefix)
            sizes = bucket.source_sizes(
                s3,
                bucket_name,
                key_prefix,
                etags,
                Path(".snakemake") / "bucket-sizes.json",
            )
        except Exception as error:  # boto3 raises many kinds; all mean the same here
            raise WorkflowError(
                f"cannot list the sources in {storage_prefix()}/{INPUT_DIR}: {error}"
            ) from None
        bucket_sources.found = {name: (etags[name], sizes[name]) for name in etags}
    return bucket_sources.found


def sources():
    """Stem -> path of every source: the files in the input folder (or in the
    bucket's) and the URL sources, downloaded or not (read once per run)."""
    if "found" not in sources.__dict__:
        try:
            if storage_prefix():
                found = {Path(name).stem: INPUT_DIR / name for name in bucket_sources()}
            else:
                found = find_sources(INPUT_DIR)
        except ValueError as error:
            raise WorkflowError(str(error)) from None
        for stem, name in url_stems().items():
            found[stem] = INPUT_DIR / name
        sources.found = found
    return sources.found


def local_sources():
    """Stem -> path of the sources that are plain files, not URLs."""
    return {stem: path for stem, path in sources().items() if stem not in url_stems()}


def source_size(path):
    """Upright size from the header. A URL source's file may be downloaded again
    during the run, so its header is read afresh each time."""
    if storage_prefix():
        return bucket_sources().get(Path(path).name, (None, None))[1]
    if Path(path).name in url_sources():
        return probe_size.__wrapped__(path, config["max_pixels"])
    return probe_size(path, config["max_pixels"])


def job_source_size(wildcards):
    """Upright size of the source a job's stem stands for, or None if unreadable.
    Called for most jobs: a local source's size is looked up by stem."""
    sizes = local_source_sizes()
    if wildcards.stem in sizes:
        return sizes[wildcards.stem]
    return source_size(source_path(wildcards))


def local_source_sizes():
    """Stem -> upright size or None, for the local sources (read once per run)."""
    if "sizes" not in local_source_sizes.__dict__:
        local_source_sizes.sizes = {
            stem: source_size(path) for stem, path in local_sources().items()
        }
    return local_source_sizes.sizes


def source_sizes():
    """Stem -> upright size, for the local sources whose header can be read."""
    return {
        stem: size for stem, size in local_source_sizes().items() if size is not None
    }


def planned_targets():
    """Every target the current config asks for (planned once per run)."""
    if "planned" not in planned_targets.__dict__:
        planned_targets.planned = plan_targets(
            source_sizes(),
            config["widths"],
            config["formats"],
            config["allow_upscale"],
        )
    return planned_targets.planned


def targets_by_stem():
    """Stem -> its planned targets."""
    if "grouped" not in targets_by_stem.__dict__:
        grouped = {}
        for target in planned_targets():
            grouped.setdefault(target.stem, []).append(target)
        targets_by_stem.grouped = grouped
    return targets_by_stem.grouped


@rule_function
def all_targets(wildcards):
    """The input of `all`: the manifest, report and galleries, every source's
    record, the variants to restore, and the raster of each unreadable source,
    so that its decode job reports why it cannot be read.

    The variants are not all listed: the manifest needs every record and a
    record every variant of its source, so they are in the DAG all the same,
    and a changed source or setting reruns them there. Listing every variant
    cost the DAG 22,000 more file lookups at 1,000 sources (README, scaling)."""
    unreadable = sorted(set(local_sources()) - set(source_sizes()))
    return (
        variants_to_restore()
        + all_records(wildcards)
        + [raster_path(stem, 0) for stem in unreadable]
        + [MANIFEST, SIZE_REPORT, GALLERY, REPORT_GALLERY]
    )


def variants_to_restore():
    """The planned variants missing from the output folder although their
    source's record is there.

    Snakemake rebuilds a missing file only if `all` asks for it or a job that
    needs it reruns. A missing record is asked for (all_targets), so its
    describe job reruns and rebuilds whatever variants it lacks; a variant
    missing behind an intact record has to be asked for itself. On object
    storage, where checking is not cheap, every planned variant is."""
    if storage_prefix():
        return [OUTPUT_DIR / target.name for target in planned_targets()]
    expected = [
        OUTPUT_DIR / target.name
        for stem, targets in targets_by_stem().items()
        if os.path.exists(RECORD_PATTERN.format(stem=stem))
        for target in targets
    ]
    return missing_outputs(OUTPUT_DIR, expected)


def raster_path(stem, level):
    return CACHE_DIR / stem / f"L{level}.raster"


@rule_function
def target_level(wildcards):
    """The pyramid level a target is resampled from (see imageops.pyramid_level)."""
    size = job_source_size(wildcards)
    if size is None:
        return 0
    return pyramid_level(
        size[0], int(wildcards.width), config["reducing_gap"], RASTER_LEVELS
    )


@rule_function
def target_raster(wildcards):
    return raster_path(wildcards.stem, target_level(wildcards))


def resize_input():
    """What a resize job depends on: its source's pyramid digest file, so that
    Snakemake hashes a few hundred bytes after the job rather than the level it
    read (and, a plain pattern, costs the DAG no function call). With object
    storage, the level file itself: the job needs it copied."""
    return target_raster if storage_prefix() else PYRAMID_DIGESTS


@rule_function
def source_path(wildcards):
    """The source file a stem stands for."""
    try:
        return sources()[wildcards.stem]
    except KeyError:
        raise WorkflowError(
            f"no source named '{wildcards.stem}' in '{INPUT_DIR}' "
            f"(extensions: jpg, jpeg, png, webp, tif, tiff, gif)"
        ) from None


@rule_function
def pixel_limit(wildcards):
    """The pixel limit a source's decode job enforces: 0 (none) for a source
    whose header shows it within max_pixels. Changing max_pixels then reruns
    only the sources it concerns, not every decode and so every target."""
    size = job_source_size(wildcards)
    if size is not None and size[0] * size[1] <= config["max_pixels"]:
        return 0
    return config["max_pixels"]


def flatten_background(fmt):
    """The colour transparency is flattened onto: only jpeg uses it."""
    return config["background"] if fmt == "jpeg" else "none"


@rule_function
def resize_settings(wildcards):
    """What a resize job's command takes besides its paths: the pyramid level
    it resamples, its format's encoder settings (JSON) and the background.

    A param, so a change reruns only the targets it concerns: one format's
    encoder settings only that format, the background only jpeg. One function
    for the three, because Snakemake wraps the wildcards and goes through its
    input-function machinery for every function of every job: at 22,000 jobs,
    two functions fewer take ~5% off a dry run (README, Scaling).
    """
    fmt = wildcards.fmt
    return {
        "level": target_level(wildcards),
        "encoder": encoder_settings_json()[fmt],
        "background": flatten_background(fmt),
    }


def encoder_settings_json():
    """Format -> its encoder settings as JSON (made once per run, not per job)."""
    if "made" not in encoder_settings_json.__dict__:
        encoder_settings_json.made = {
            fmt: json.dumps(options, sort_keys=True)
            for fmt, options in config["encoders"].items()
        }
    return encoder_settings_json.made


def megapixels(wildcards):
    size = job_source_size(wildcards)
    return 0 if size is None else size[0] * size[1] / 1e6


@rule_function
def decode_mem_mb(wildcards):
    """Decoding holds the decoded image, its normalised copy and the bytes written."""
    return int(100 + 12 * megapixels(wildcards))


@rule_function
def resize_mem_mb(wildcards):
    """Resizing maps one pyramid level and holds the resized image and the encoder's buffers."""
    return int(100 + 6 * megapixels(wildcards) / 4 ** target_level(wildcards))


@rule_function
def decode_disk_mb(wildcards):
    """The pyramid takes 4/3 of the decoded pixels, at up to 4 bytes each."""
    return int(100 + 6 * megapixels(wildcards))


# A resize writes one variant (and may share its resampled pixels in tmpdir).
RESIZE_DISK_MB = 1000
# Snakemake's default disk_mb and tmpdir are Python expressions, eval()'d anew
# for every ready job at every scheduling pass; set here, the resize and decode
# jobs skip that. See README, performance.
SYSTEM_TMPDIR = tempfile.gettempdir()


@rule_function
def decode_runtime(wildcards):
    """Minutes a cluster may give a decode: generous, from the megapixels."""
    return int(2 + megapixels(wildcards) / 10)


@rule_function
def resize_runtime(wildcards):
    """Minutes a cluster may give a resize: generous, from the megapixels read."""
    return int(1 + megapixels(wildcards) / 4 ** target_level(wildcards) / 10)


# Relative CPU cost of one megapixel: encoding it in each format with the
# default encoder settings, and decoding it (measured on the corpus, 1928 px
# wide: png 0.50 s (0.67 s with Pillow's own zlib), avif 0.54 s, webp 0.12 s,
# jpeg 0.02 s per megapixel).
ENCODE_COST = {"png": 22, "avif": 25, "webp": 6, "jpeg": 1}
DECODE_COST = 2


def target_cost(width, height, fmt):
    return width * height / 1e6 * ENCODE_COST[fmt]


@rule_function
def resize_priority(wildcards):
    """Costliest targets first (longest processing time first): a large PNG
    started last would run alone while the other cores idle."""
    return target_cost(int(wildcards.width), int(wildcards.height), wildcards.fmt)


@rule_function
def decode_priority(wildcards):
    """A decode's own cost plus that of its costliest target (its upward rank),
    so the decodes that unlock the longest jobs run first."""
    targets = targets_by_stem().get(wildcards.stem, [])
    costliest = max((target_cost(t.width, t.height, t.fmt) for t in targets), default=0)
    return DECODE_COST * megapixels(wildcards) + costliest


# Web delivery: inputs and params of rules/web.smk.
@rule_function
def source_variants(wildcards):
    """Every variant of one source."""
    return [OUTPUT_DIR / t.name for t in source_targets(wildcards.stem)]


def source_targets(stem):
    """The targets of one source. A URL source's are planned once it has been
    downloaded: until then, the checkpoint raises and Snakemake asks again."""
    if stem in url_stems():
        checkpoints.download_source.get(name=url_stems()[stem])
        return url_source_targets(stem)
    return targets_by_stem().get(stem, [])


def url_source_targets(stem):
    """The targets of a URL source, from its downloaded file ([] if not there)."""
    path = INPUT_DIR / url_stems()[stem]
    size = source_size(path) if path.exists() else None
    if size is None:
        return []
    return plan_targets(
        {stem: size}, config["widths"], config["formats"], config["allow_upscale"]
    )


def described_stems():
    """The sources that have (or will have) variants, in name order."""
    return sorted(set(targets_by_stem()) | set(url_stems()))


@rule_function
def all_records(wildcards):
    return [RECORD_PATTERN.format(stem=stem) for stem in described_stems()]


@rule_function
def all_snippets(wildcards):
    return [SNIPPET_PATTERN.format(stem=stem) for stem in described_stems()]


#: The report gallery inlines one variant per source: the first of these
#: formats that is configured, at the narrowest planned width of at least 480.
THUMBNAIL_FORMATS = ("webp", "jpeg", "png", "avif")
THUMBNAIL_MIN_WIDTH = 480


@rule_function
def report_thumbnails(wildcards):
    fmt = next(f for f in THUMBNAIL_FORMATS if f in config["formats"])
    thumbnails = []
    for stem in described_stems():
        candidates = sorted(
            (t for t in source_targets(stem) if t.fmt == fmt),
            key=lambda t: (
                t.width < THUMBNAIL_MIN_WIDTH,
                abs(t.width - THUMBNAIL_MIN_WIDTH),
            ),
        )
        thumbnails.append(OUTPUT_DIR / candidates[0].name)
    return thumbnails


@rule_function
def source_dimensions(wildcards):
    """The source's upright size as options ("" for a URL source not yet
    downloaded: Snakemake asks again once it is)."""
    size = job_source_size(wildcards)
    return "" if size is None else f"--width {size[0]} --height {size[1]}"


@rule_function
def alt_text(wildcards):
    """The alt text of a source: config web.alt, or one made from its name."""
    return config["web"]["alt"].get(wildcards.stem, default_alt(wildcards.stem))


@rule_function
def url_options(wildcards):
    """What decides the variants a record lists and their URLs, as options."""
    options = ["--base-url", config["web"]["base_url"]]
    if config["web"]["drop_not_smaller"]:
        options.append("--drop-not-smaller")
    return shlex.join(options)


# Sources from URLs: helpers of rules/download.smk.
def url_sources():
    """File name -> URL of each source to download (config `sources`)."""
    if storage_prefix():
        return {}  # URL sources need a local input folder
    if "planned" not in url_sources.__dict__:
        try:
            urls = read_url_list(config["sources"])
        except ValueError as error:
            raise WorkflowError(str(error)) from None
        url_sources.planned, url_sources.skipped = plan_downloads(urls, INPUT_DIR)
    return url_sources.planned


def url_stems():
    """Stem -> file name of each URL source."""
    return {Path(name).stem: name for name in url_sources()}


def url_name_pattern():
    """The download rule's {name}: exactly the URL sources' file names, so a
    local file is never taken for something to download."""
    return "|".join(re.escape(name) for name in sorted(url_sources())) or "(?!)"


@rule_function
def source_url(wildcards):
    return url_sources()[wildcards.name]


@rule_function
def remote_version(wildcards):
    """The remote file's validator (ETag, else Last-Modified), from one HEAD
    request per URL made together when the first download job is planned. A
    param: when it changes, the file is downloaded again and its targets
    rebuilt; when it does not, nothing is. If the server cannot be asked, the
    version on record is kept."""
    if "versions" not in remote_version.__dict__:
        remote_version.versions = remote_versions(
            url_sources().values(), timeout=config["downloads"]["timeout"]
        )
    url = url_sources()[wildcards.name]
    version = remote_version.versions.get(url)
    if version is None:
        origin = read_origin(INPUT_DIR, wildcards.name)
        return origin.version if origin is not None and origin.url == url else ""
    return version


# Download limits, as options: a resource of the download rule, not a param,
# so that changing a timeout does not download everything again.
DOWNLOAD_OPTIONS = shlex.join(
    [
        "--timeout",
        str(config["downloads"]["timeout"]),
        "--retries",
        str(config["downloads"]["retries"]),
        "--backoff",
        str(config["downloads"]["backoff"]),
        "--max-bytes",
        str(config["downloads"]["max_bytes"]),
    ]
)


# Run summary (scripts/summary.py holds the wording).
RUN_STARTED = time.monotonic()
ORPHAN_HINT = "snakemake --cores 1 remove_orphans"


def say(lines):
    for line in lines:
        print(line, file=sys.stderr, flush=True)


def jobs_of(jobs, *rule_names):
    """The jobs of these rules, looking into group jobs (on a cluster)."""
    single = [part for job in jobs for part in (job.jobs if job.is_group() else [job])]
    return [job for job in single if job.rule.name in rule_names]


def orphans():
    """Variants in the output folder that the current sources and config no longer make."""
    expected = [OUTPUT_DIR / target.name for target in planned_targets()]
    for stem in url_stems():
        expected += [OUTPUT_DIR / target.name for target in url_source_targets(stem)]
    return [path.name for path in orphaned_outputs(OUTPUT_DIR, expected)]


@rule_function
def orphan_paths(wildcards):
    """Orphaned variants, plus the cached files and snippets of sources that are gone."""
    gone = [
        folder
        for folder in sorted(CACHE_DIR.glob("*"))
        if folder.is_dir() and folder.name not in sources()
    ]
    cached = [path for folder in gone for path in sorted(folder.iterdir())]
    snippets = [
        path
        for path in sorted((OUTPUT_DIR / "html").glob("*.html"))
        if path.stem not in described_stems()
    ]
    return [str(OUTPUT_DIR / name) for name in orphans()] + [
        str(path) for path in cached + snippets
    ]


def acquire_run_lock():
    """Refuse a second run in this folder while one is building.

    Snakemake's own lock is turned off in the profile (nolock): its lock files
    outlive a run that is killed, so a plain rerun after `kill -9` would fail.
    An flock() is released by the kernel when its process dies, however it dies.
    """
    path = Path(".snakemake") / "responsive-images.lock"
    path.parent.mkdir(exist_ok=True)
    handle = open(path, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        acquire_run_lock.refused = True
        handle.seek(0)
        owner = handle.read().strip() or "?"
        handle.close()
        raise WorkflowError(
            f"another run (pid {owner}) is building in this folder; "
            "wait for it to finish, or stop it"
        ) from None
    handle.truncate(0)
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    acquire_run_lock.handle = handle


def schedule_one_reevaluation_at_a_time():
    """Keep Snakemake's scheduler from waking up thousands of times for nothing.

    After every scheduling pass, Snakemake 9 starts a 1 s timer to look again
    at its job rate limit (--max-jobs-per-timespan, on by default). A pass that
    a timer wakes starts another timer, and every finished job starts a new
    chain, so the passes multiply: 8,260 passes for 505 jobs in one measured
    run. Each pass re-evaluates the resources of every ready job. One pending
    timer gives the same rate limiting: when it fires, the pass it wakes
    schedules the next one. (snakemake/snakemake#3744 reports the same extra
    passes.) Applied at the start of a run, in the main process only.
    """
    scheduler_class = job_scheduler.JobScheduler
    if not hasattr(scheduler_class, "_schedule_reevalutation") or getattr(
        scheduler_class._schedule_reevalutation, "one_at_a_time", False
    ):
        return

    def schedule_reevaluation(self, delay):
        if getattr(self, "_pending_reevaluation", None) is not None:
            return

        def reevaluate():
            # Cleared before waking the scheduler, so the pass it wakes can
            # always schedule the next timer.
            self._pending_reevaluation = None
            self._open_jobs.release()

        timer = threading.Timer(delay, reevaluate)
        timer.daemon = True  # a run does not wait for it to exit
        self._pending_reevaluation = timer
        timer.start()

    schedule_reevaluation.one_at_a_time = True
    scheduler_class._schedule_reevalutation = schedule_reevaluation


def list_remaining_jobs_only_when_read():
    """Keep Snakemake's scheduler from listing every job left on every pass.

    Each scheduling pass hands the job selector ``remaining_jobs``: every job
    of the run not yet finished, listed by walking them all. The greedy
    selector (profiles/default) never reads it, so a build of N jobs spends
    time in N passes x N jobs: at 5,000 sources (125,000 jobs) it was 37% of
    the main process's samples (py-spy). The list is now computed when first
    read, so the ILP selector and Snakemake's end-of-run check get the same
    list. Applied at the start of a run, in the main process only; does
    nothing if the property is gone.
    """
    scheduler_class = job_scheduler.JobScheduler
    remaining_jobs = scheduler_class.__dict__.get("remaining_jobs")
    if not isinstance(remaining_jobs, property) or getattr(
        remaining_jobs.fget, "lazy", False
    ):
        return

    def lazy_remaining_jobs(self):
        return LazySequence(partial(remaining_jobs.fget, self))

    lazy_remaining_jobs.lazy = True
    scheduler_class.remaining_jobs = property(lazy_remaining_jobs)


def cap_memory_to_machine():
    """Unless --resources mem_mb is given, let a local run's jobs use together at
    most the memory available now, using each job's mem_mb hint (megapixels)."""
    if (
        not workflow.local_exec
        or workflow.global_resources.get("mem_mb").value is not None
    ):
        return
    available_mb = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2**20
    workflow.register_resource("mem_mb", available_mb)
    say(
        [
            f"Memory: jobs share at most {available_mb:,} MB (--resources mem_mb=N to change)"
        ]
    )


def remove_stale_partial_files():
    """Delete the temporary files of jobs killed mid-write (only one run holds the
    folder's lock, so no live job owns them)."""
    for pattern in (".*.part", ".cache/*/.*.part", "html/.*.part", "report/.*.part"):
        for path in OUTPUT_DIR.glob(pattern):
            path.unlink(missing_ok=True)
    for pattern in (".*.part", f"{ORIGIN_FOLDER}/.*.part"):
        for path in INPUT_DIR.glob(pattern):
            path.unlink(missing_ok=True)


def print_start_summary():
    print_start_summary.done = True
    for path in unusable_sources(INPUT_DIR):
        say(
            [
                f"SKIPPED {path}: Snakemake reads {{}} and <> in file names as wildcards; rename it"
            ]
        )
    for url, why in sorted(getattr(url_sources, "skipped", {}).items()):
        say([f"SKIPPED {url}: {why}"])
    pending = list(workflow.dag.needrun_jobs(exclude_finished=False))
    downloads = len(jobs_of(pending, "download_source"))
    if url_sources():
        say([f"{len(url_sources())} URL source(s), {downloads} to download."])
    say(
        start_lines(
            cores=workflow.cores if workflow.local_exec else 0,
            cluster_jobs=None if workflow.local_exec else workflow.nodes,
            input_dir=str(INPUT_DIR),
            sources_found=len(sources()),
            sources_to_process=len(
                unique_in_order(
                    job.wildcards.stem
                    for job in jobs_of(pending, "decode_source", "resize_image")
                )
            ),
            targets_to_build=len(jobs_of(pending, "resize_image")),
            dry_run=workflow.dryrun,
        )
    )


def print_end_summary():
    scheduler = getattr(workflow, "scheduler", None)
    failed = getattr(scheduler, "failed", ())
    failed_urls = [
        url_sources()[job.wildcards.name] for job in jobs_of(failed, "download_source")
    ]
    downloaded = [
        read_origin(INPUT_DIR, job.wildcards.name)
        for job in jobs_of(workflow.dag.finished_jobs, "download_source")
    ]
    say(download_summary(origin for origin in downloaded if origin is not None))
    say(
        end_lines(
            elapsed=time.monotonic() - RUN_STARTED,
            built=len(jobs_of(workflow.dag.finished_jobs, "resize_image")),
            failed_sources=sorted(
                {
                    str(sources().get(job.wildcards.stem, job.wildcards.stem))
                    for job in jobs_of(failed, "decode_source", "resize_image")
                }
            )
            + sorted(failed_urls),
            orphans=orphans(),
            orphan_hint=ORPHAN_HINT,
        )
    )
    say(size_report_lines())


def size_report_lines():
    """The summary of results/report.csv, if a run has written it."""
    try:
        with open(SIZE_REPORT, newline="", encoding="utf-8") as handle:
            return report_summary(csv.DictReader(handle))
    except (OSError, KeyError, ValueError):
        return []


def keep_dag_out_of_garbage_collection():
    """Move every object alive now (the DAG: 650 MB at 1,000 sources) out of
    the cyclic garbage collector's reach. Its full passes would otherwise walk
    the whole DAG again and again during the run, and once more at exit
    (6 s at 1,000 sources). Nothing is lost: the DAG lives until the process ends."""
    gc.freeze()


def print_summary_at_exit():
    """Runs with nothing to build, and dry runs, never reach onstart."""
    keep_dag_out_of_garbage_collection()
    stop_jobserver()
    if (
        workflow.dag is None
        # not a build: --report, --lint, listings
        or (workflow.local_exec and workflow._cores is None)
        or getattr(print_start_summary, "done", False)
        or getattr(acquire_run_lock, "refused", False)
    ):
        return
    print_start_summary()
    if not workflow.dryrun:
        print_end_summary()


# The job server (scripts/jobserver.py) that makes local job launches cheap.
def start_jobserver():
    """Start the job server for a local run; jobs fall back to plain runs without it.

    The run opens the server's socket itself and hands it over, so it goes on
    scheduling while the server starts (~0.3 s of imports, on another core):
    the first jobs wait in the socket's queue. A server that dies closes the
    socket, and the jobs after it run directly.
    """
    if (
        os.environ.get(SERVER_VARIABLE) == "off"
        or workflow.dryrun
        or not workflow.local_exec
        or workflow.deployment_settings.deployment_method
    ):
        return
    folder = Path(tempfile.mkdtemp(prefix="responsive-images-"))
    users_path = folder / "resample-users.json"
    users_path.write_text(json.dumps(resample_users()))
    token = secrets.token_hex(16)
    with listening_socket() as listener:
        server = subprocess.Popen(
            [
                sys.executable,
                str(SCRIPTS_DIR / "jobserver.py"),
                str(folder),
                str(users_path),
                f"--workers={jobserver_workers()}",
                f"--listen-fd={listener.fileno()}",
            ],
            stdin=subprocess.DEVNULL,
            pass_fds=(listener.fileno(),),
            env={**os.environ, TOKEN_VARIABLE: token},
        )
        host, port = listener.getsockname()
    os.environ[SERVER_VARIABLE] = f"{host}:{port}:{token}"
    start_jobserver.running = (server, folder)
    benchmark_wall_time_only()


def benchmark_wall_time_only():
    """Let Snakemake's benchmark files record each job's wall time, and no
    samples of the job's processes.

    With the job server, a job's own processes are its bash client: the image
    work runs in a server worker, which the samples never see, so they gave
    the client's ~3 MB and ~0 s of CPU as the job's. Each sample also walked
    /proc in Snakemake's main process, where it competes with the scheduler
    (~0.8 CPU-s per corpus build; README, performance). The benchmark files
    keep the exact wall time, which Snakemake times apart from the samples,
    and NA in the other columns; the job's own CPU time and peak memory are
    in its log (the ``usage`` line, scripts/joblog.py). Applied only when the
    job server runs; does nothing if Snakemake's sampler is gone.
    """
    if hasattr(getattr(snakemake_benchmark, "BenchmarkTimer", None), "start"):
        snakemake_benchmark.BenchmarkTimer.start = record_wall_time_only


def record_wall_time_only(timer):
    """Stands for BenchmarkTimer.start: take no sample. The record is marked
    the way Snakemake marks a job that ended before its first sample, so it
    writes NA for the samples' columns without a warning."""
    timer.bench_record.process_gone = True


def jobserver_workers():
    """One job server worker per job Snakemake may run at once (each job takes one core)."""
    return max(1, int(workflow._cores or os.cpu_count() or 1))


def resample_users():
    """Which targets of this run share a resample (scripts/resize_image.py): the
    output path without its format -> the number of this run's resize jobs for
    that source and width, where above 1. Only these store resampled pixels,
    so a run that rebuilds one format stores none."""
    pending = workflow.dag.needrun_jobs(exclude_finished=False)
    counts = Counter(
        resample_key(job.output[0]) for job in jobs_of(pending, "resize_image")
    )
    return {key: count for key, count in counts.items() if count > 1}


def stop_jobserver():
    server, folder = start_jobserver.__dict__.pop("running", (None, None))
    if server is None:
        return
    os.environ.pop(SERVER_VARIABLE, None)
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
    shutil.rmtree(folder, ignore_errors=True)

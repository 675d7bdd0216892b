# Config, paths and source discovery: what every rule file reads. Each rule
# file owns its own input functions; target planning is in rules/plan.smk.
import functools
import os
import sys
from pathlib import Path

import yaml

from snakemake import __version__ as SNAKEMAKE_VERSION
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

sys.path.insert(0, workflow.basedir)

from scripts import bucket, snakemake_compat
from scripts.config_values import typed
from scripts.download import ORIGIN_FOLDER, plan_downloads, read_url_list
from scripts.formats import FORMAT_PATTERN, variant_name
from scripts.imageops import RASTER_LEVELS
from scripts.plan import find_sources, partition_of, probe_size

try:
    snakemake_compat.check_version(SNAKEMAKE_VERSION)
except RuntimeError as error:
    raise WorkflowError(str(error)) from None


CONFIG_SCHEMA = Path(workflow.basedir) / "rules" / "schemas" / "config.schema.yaml"
# The keys given with --config on the command line, and the files given with
# --configfile, which override config.yaml key by key.
COMMAND_LINE_KEYS = set(workflow.config_settings.config)
COMMAND_LINE_FILES = [Path(path) for path in workflow.config_settings.configfiles or ()]


def config_origin(path):
    """Where the value at ``path`` (keys and list indexes, as strings) was set:
    --config, the last --configfile that sets it, or config.yaml."""
    if path[0] in COMMAND_LINE_KEYS:
        return "--config"
    for configfile in reversed(COMMAND_LINE_FILES):
        with open(configfile, encoding="utf-8") as handle:
            if sets_value(yaml.safe_load(handle), path):
                relative = os.path.relpath(configfile)
                return str(configfile) if relative.startswith("..") else relative
    return "config.yaml"


def sets_value(data, path):
    """Whether the YAML ``data`` has a value at ``path``."""
    for part in path:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return False
    return True


def validate_config(config, schema_path):
    """Validate ``config`` against the schema at ``schema_path``, with a one-line
    message naming the key and where it was set. Values given with --config
    are first typed as the schema says (scripts/config_values.py)."""
    given = COMMAND_LINE_KEYS & set(config)
    if given:
        schema = yaml.safe_load(schema_path.read_text(encoding="utf-8"))
        for key in given:
            config[key] = typed(config[key], schema["properties"].get(key, {}))
    try:
        validate(config, str(schema_path))
    except WorkflowError as error:
        cause = error.__context__ or error  # jsonschema's ValidationError
        path = [str(part) for part in getattr(cause, "absolute_path", ())]
        message = getattr(cause, "message", str(cause))
        origin = config_origin(path) if path else "config.yaml"
        raise WorkflowError(
            f"{origin}: invalid value for '{'.'.join(path) or '(top level)'}': {message}"
        ) from None


validate_config(config, CONFIG_SCHEMA)

# Paths. What a site serves is under OUTPUT_DIR; build state is under BUILD_DIR.
INPUT_DIR = Path(config["input_dir"])
OUTPUT_DIR = Path(config["output_dir"])
BUILD_DIR = Path(config["build_dir"])
#: The decoders a source may reach (scripts/imageops.py, open_source).
SOURCE_FORMATS = tuple(config["source_formats"])
LOG_DIR = BUILD_DIR / "logs"
BENCHMARK_DIR = BUILD_DIR / "benchmarks"
CACHE_DIR = BUILD_DIR / "cache"
TARGET_PATTERN = str(
    OUTPUT_DIR / variant_name("{stem}", "{width}", "{height}", "{fmt}")
)
# The decoded pyramid of one source (rules/resize.smk): level k is the upright
# image reduced 2**k times; the SHA-256 of each level is written after them.
RASTER_LEVEL_PATTERNS = [
    str(CACHE_DIR / "{stem}" / f"L{level}.raster") for level in range(RASTER_LEVELS)
]
PYRAMID_DIGESTS = str(CACHE_DIR / "{stem}" / "levels.sha256")
#: The configured formats whose quality is `auto` (scripts/auto_quality.py).
AUTO_FORMATS = tuple(
    fmt for fmt in config["formats"] if config["encoders"][fmt].get("quality") == "auto"
)
# The quality chosen for a `quality: auto` variant (rules/resize.smk).
QUALITY_PATTERN = str(
    CACHE_DIR
    / "{stem}"
    / "quality"
    / f"{variant_name('{stem}', '{width}', '{height}', '{fmt}')}.json"
)
# Web delivery (rules/web.smk).
RECORD_PATTERN = str(CACHE_DIR / "{stem}" / "record.json")
SNIPPET_PATTERN = str(OUTPUT_DIR / "html" / "{stem}.html")
MANIFEST = OUTPUT_DIR / "manifest.json"
SIZE_REPORT = BUILD_DIR / "report.csv"
GALLERY = OUTPUT_DIR / "index.html"
REPORT_GALLERY = BUILD_DIR / "report" / "gallery.html"
# The scripts that shell: jobs run, relative to the working directory.
SCRIPTS_DIR = Path(os.path.relpath(Path(workflow.basedir) / "scripts"))

# Partitions (rules/partitions.smk): with `partitions` N > 0, a run without a
# `partition` builds nothing itself: it runs one Snakemake per partition,
# each with `partition` set, and merges the web files they write.
PARTITIONS = config["partitions"]
PARTITION = config["partition"]
PARTITIONED = PARTITIONS > 0 and PARTITION is None
PARTITION_FOLDER = BUILD_DIR / "partitions"
# What a partition's run writes: its published records and its orphans, and
# an index of the files they name (scripts/partitions.py).
PARTITION_RECORDS_PATTERN = str(PARTITION_FOLDER / "{partition}" / "records.json")
PARTITION_INDEX_PATTERN = str(PARTITION_FOLDER / "{partition}" / "files.txt")


def storage_prefix():
    """The default storage prefix (s3://bucket/path) when the workflow runs on
    object storage (profiles/s3), else None."""
    settings = workflow.storage_settings
    if settings is None or settings.default_storage_provider is None:
        return None
    return settings.default_storage_prefix


def check_auto_quality():
    """Stop before any job if a quality is auto where it cannot be: lossless
    WebP has no lossy quality to choose."""
    webp = config["encoders"]["webp"]
    if webp.get("quality") == "auto" and webp.get("lossless"):
        raise WorkflowError(
            f"{config_origin(['encoders', 'webp', 'quality'])}: invalid value for "
            "'encoders.webp.quality': auto needs lossy WebP (encoders.webp.lossless is true)"
        )


check_auto_quality()


def check_partitions():
    """Stop before any job if `partition` and `partitions` do not fit together,
    or partitions are asked for where they do not work (URL sources, object
    storage: a partition's run needs the sources in a local folder)."""
    if PARTITION is not None and PARTITION >= PARTITIONS:
        raise WorkflowError(
            f"{config_origin(['partition'])}: invalid value for 'partition': "
            f"{PARTITION} is not below partitions ({PARTITIONS})"
        )
    if PARTITIONS and (config["sources"] or storage_prefix()):
        what = "URL sources (sources)" if config["sources"] else "object storage"
        raise WorkflowError(
            f"{config_origin(['partitions'])}: invalid value for 'partitions': "
            f"partitions need a local input folder, not {what}"
        )


check_partitions()


def in_this_run(stem):
    """Whether this run builds the source ``stem``: every source, or in a
    partition's run those of its partition."""
    return PARTITION is None or partition_of(stem, PARTITIONS) == PARTITION


@functools.cache
def bucket_sources():
    """File name -> (ETag, upright size or None) of the sources in the bucket's
    input folder: listed, and new headers read, once per run."""
    s3 = snakemake_compat.s3_client(workflow)
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
            formats=SOURCE_FORMATS,
        )
    except Exception as error:  # boto3 raises many kinds; all mean the same here
        raise WorkflowError(
            f"cannot list the sources in {storage_prefix()}/{INPUT_DIR}: {error}"
        ) from None
    return {name: (etags[name], sizes[name]) for name in etags}


@functools.cache
def url_downloads():
    """(file name -> URL of each source to download, URL -> why it is skipped),
    from config `sources`. URL sources need a local input folder."""
    if storage_prefix():
        return {}, {}
    try:
        urls = read_url_list(config["sources"])
    except ValueError as error:
        raise WorkflowError(str(error)) from None
    return plan_downloads(urls, INPUT_DIR)


def url_sources():
    """File name -> URL of each source to download."""
    return url_downloads()[0]


@functools.cache
def url_stems():
    """Stem -> file name of each URL source."""
    return {Path(name).stem: name for name in url_sources()}


@functools.cache
def sources():
    """Stem -> path of every source: the files in the input folder (or in the
    bucket's) and the URL sources, downloaded or not."""
    try:
        if storage_prefix():
            found = {Path(name).stem: INPUT_DIR / name for name in bucket_sources()}
        else:
            found = find_sources(INPUT_DIR)
    except ValueError as error:
        raise WorkflowError(str(error)) from None
    for stem, name in url_stems().items():
        found[stem] = INPUT_DIR / name
    return {stem: path for stem, path in found.items() if in_this_run(stem)}


@functools.cache
def local_sources():
    """Stem -> path of the sources that are plain files, not URLs."""
    return {stem: path for stem, path in sources().items() if stem not in url_stems()}


def source_path(wildcards):
    """The source file a stem stands for (an input function)."""
    try:
        return sources()[wildcards.stem]
    except KeyError:
        raise WorkflowError(
            f"no source named '{wildcards.stem}' in '{INPUT_DIR}' "
            f"(extensions: jpg, jpeg, png, webp, tif, tiff, gif)"
        ) from None


def source_size(path):
    """Upright size from the header, or None if unreadable. A URL source's file
    may be downloaded again during the run, so its header is read afresh."""
    if storage_prefix():
        return bucket_sources().get(Path(path).name, (None, None))[1]
    if Path(path).name in url_sources():
        return probe_size.__wrapped__(path, SOURCE_FORMATS)
    return probe_size(path, SOURCE_FORMATS)


@functools.cache
def local_source_sizes():
    """Stem -> upright size or None, for the local sources."""
    return {stem: source_size(path) for stem, path in local_sources().items()}


@functools.cache
def source_sizes():
    """Stem -> upright size, for the local sources whose header can be read."""
    return {
        stem: size for stem, size in local_source_sizes().items() if size is not None
    }


def job_source_size(wildcards):
    """Upright size of the source a job's stem stands for, or None if unreadable."""
    sizes = local_source_sizes()
    if wildcards.stem in sizes:
        return sizes[wildcards.stem]
    return source_size(source_path(wildcards))


def megapixels(wildcards):
    size = job_source_size(wildcards)
    return 0 if size is None else size[0] * size[1] / 1e6

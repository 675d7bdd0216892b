# Input functions, params and job bodies of rules/web.smk.
from scripts import gallery, partitions, web

WEB_CODE = code_version("web.py", "placeholder.py")
GALLERY_CODE = code_version("gallery.py", "web.py")
PARTITION_FILE_CODE = code_version("partitions.py", "web.py")


def source_variants(wildcards):
    """Every variant of one source."""
    return [OUTPUT_DIR / t.name for t in source_targets(wildcards.stem)]


def source_choices(wildcards):
    """The qualities chosen for one source's `quality: auto` variants."""
    return [
        QUALITY_PATTERN.format(stem=t.stem, width=t.width, height=t.height, fmt=t.fmt)
        for t in source_targets(wildcards.stem)
        if t.fmt in AUTO_FORMATS
    ]


def record_settings(wildcards):
    """What a record holds besides its files: the source's upright size (None
    for a URL source not yet downloaded: Snakemake asks again once it is), its
    alt text (config web.alt, or one made from its name) and what decides the
    variants' URLs. A param: changing one rewrites the records it concerns."""
    return {
        "size": job_source_size(wildcards),
        "alt": config["web"]["alt"].get(
            wildcards.stem, web.default_alt(wildcards.stem)
        ),
        "base_url": config["web"]["base_url"],
        "drop_not_smaller": config["web"]["drop_not_smaller"],
        "versioned_urls": config["web"]["versioned_urls"],
        "name": str(source_path(wildcards)),
    }


def partition_orphans(wildcards):
    """The names of the orphaned variants among this partition's stems."""
    return orphans()


#: The report gallery inlines one variant per source: the first of these
#: formats that is configured, at the planned width nearest 480 (at least 480
#: if there is one).
THUMBNAIL_FORMATS = ("webp", "jpeg", "png", "avif")
THUMBNAIL_MIN_WIDTH = 480


def thumbnail_rank(target):
    return (target.width < THUMBNAIL_MIN_WIDTH, abs(target.width - THUMBNAIL_MIN_WIDTH))


def report_thumbnails(wildcards):
    fmt = next(f for f in THUMBNAIL_FORMATS if f in config["formats"])
    thumbnails = []
    for stem in published_stems():
        candidates = [t for t in source_targets(stem) if t.fmt == fmt]
        thumbnails.append(OUTPUT_DIR / min(candidates, key=thumbnail_rank).name)
    return thumbnails


# The bodies of the web jobs: a few file reads and one write each, in a thread
# of Snakemake's process.
def record_job(input, output, params, log):
    settings = params.settings
    write = functools.partial(
        web.write_record,
        Path(input.source),
        settings["size"],
        [Path(path) for path in input.variants],
        Path(output[0]),
        alt=settings["alt"],
        base_url=settings["base_url"],
        drop=settings["drop_not_smaller"],
        name=settings["name"],
        versioned=settings["versioned_urls"],
        choices=[Path(path) for path in input.choices] if AUTO_FORMATS else (),
    )
    run_in_thread(write, log[0], input.source)


def snippet_job(input, output, params, log):
    write = functools.partial(
        web.write_snippet, Path(input.record), params.sizes, Path(output[0])
    )
    run_in_thread(write, log[0], input.record)


def manifest_job(input, output, log):
    write = functools.partial(web.write_manifest, input.records, Path(output[0]))
    run_in_thread(write, log[0], output[0])


def size_report_job(input, output, log):
    write = functools.partial(web.write_report, input.records, Path(output[0]))
    run_in_thread(write, log[0], output[0])


def gallery_job(input, output, log):
    write = functools.partial(gallery.write_gallery, input.records, Path(output[0]))
    run_in_thread(write, log[0], output[0])


def report_gallery_job(input, output, log):
    write = functools.partial(
        web.write_report_gallery, input.records, input.thumbnails, Path(output[0])
    )
    run_in_thread(write, log[0], output[0])


def partition_file_job(input, output, params, log):
    write = functools.partial(
        partitions.write_partition_file,
        input.records,
        params.orphans,
        Path(output.records),
        Path(output.index),
    )
    run_in_thread(write, log[0], output.records)

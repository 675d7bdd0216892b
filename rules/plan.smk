# Target planning: which variants the current sources and config ask for, and
# what `rule all` lists (scripts/plan.py does the arithmetic).
from scripts.plan import logged_an_error, missing_outputs, modified_at, plan_targets


@functools.cache
def planned_targets():
    """Every target of the local sources that the current config asks for."""
    return plan_targets(
        source_sizes(),
        config["widths"],
        config["formats"],
        config["allow_upscale"],
        config["min_width_step"],
    )


@functools.cache
def targets_by_stem():
    """Stem -> its planned targets."""
    grouped = {}
    for target in planned_targets():
        grouped.setdefault(target.stem, []).append(target)
    return grouped


def url_source_targets(stem):
    """The targets of a URL source, from its downloaded file ([] if not there)."""
    path = INPUT_DIR / url_stems()[stem]
    size = source_size(path) if path.exists() else None
    if size is None:
        return []
    return plan_targets(
        {stem: size},
        config["widths"],
        config["formats"],
        config["allow_upscale"],
        config["min_width_step"],
    )


def source_targets(stem):
    """The targets of one source. A URL source's are planned once it has been
    downloaded: until then, the checkpoint raises and Snakemake asks again."""
    if stem in url_stems():
        checkpoints.download_source.get(name=url_stems()[stem])
        return url_source_targets(stem)
    return targets_by_stem().get(stem, [])


def described_stems():
    """The sources that have (or will have) variants, in name order."""
    return sorted(set(targets_by_stem()) | set(url_stems()))


def all_records(wildcards):
    return [RECORD_PATTERN.format(stem=stem) for stem in described_stems()]


def failed_job_logs(stem):
    """The logs of the jobs that make one source's record."""
    logs = [LOG_DIR / "decode_source" / f"{stem}.log"]
    if stem in url_stems():
        logs.append(LOG_DIR / "download_source" / f"{url_stems()[stem]}.log")
        targets = url_source_targets(stem)
    else:
        targets = targets_by_stem().get(stem, [])
    logs += [LOG_DIR / "resize_image" / f"{target.name}.log" for target in targets]
    return logs + [LOG_DIR / "describe_source" / f"{stem}.log"]


@functools.cache
def failed_stems():
    """The sources whose last build failed: a job making their record logged
    an ERROR since the source and its record last changed. The web files leave
    them out, so that one bad source does not hold back the others' (its jobs
    still run, and fail, in every run until it is fixed)."""
    failed = []
    for stem in described_stems():
        since = max(
            modified_at(sources()[stem]),
            modified_at(Path(RECORD_PATTERN.format(stem=stem))),
        )
        if logged_an_error(failed_job_logs(stem), since):
            failed.append(stem)
    return failed


def published_stems():
    """The sources the web files list: every described one but those that failed."""
    failed = set(failed_stems())
    return [stem for stem in described_stems() if stem not in failed]


def published_records(wildcards):
    return [RECORD_PATTERN.format(stem=stem) for stem in published_stems()]


def published_snippets(wildcards):
    return [SNIPPET_PATTERN.format(stem=stem) for stem in published_stems()]


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


def all_targets(wildcards):
    """The input of `all`: the web files, every source's record (a source that
    failed before is tried again), the snippets of the published sources, the
    variants to restore, and the raster of each unreadable source, so that its
    decode job reports why it cannot be read.

    The variants are not all listed: the manifest needs every record and a
    record every variant of its source, so they are in the DAG all the same,
    and a changed source or setting reruns them there. Listing every variant
    costs the DAG one more file lookup per target (docs/performance.md)."""
    unreadable = sorted(set(local_sources()) - set(source_sizes()))
    return (
        variants_to_restore()
        + all_records(wildcards)
        + published_snippets(wildcards)
        + [RASTER_LEVEL_PATTERNS[0].format(stem=stem) for stem in unreadable]
        + web_files()
    )


def web_files():
    """The manifest, the report files and, unless web.gallery is false, the
    gallery; in a partition's run, its partition file instead, which the
    partitioned run merges into them (rules/partitions.smk)."""
    if PARTITION is not None:
        return [
            pattern.format(partition=PARTITION)
            for pattern in (PARTITION_RECORDS_PATTERN, PARTITION_INDEX_PATTERN)
        ]
    gallery = [GALLERY] if config["web"]["gallery"] else []
    return [MANIFEST, *gallery, SIZE_REPORT, REPORT_GALLERY]

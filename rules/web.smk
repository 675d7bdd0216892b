# Web delivery (scripts/web.py): per source, a record and a <picture> snippet;
# per build, the manifest, the size report and the galleries, or in a
# partition's run its partition file (scripts/partitions.py).


include: "functions/web.smk"


# Light jobs: on a cluster they run where Snakemake runs, not as cluster jobs.
localrules:
    describe_source,
    picture_snippet,
    manifest,
    size_report,
    gallery,
    report_gallery,
    partition_file,


rule describe_source:
    """Record one source: its name, sha256 and size, and its variants' sizes and bytes."""
    input:
        source=source_path,
        variants=source_variants,
        choices=source_choices if AUTO_FORMATS else [],
    output:
        RECORD_PATTERN,
    log:
        LOG_DIR / "describe_source" / "{stem}.log",
    params:
        settings=record_settings,
        code=WEB_CODE,
    run:
        record_job(input, output, params, log)


rule picture_snippet:
    """The <picture> element of one source, from its record."""
    input:
        record=RECORD_PATTERN,
    output:
        SNIPPET_PATTERN,
    log:
        LOG_DIR / "picture_snippet" / "{stem}.log",
    params:
        sizes=config["web"]["sizes"],
        code=WEB_CODE,
    run:
        snippet_job(input, output, params, log)


rule manifest:
    """results/manifest.json: every source and its variants."""
    input:
        records=published_records,
    output:
        MANIFEST,
    log:
        LOG_DIR / "manifest.log",
    params:
        code=WEB_CODE,
    run:
        manifest_job(input, output, log)


rule size_report:
    """build/report.csv: source and output bytes, per format, width and source."""
    input:
        records=published_records,
    output:
        report(SIZE_REPORT, caption="report/sizes.rst", category="Size report"),
    log:
        LOG_DIR / "size_report.log",
    params:
        code=WEB_CODE,
    run:
        size_report_job(input, output, log)


rule gallery:
    """results/index.html: a contact sheet of every source (scripts/gallery.py)."""
    input:
        records=published_records,
    output:
        GALLERY,
    log:
        LOG_DIR / "gallery.log",
    params:
        code=GALLERY_CODE,
    run:
        gallery_job(input, output, log)


rule report_gallery:
    """A self-contained gallery (thumbnails inlined) for `snakemake --report`."""
    input:
        records=published_records,
        thumbnails=report_thumbnails,
    output:
        report(REPORT_GALLERY, caption="report/gallery.rst", category="Gallery"),
    log:
        LOG_DIR / "report_gallery.log",
    params:
        code=WEB_CODE,
    run:
        report_gallery_job(input, output, log)


rule partition_file:
    """A partition's run: its published records and its orphans, which the
    partitioned run merges (rules/partitions.smk), and their index."""
    input:
        records=published_records,
    output:
        records=PARTITION_RECORDS_PATTERN,
        index=PARTITION_INDEX_PATTERN,
    log:
        LOG_DIR / "partition_file" / "{partition}.log",
    params:
        orphans=partition_orphans,
        code=PARTITION_FILE_CODE,
    run:
        partition_file_job(input, output, params, log)

# Web delivery (scripts/web.py): per source, a record and a <picture> snippet;
# per build, the manifest, the size report and the galleries. The helpers are
# in rules/common.smk.


# Light jobs: on a cluster they run where Snakemake runs, not as cluster jobs.
localrules:
    describe_source,
    picture_snippet,
    manifest,
    size_report,
    gallery,
    report_gallery,


rule describe_source:
    """Record one source: its name, sha256 and size, and its variants' sizes and bytes."""
    input:
        source=source_path,
        variants=source_variants,
    output:
        RECORD_PATTERN,
    log:
        LOG_DIR / "describe_source" / "{stem}.log",
    conda:
        "envs/pillow.yaml"
    params:
        size=source_dimensions,
        alt=alt_text,
        urls=url_options,
        name=source_path,
        code=WEB_CODE,
        client=JOB_CLIENT,
    shell:
        ". {params.client:q} web describe {input.source:q} {input.variants:q}"
        " {params.size} {params.urls} --alt {params.alt:q}"
        " --name {params.name:q} --record {output:q} --log {log:q}"


rule picture_snippet:
    """The <picture> element of one source, from its record."""
    input:
        record=RECORD_PATTERN,
    output:
        SNIPPET_PATTERN,
    log:
        LOG_DIR / "picture_snippet" / "{stem}.log",
    conda:
        "envs/pillow.yaml"
    params:
        sizes=config["web"]["sizes"],
        code=WEB_CODE,
        client=JOB_CLIENT,
    shell:
        ". {params.client:q} web snippet {input.record:q}"
        " --sizes {params.sizes:q} --output {output:q} --log {log:q}"


rule manifest:
    """results/manifest.json: every source and its variants."""
    input:
        records=all_records,
    output:
        MANIFEST,
    log:
        LOG_DIR / "manifest.log",
    conda:
        "envs/pillow.yaml"
    params:
        code=WEB_CODE,
        client=JOB_CLIENT,
    shell:
        ". {params.client:q} web manifest {input.records:q}"
        " --output {output:q} --log {log:q}"


rule size_report:
    """results/report.csv: source and output bytes, per format, width and source."""
    input:
        records=all_records,
    output:
        report(SIZE_REPORT, caption="report/sizes.rst", category="Size report"),
    log:
        LOG_DIR / "size_report.log",
    conda:
        "envs/pillow.yaml"
    params:
        code=WEB_CODE,
        client=JOB_CLIENT,
    shell:
        ". {params.client:q} web report {input.records:q}"
        " --output {output:q} --log {log:q}"


rule gallery:
    """results/index.html: every source's <picture> snippet on one page."""
    input:
        snippets=all_snippets,
        records=all_records,
    output:
        GALLERY,
    log:
        LOG_DIR / "gallery.log",
    conda:
        "envs/pillow.yaml"
    params:
        code=WEB_CODE,
        client=JOB_CLIENT,
    shell:
        ". {params.client:q} web gallery {input.snippets:q}"
        " --records {input.records:q} --output {output:q} --log {log:q}"


rule report_gallery:
    """A self-contained gallery (thumbnails inlined) for `snakemake --report`."""
    input:
        records=all_records,
        thumbnails=report_thumbnails,
    output:
        report(REPORT_GALLERY, caption="report/gallery.rst", category="Gallery"),
    log:
        LOG_DIR / "report_gallery.log",
    conda:
        "envs/pillow.yaml"
    params:
        code=WEB_CODE,
        client=JOB_CLIENT,
    shell:
        ". {params.client:q} web report-gallery {input.records:q}"
        " --thumbnails {input.thumbnails:q} --output {output:q} --log {log:q}"

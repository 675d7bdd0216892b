# Decode each source once, in a process of its own, then make every target
# from that raster, in a thread of Snakemake's own process (force-use-threads
# in profiles/default). docs/design.md says why the work is split this way.


include: "functions/resize.smk"


rule decode_source:
    """Decode one source into the uncompressed raster pyramid its resize jobs share.

    The rasters are kept (not temp): a temp() intermediate would be re-created
    whenever a width is added and would then rebuild every target of the source.
    """
    input:
        source=source_path,
    output:
        levels=RASTER_LEVEL_PATTERNS,
        digests=PYRAMID_DIGESTS,
    log:
        LOG_DIR / "decode_source" / "{stem}.log",
    benchmark:
        BENCHMARK_DIR / "decode_source" / "{stem}.tsv"
    priority: decode_priority
    conda:
        "envs/pillow.yaml"
    resources:
        mem_mb=decode_mem_mb,
        disk_mb=decode_disk_mb,
        runtime=decode_runtime,
        decoders=DECODE_OPTIONS,
    params:
        max_pixels=pixel_limit,
        code=DECODE_CODE,
        script=str(SCRIPTS_DIR / "decode_source.py"),
    shell:
        # A decoder that crashes (a signal, exit status above 128) cannot say
        # so itself: the shell names the source, on stderr and in the job's log.
        "python {params.script:q} {input.source:q} {output.levels:q}"
        " --digests {output.digests:q} --max-pixels {params.max_pixels}"
        " {resources.decoders} --log {log:q}"
        " || {{ status=$?; if [ $status -gt 128 ]; then"
        " line=$(printf 'ERROR %s: the decoder crashed (signal %d)' {input.source:q} $((status - 128)));"
        ' echo "$line" >&2; echo "$(date \'+%Y-%m-%d %H:%M:%S\') $line" >> {log:q}; fi; exit $status; }}'


rule choose_quality:
    """Choose the quality of one `quality: auto` variant: the lowest whose
    SSIMULACRA2 score reaches auto_quality.target (scripts/auto_quality.py)."""
    input:
        pyramid=resize_input(),
    output:
        QUALITY_PATTERN,
    log:
        LOG_DIR / "choose_quality" / "{stem}_{width}x{height}.{fmt}.log",
    wildcard_constraints:
        fmt=AUTO_FORMAT_PATTERN,
    priority: choose_quality_priority
    threads: 1
    resources:
        mem_mb=choose_quality_mem_mb,
        runtime=choose_quality_runtime,
    params:
        settings=quality_settings,
        code=QUALITY_CODE,
    run:
        choose_quality_job(input, output, wildcards, params, threads, log)


rule resize_image:
    """Resize one decoded source to one width and encode it in one format."""
    input:
        pyramid=resize_input(),
        quality=chosen_quality if AUTO_FORMATS else [],
    output:
        TARGET_PATTERN,
    log:
        LOG_DIR / "resize_image" / "{stem}_{width}x{height}.{fmt}.log",
    priority: resize_priority
    threads: 1
    resources:
        mem_mb=resize_mem_mb,
        runtime=resize_runtime,
    params:
        settings=resize_settings,
        code=RESIZE_CODE,
    run:
        resize_job(input, output, wildcards, params, threads, log)

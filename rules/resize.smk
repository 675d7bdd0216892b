# Decode each source once, then make every target from that raster.


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
    priority: decode_priority
    conda:
        "envs/pillow.yaml"
    resources:
        mem_mb=decode_mem_mb,
        disk_mb=decode_disk_mb,
        runtime=decode_runtime,
        tmpdir=SYSTEM_TMPDIR,
    params:
        max_pixels=pixel_limit,
        code=DECODE_CODE,
        client=JOB_CLIENT,
    shell:
        ". {params.client:q} decode_source {input.source:q} {output.levels:q}"
        " --digests {output.digests:q} --max-pixels {params.max_pixels} --log {log:q}"


rule resize_image:
    """Resize one decoded source to one width and encode it in one format."""
    input:
        pyramid=resize_input(),
    output:
        TARGET_PATTERN,
    log:
        LOG_DIR / "resize_image" / "{stem}_{width}x{height}.{fmt}.log",
    benchmark:
        BENCHMARK_DIR / "resize_image" / "{stem}_{width}x{height}.{fmt}.tsv"
    priority: resize_priority
    conda:
        "envs/pillow.yaml"
    resources:
        mem_mb=resize_mem_mb,
        disk_mb=RESIZE_DISK_MB,
        runtime=resize_runtime,
        tmpdir=SYSTEM_TMPDIR,
    params:
        settings=resize_settings,
        code=RESIZE_CODE,
        client=JOB_CLIENT,
    shell:
        ". {params.client:q} resize_image {input.pyramid:q} {output:q}"
        " --level {params.settings[level]} --width {wildcards.width} --height {wildcards.height} --format {wildcards.fmt}"
        " --options {params.settings[encoder]:q} --background {params.settings[background]:q}"
        " --log {log:q}"

# Sources from URLs (config `sources`): each URL is a checkpoint job that
# downloads one file into the input folder. The targets of a downloaded source
# are planned once it has arrived (their heights depend on its size), so its
# resizes start while other downloads still run. The helpers are in
# rules/common.smk; the download itself is scripts/download.py.


checkpoint download_source:
    """Download one URL source into the input folder, atomically."""
    output:
        source=INPUT_DIR / "{name}",
        origin=INPUT_DIR / ORIGIN_FOLDER / "{name}.json",
    log:
        LOG_DIR / "download_source" / "{name}.log",
    wildcard_constraints:
        name=url_name_pattern(),
    conda:
        "envs/pillow.yaml"
    resources:
        # Not params: changing a limit must not download everything again.
        limits=DOWNLOAD_OPTIONS,
    params:
        url=source_url,
        version=remote_version,
        client=JOB_CLIENT,
    shell:
        ". {params.client:q} download {params.url:q} {output.source:q}"
        " --origin {output.origin:q} {resources.limits} --log {log:q}"

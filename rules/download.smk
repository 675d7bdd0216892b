# Sources from URLs (config `sources`): each URL is a checkpoint job that
# downloads one file into the input folder, in a process of its own (it also
# opens the file with Pillow to check it). The targets of a downloaded source
# are planned once it has arrived (their heights depend on its size), so its
# resizes start while other downloads still run. scripts/download.py does the
# download.


include: "functions/download.smk"


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
        limits=DOWNLOAD_OPTIONS,
    params:
        url=source_url,
        version=remote_version,
        script=str(SCRIPTS_DIR / "download.py"),
    shell:
        "python {params.script:q} {params.url:q} {output.source:q}"
        " --origin {output.origin:q} {resources.limits} --log {log:q}"

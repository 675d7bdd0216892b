# Orphans: variants that no source or setting makes any more. A run lists them;
# only `snakemake --cores 1 remove_orphans` deletes them.


localrules:
    remove_orphans,


rule remove_orphans:
    """Delete variants that no source or setting makes any more (explicit only)."""
    input:
        code=local(SCRIPTS_DIR / "remove_files.py"),
    log:
        LOG_DIR / "remove_orphans.log",
    conda:
        "envs/pillow.yaml"
    params:
        paths=orphan_paths,
    shell:
        "python {input.code:q} {params.paths:q} > {log:q}"

# Orphans: variants that no source or setting makes any more. A run lists them;
# only `snakemake --cores 1 remove_orphans` deletes them.


include: "functions/orphans.smk"


localrules:
    remove_orphans,


rule remove_orphans:
    """Delete variants that no source or setting makes any more (explicit only)."""
    log:
        LOG_DIR / "remove_orphans.log",
    params:
        paths=orphan_paths,
    run:
        remove_orphans_job(params, log)

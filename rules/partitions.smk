# A partitioned run (config `partitions` N > 0): the sources are split into N
# partitions by a hash of their stem; each partition is built by a Snakemake
# run of its own (the whole workflow, with `partition` set), one job here,
# and their web files are merged. An unchanged partition costs this run a few
# file checks, not a DAG of its targets (docs/scaling.md).
import atexit

from snakemake_interface_executor_plugins.settings import ExecMode


include: "functions/partitions.smk"


localrules:
    partition_config,
    merge_partitions,


rule partition_config:
    """The config every partition's run builds with: this run's."""
    output:
        PARTITION_CONFIG,
    log:
        LOG_DIR / "partition_config.log",
    params:
        config=partition_run_config,
    run:
        partition_config_job(params, output, log)


rule build_partition:
    """One partition's run: a Snakemake run of the whole workflow over the
    partition's sources, with every core this job has, and this run's
    deployment methods (its process jobs have their conda env; this job runs
    Snakemake itself, in the environment Snakemake runs in). Its partition
    file and index are the job's outputs."""
    input:
        sources=partition_sources,
        config=PARTITION_CONFIG,
    output:
        records=PARTITION_FILE_PATTERN,
        index=PARTITION_INDEX_FILE_PATTERN,
    log:
        LOG_DIR / "build_partition" / "{partition}.log",
    threads: workflow.cores
    resources:
        mem_mb=partition_mem_mb,
        runtime=partition_runtime,
    params:
        snakefile=SNAKEFILE,
        partitions=PARTITIONS,
        records=PARTITION_RECORDS_PATTERN,
        index=PARTITION_INDEX_PATTERN,
        missing=missing_in_partition,
        code=WORKFLOW_CODE,
        deployment=deployment_options(),
    shell:
        "python -m snakemake --snakefile {params.snakefile:q} --cores {threads}"
        " {params.deployment}"
        " --configfile {input.config:q}"
        " --config partitions={params.partitions} partition={wildcards.partition}"
        " > {log:q} 2>&1"
        " && cp {params.records:q} {output.records:q}"
        " && cp {params.index:q} {output.index:q}"


rule merge_partitions:
    """The manifest, the size report and the gallery of every partition's sources."""
    input:
        partitions=partition_files,
    output:
        **({"gallery": GALLERY} if config["web"]["gallery"] else {}),
        manifest=MANIFEST,
        report=report(SIZE_REPORT, caption="report/sizes.rst", category="Size report"),
    log:
        LOG_DIR / "merge_partitions.log",
    params:
        code=WORKFLOW_CODE,
    run:
        merge_partitions_job(input, output, log)


if workflow.exec_mode == ExecMode.DEFAULT:
    atexit.register(print_partition_summary_at_exit)


onstart:
    acquire_run_lock()
    schedule_one_reevaluation_at_a_time()
    print_partition_start()
    remove_stale_partial_files()
    remove_temp_folder_of_killed_run()


onsuccess:
    print_partition_end()


onerror:
    print_partition_end(failed_run=True)

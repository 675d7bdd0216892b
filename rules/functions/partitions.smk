# Input functions, params, resources and job bodies of rules/partitions.smk,
# and what a partitioned run says at its start and end.
import hashlib
import math
import shlex

import yaml

from scripts.joblog import run_in_thread
from scripts.partitions import merge_partitions, missing_files, read_partition_index
from scripts.plan import file_names, partition_of, probe_size
from scripts.snakemake_compat import (
    failed_jobs,
    finished_jobs,
    is_build,
    jobs_of,
    pending_jobs,
    schedule_one_reevaluation_at_a_time,
)
from scripts.summary import (
    ORPHAN_HINT,
    built_targets,
    error_lines,
    partition_end_lines,
    partition_start_lines,
)
from scripts.web import write_text

PARTITION_FILE_PATTERN = str(PARTITION_FOLDER / "{partition}.json")
PARTITION_INDEX_FILE_PATTERN = str(PARTITION_FOLDER / "{partition}.files")
PARTITION_CONFIG = PARTITION_FOLDER / "config.yaml"
PARTITION_IDS = range(PARTITIONS)
SNAKEFILE = os.path.relpath(workflow.main_snakefile)
#: Cluster resources of a partition's run: Snakemake's own memory per source
#: (its DAG, ~22 jobs a source), the memory per megapixel of the largest
#: source a job thread holds (its pyramid, a resample and an encode), and an
#: upper bound of CPU seconds per target (docs/scaling.md).
RUN_MB_PER_SOURCE = 0.6
JOB_MB_PER_MEGAPIXEL = 12
CPU_SECONDS_PER_TARGET = 1.0


def workflow_code():
    """A digest of the workflow's code (the Snakefile, rules and scripts): a
    param of every partition, so that new code reruns each partition's run,
    which then reruns only the jobs whose own code changed."""
    root = Path(workflow.basedir)
    digest = hashlib.sha256()
    for path in sorted(
        [root / "Snakefile", *root.glob("rules/**/*"), *root.glob("scripts/*.py")]
    ):
        if path.is_file():
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


WORKFLOW_CODE = workflow_code()


@functools.cache
def sources_by_partition():
    """Partition -> the paths of its sources, in name order, for the
    partitions that have sources (the others have nothing to build)."""
    grouped = {}
    for stem, path in sorted(sources().items()):
        grouped.setdefault(partition_of(stem, PARTITIONS), []).append(path)
    return dict(sorted(grouped.items()))


def partition_sources(wildcards):
    return sources_by_partition().get(int(wildcards.partition), [])


def deployment_options():
    """This run's software deployment methods (--sdm), for each partition's run."""
    methods = sorted(
        str(m).lower() for m in workflow.deployment_settings.deployment_method
    )
    return shlex.join(["--software-deployment-method", *methods]) if methods else ""


def partition_run_config(wildcards):
    """This run's config, as every partition's run is to use it (partitions and
    partition are given to each on its command line)."""
    return {
        key: value
        for key, value in config.items()
        if key not in ("partitions", "partition")
    }


@functools.cache
def output_file_names():
    """The names of the files in the output folder and its html/ folder, as
    the partition files name them: two listings."""
    return file_names(OUTPUT_DIR) | {
        f"html/{name}" for name in file_names(OUTPUT_DIR / "html")
    }


def missing_in_partition(wildcards):
    """A digest of the files the partition's last run made that are gone (a
    deleted variant or snippet), or "" if none is. A param: when one goes
    missing, the partition's run restores it. The next run then sees none
    missing, a changed param, and runs the partition once more (a no-op for
    its jobs: docs/scaling.md)."""
    path = Path(PARTITION_INDEX_FILE_PATTERN.format(partition=wildcards.partition))
    try:
        files, _ = read_partition_index(path)
    except (OSError, ValueError):
        return ""
    missing = missing_files(files, output_file_names())
    if not missing:
        return ""
    return hashlib.sha256("\n".join(missing).encode()).hexdigest()[:16]


def partition_mem_mb(wildcards, threads):
    """Snakemake's DAG for the partition's sources, and ``threads`` job
    threads at once on its largest source (by bytes)."""
    paths = partition_sources(wildcards)
    if not paths:
        return 500
    largest = max(paths, key=lambda path: path.stat().st_size)
    size = probe_size(largest, SOURCE_FORMATS) or (0, 0)
    megapixels = size[0] * size[1] / 1e6
    return math.ceil(
        500
        + RUN_MB_PER_SOURCE * len(paths)
        + JOB_MB_PER_MEGAPIXEL * megapixels * threads
    )


def partition_runtime(wildcards, threads):
    """Minutes: an upper bound of the partition's CPU time, over its threads."""
    targets = (
        len(partition_sources(wildcards))
        * len(config["widths"])
        * len(config["formats"])
    )
    return 10 + math.ceil(targets * CPU_SECONDS_PER_TARGET / 60 / threads)


def partition_files(wildcards):
    return [PARTITION_FILE_PATTERN.format(partition=p) for p in sources_by_partition()]


def partition_targets(wildcards):
    """The input of `all` in a partitioned run: every partition's file and
    index, and the merged web files."""
    indexes = [
        PARTITION_INDEX_FILE_PATTERN.format(partition=p) for p in sources_by_partition()
    ]
    return partition_files(wildcards) + indexes + merged_web_files()


def merged_web_files():
    gallery = [GALLERY] if config["web"]["gallery"] else []
    return [MANIFEST, SIZE_REPORT, *gallery]


# The bodies of the run: jobs, in threads of Snakemake's process.
def partition_config_job(params, output, log):
    def write():
        text = yaml.safe_dump(params.config, sort_keys=True, allow_unicode=True)
        header = "# The config of every partition's run (rules/partitions.smk).\n"
        write_text(Path(output[0]), header + text)
        return f"wrote {output[0]}"

    run_in_thread(write, log[0], output[0])


def merge_partitions_job(input, output, log):
    gallery_path = Path(output.gallery) if config["web"]["gallery"] else None
    write = functools.partial(
        merge_partitions,
        [Path(path) for path in input.partitions],
        Path(output.manifest),
        Path(output.report),
        gallery_path,
    )
    run_in_thread(write, log[0], output.manifest)


@functools.cache
def print_partition_start():
    pending = jobs_of(pending_jobs(workflow), "build_partition")
    say(
        partition_start_lines(
            cores=workflow.cores if workflow.local_exec else 0,
            cluster_jobs=None if workflow.local_exec else workflow.nodes,
            input_dir=str(INPUT_DIR),
            sources_found=len(sources()),
            partitions=PARTITIONS,
            partitions_to_build=len(pending),
            dry_run=workflow.dryrun,
        )
    )


def print_partition_end(failed_run=False):
    """What the partitions' runs built, the errors of those that failed, and
    the orphans the partition files list."""
    finished = jobs_of(finished_jobs(workflow), "build_partition")
    failed = jobs_of(failed_jobs(workflow), "build_partition")
    logs = {job: Path(job.log[0]) for job in finished + failed}
    texts = {
        job: log.read_text(errors="replace") if log.exists() else ""
        for job, log in logs.items()
    }
    orphans = []
    for partition in PARTITION_IDS:
        path = Path(PARTITION_INDEX_FILE_PATTERN.format(partition=partition))
        if path.exists():
            orphans += read_partition_index(path)[1]
    # A partition file's orphans may since have been removed (remove_orphans).
    orphans = [name for name in orphans if (OUTPUT_DIR / name).exists()]
    say(
        partition_end_lines(
            elapsed=time.monotonic() - RUN_STARTED,
            partitions_built=len(finished),
            targets_built=sum(built_targets(texts[job]) for job in finished + failed),
            failed={
                int(job.wildcards.partition): (str(logs[job]), error_lines(texts[job]))
                for job in failed
            },
            orphans=sorted(orphans),
            orphan_hint=ORPHAN_HINT,
            stopped=failed_run and not failed,
        )
    )
    say(size_report_lines())


def print_partition_summary_at_exit():
    """Runs with nothing to build, and dry runs, never reach onstart."""
    if (
        not is_build(workflow)
        or print_partition_start.cache_info().currsize
        or LOCK_REFUSED
    ):
        return
    print_partition_start()
    if not workflow.dryrun:
        print_partition_end()

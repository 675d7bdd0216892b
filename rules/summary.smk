# What happens at the start and at the end of a run that builds targets (all
# of them, or a partition's): the housekeeping of rules/housekeeping.smk, and
# the summary (wording in scripts/summary.py; what it reads of Snakemake, in
# scripts/snakemake_compat.py). A partitioned run has its own, in
# rules/partitions.smk.
import atexit
import time

from scripts.download import download_summary, read_origin
from scripts.plan import unusable_sources
from scripts.snakemake_compat import (
    failed_jobs,
    finished_jobs,
    is_build,
    jobs_of,
    list_remaining_jobs_only_when_read,
    pending_jobs,
    schedule_one_reevaluation_at_a_time,
    single_jobs,
)
from scripts.summary import (
    ORPHAN_HINT,
    end_lines,
    start_lines,
    unique_in_order,
    web_file_lines,
)
from snakemake_interface_executor_plugins.settings import ExecMode


def cap_memory_to_machine():
    """Unless --resources mem_mb is given, let a local run's jobs use together at
    most the memory available now, using each job's mem_mb hint (megapixels)."""
    if (
        not workflow.local_exec
        or workflow.global_resources.get("mem_mb").value is not None
    ):
        return
    available_mb = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2**20
    workflow.register_resource("mem_mb", available_mb)
    say(
        [
            f"Memory: jobs share at most {available_mb:,} MB (--resources mem_mb=N to change)"
        ]
    )


# The rules whose jobs build one source's variants: a failed one fails the source.
SOURCE_BUILD_RULES = ("decode_source", "choose_quality", "resize_image")


@functools.cache
def print_start_summary():
    for path in unusable_sources(INPUT_DIR):
        say(
            [
                f"SKIPPED {path}: Snakemake reads {{}} and <> in file names as wildcards; rename it"
            ]
        )
    for url, why in sorted(url_downloads()[1].items()):
        say([f"SKIPPED {url}: {why}"])
    pending = pending_jobs(workflow)
    if url_sources():
        downloads = len(jobs_of(pending, "download_source"))
        say([f"{len(url_sources())} URL source(s), {downloads} to download."])
    say(
        start_lines(
            cores=workflow.cores if workflow.local_exec else 0,
            cluster_jobs=None if workflow.local_exec else workflow.nodes,
            input_dir=str(INPUT_DIR),
            sources_found=len(sources()),
            sources_to_process=len(
                unique_in_order(
                    job.wildcards.stem for job in jobs_of(pending, *SOURCE_BUILD_RULES)
                )
            ),
            targets_to_build=len(jobs_of(pending, "resize_image")),
            dry_run=workflow.dryrun,
        )
    )


def print_end_summary(failed_run=False):
    """``failed_run``: Snakemake reports the run as failed (onerror); with no
    job failed, it was stopped (Ctrl-C)."""
    failed = failed_jobs(workflow)
    finished = finished_jobs(workflow)
    failed_urls = [
        url_sources()[job.wildcards.name] for job in jobs_of(failed, "download_source")
    ]
    downloaded = [
        read_origin(INPUT_DIR, job.wildcards.name)
        for job in jobs_of(finished, "download_source")
    ]
    say(download_summary(origin for origin in downloaded if origin is not None))
    say(
        end_lines(
            elapsed=time.monotonic() - RUN_STARTED,
            built=len(jobs_of(finished, "resize_image")),
            failed_sources=sorted(
                {
                    str(sources().get(job.wildcards.stem, job.wildcards.stem))
                    for job in jobs_of(failed, *SOURCE_BUILD_RULES)
                }
            )
            + sorted(failed_urls),
            orphans=orphans(),
            orphan_hint=ORPHAN_HINT,
            other_jobs=sum(
                job.rule.name not in ("resize_image", "all")
                for job in single_jobs(finished)
            ),
            stopped=failed_run and not failed,
        )
    )
    say(web_files_state(failed, finished))
    say(size_report_lines())


def web_files_state(failed, finished):
    """The lines on the failed sources the web files leave out or wait on."""
    source_rules = (*SOURCE_BUILD_RULES, "describe_source")
    failed_now = {job.wildcards.stem for job in jobs_of(failed, *source_rules)}
    failed_now |= {
        Path(job.wildcards.name).stem for job in jobs_of(failed, "download_source")
    }
    waiting_on = failed_now & set(published_stems())
    described = {job.wildcards.stem for job in jobs_of(finished, "describe_source")}
    return web_file_lines(
        left_out=source_names((failed_now | set(failed_stems())) - waiting_on),
        waiting_on=source_names(waiting_on),
        recovered=source_names(set(failed_stems()) & described),
    )


def source_names(stems):
    """The paths of the sources with these stems, sorted."""
    return sorted(str(sources().get(stem, stem)) for stem in stems)


def print_summary_at_exit():
    """Runs with nothing to build, and dry runs, never reach onstart. A run that
    stopped on a bad source set (two sources with one stem) has said why
    already, and has no summary to give."""
    if (
        not is_build(workflow)
        or print_start_summary.cache_info().currsize
        or LOCK_REFUSED
    ):
        return
    try:
        print_start_summary()
    except WorkflowError:
        return
    if not workflow.dryrun:
        print_end_summary()


def stop_without_traceback(kind, value, traceback):
    """Ctrl-C while Snakemake plans or runs onstart, outside its scheduler
    (which handles it itself), ends with one line instead of a traceback."""
    if issubclass(kind, KeyboardInterrupt):
        print("Stopped (Ctrl-C) before any job ran.", file=sys.stderr)
    else:
        sys.__excepthook__(kind, value, traceback)


if workflow.exec_mode == ExecMode.DEFAULT:
    atexit.register(print_summary_at_exit)
    sys.excepthook = stop_without_traceback


onstart:
    acquire_run_lock()
    schedule_one_reevaluation_at_a_time()
    list_remaining_jobs_only_when_read()
    print_start_summary()
    cap_memory_to_machine()
    # In a partition's run, the partitioned run has done it, and the other
    # partitions' runs are writing.
    if PARTITION is None:
        remove_stale_partial_files()
    remove_temp_folder_of_killed_run()


onsuccess:
    print_end_summary()


onerror:
    print_end_summary(failed_run=True)

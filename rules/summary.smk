# What happens at the start and at the end of every run: the run lock, the
# clean-up of what a killed run left, and the summary (wording in
# scripts/summary.py; what it reads of Snakemake, in scripts/snakemake_compat.py).
import atexit
import csv
import fcntl
import shutil
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
from scripts.summary import end_lines, start_lines, unique_in_order, web_file_lines
from scripts.web import report_summary
from snakemake_interface_executor_plugins.settings import ExecMode

RUN_STARTED = time.monotonic()
# The pid of the run that held the lock when this one asked for it.
LOCK_REFUSED = []
ORPHAN_HINT = "uv run snakemake --cores 1 remove_orphans"


def say(lines):
    """Log the summary through Snakemake's logger, so that it comes in order
    with Snakemake's own lines, on the console the profile chose; at exit,
    once Snakemake has closed its logger, print it."""
    for line in lines:
        if logger.handlers:
            logger.info(line)
        else:
            print(line, file=sys.stderr, flush=True)


@functools.cache
def acquire_run_lock():
    """Refuse a second run in this folder while one is building.

    Snakemake's own lock is turned off in the profile (nolock): its lock files
    outlive a run that is killed, so a plain rerun after `kill -9` would fail.
    An flock() is released by the kernel when its process dies, however it dies.
    Returns the lock file, held open for the rest of the run; another run
    holding it is refused with a WorkflowError.
    """
    path = Path(".snakemake") / "responsive-images.lock"
    path.parent.mkdir(exist_ok=True)
    handle = open(path, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        owner = (handle.read().split() or ["?"])[0]
        handle.close()
        LOCK_REFUSED.append(owner)
        raise WorkflowError(
            f"another run (pid {owner}) is building in this folder; "
            "wait for it to finish, or stop it"
        ) from None
    handle.seek(0)
    PREVIOUS_RUN.extend(handle.read().splitlines())
    handle.truncate(0)
    handle.write(f"{os.getpid()}\n{workflow.snakemake_tmp_dir}\n")
    handle.flush()
    return handle


#: What the last run in this folder wrote into the lock file: its pid and
#: Snakemake's temporary folder for it.
PREVIOUS_RUN = []


def remove_temp_folder_of_killed_run():
    """Delete the temporary folder (in the system's temp directory) of the last
    run here if it is still there: that run was killed before Snakemake could
    remove it, since this run holds the folder's lock."""
    if len(PREVIOUS_RUN) < 2:
        return
    folder = Path(PREVIOUS_RUN[1])
    if (
        folder.name.startswith("snakemake")
        and folder != workflow.snakemake_tmp_dir
        and folder.is_dir()
    ):
        shutil.rmtree(folder, ignore_errors=True)


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


def remove_stale_partial_files():
    """Delete the temporary files of jobs killed mid-write (only one run holds the
    folder's lock, so no live job owns them)."""
    for pattern in (".*.part", "html/.*.part"):
        for path in OUTPUT_DIR.glob(pattern):
            path.unlink(missing_ok=True)
    for pattern in (".*.part", "cache/*/.*.part", "report/.*.part"):
        for path in BUILD_DIR.glob(pattern):
            path.unlink(missing_ok=True)
    for pattern in (".*.part", f"{ORIGIN_FOLDER}/.*.part"):
        for path in INPUT_DIR.glob(pattern):
            path.unlink(missing_ok=True)


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
                    job.wildcards.stem
                    for job in jobs_of(pending, "decode_source", "resize_image")
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
                    for job in jobs_of(failed, "decode_source", "resize_image")
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
    source_rules = ("decode_source", "resize_image", "describe_source")
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


def size_report_lines():
    """The summary of the size report, if a run has written it."""
    try:
        with open(SIZE_REPORT, newline="", encoding="utf-8") as handle:
            return report_summary(csv.DictReader(handle), str(SIZE_REPORT))
    except (OSError, KeyError, ValueError):
        return []


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
    remove_stale_partial_files()
    remove_temp_folder_of_killed_run()


onsuccess:
    print_end_summary()


onerror:
    print_end_summary(failed_run=True)

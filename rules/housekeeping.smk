# What every run does, whatever it builds: take the folder's lock and clear
# what a killed run left behind (at its start), and say what the size report
# holds (at its end). rules/summary.smk and rules/partitions.smk call these.
import csv
import fcntl
import shutil
import time

from scripts.web import report_summary

RUN_STARTED = time.monotonic()
# The pid of the run that held the lock when this one asked for it.
LOCK_REFUSED = []


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
    name = "responsive-images" if PARTITION is None else f"partition-{PARTITION}"
    path = Path(".snakemake") / f"{name}.lock"
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


def remove_stale_partial_files():
    """Delete the temporary files of jobs killed mid-write (only one run holds the
    folder's lock, so no live job owns them)."""
    for pattern in (".*.part", "html/.*.part"):
        for path in OUTPUT_DIR.glob(pattern):
            path.unlink(missing_ok=True)
    for pattern in (
        ".*.part",
        "cache/*/.*.part",
        "report/.*.part",
        "partitions/.*.part",
        "partitions/*/.*.part",
    ):
        for path in BUILD_DIR.glob(pattern):
            path.unlink(missing_ok=True)
    for pattern in (".*.part", f"{ORIGIN_FOLDER}/.*.part"):
        for path in INPUT_DIR.glob(pattern):
            path.unlink(missing_ok=True)


def size_report_lines():
    """The summary of the size report, if a run has written it."""
    try:
        with open(SIZE_REPORT, newline="", encoding="utf-8") as handle:
            return report_summary(csv.DictReader(handle), str(SIZE_REPORT))
    except (OSError, KeyError, ValueError):
        return []

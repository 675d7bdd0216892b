"""Logging for one Snakemake job: details to the job's log, one line to stderr."""

from __future__ import annotations

import re
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image

#: Errors that mean "this input is bad", reported as one line without a traceback.
INPUT_ERRORS = (OSError, ValueError, SyntaxError, Image.DecompressionBombError)

#: Linux's view of this process, with its peak resident memory (VmHWM).
PROC_STATUS = Path("/proc/self/status")


def one_line(error: BaseException) -> str:
    """The first line of an exception's message, or its type if it has none."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def peak_memory_mb(status: str | None = None) -> float | None:
    """Peak resident memory of this process since its start,
    in MB (``status``: the text of /proc/self/status); None where unknown."""
    if status is None:
        try:
            status = PROC_STATUS.read_text()
        except OSError:
            return None
    found = re.search(r"^VmHWM:\s*(\d+) kB$", status, re.MULTILINE)
    return int(found.group(1)) / 1024 if found else None


def usage_line(wall: float, cpu: float, peak_mb: float | None) -> str:
    """A job's own resource use, in the units and names of Snakemake's benchmark
    columns: wall seconds, CPU seconds (user and system), peak RSS in MB."""
    peak = "NA" if peak_mb is None else f"{peak_mb:.2f}"
    return f"INFO usage s={wall:.4f} cpu_time={cpu:.2f} max_rss={peak}"


def run_job(action: Callable[[], str], log_path: Path | None, subject: str) -> int:
    """Run ``action`` and return a process exit code.

    ``action`` returns a one-line description of what it did, written to the
    job's log, followed by what the job used (``usage_line``). On a bad input
    the job prints one line to stderr that names ``subject`` and the cause,
    writes the same line to its log, and returns 1.

    In a process of its own (a ``shell:`` job) the usage is that process's;
    in a thread of Snakemake's (a ``run:`` job) it is the thread's CPU time,
    and the peak memory, shared by every job of the process, is NA.
    """
    own_process = threading.current_thread() is threading.main_thread()
    cpu_clock = time.process_time if own_process else time.thread_time
    wall, cpu = time.perf_counter(), cpu_clock()
    try:
        line = f"INFO {action()}"
        status = 0
    except INPUT_ERRORS as error:
        line = f"ERROR {subject}: {one_line(error)}"
        print(line, file=sys.stderr, flush=True)
        status = 1
    peak = peak_memory_mb() if own_process else None
    usage = usage_line(time.perf_counter() - wall, cpu_clock() - cpu, peak)
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        log_path.write_text(f"{stamp} {line}\n{stamp} {usage}\n", encoding="utf-8")
    return status


class JobFailed(Exception):
    """A ``run:`` job whose input was bad: its one line is already printed."""


def run_in_thread(action: Callable[[], str], log_path: Path | str, subject: str) -> None:
    """:func:`run_job` for a ``run:`` job: raise :class:`JobFailed` on a bad input."""
    if run_job(action, Path(log_path), subject) != 0:
        msg = f"{subject}: failed (see {log_path})"
        raise JobFailed(msg)

"""Logging for one Snakemake job: details to the job's log, one line to stderr."""

from __future__ import annotations

import contextlib
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image

#: Errors that mean "this input is bad", reported as one line without a traceback.
INPUT_ERRORS = (OSError, ValueError, SyntaxError, Image.DecompressionBombError)

#: Linux's view of this process: its peak resident memory (VmHWM), and the file
#: that starts a new peak when "5" is written to it (Linux >= 4.0).
PROC_STATUS = Path("/proc/self/status")
PROC_CLEAR_REFS = Path("/proc/self/clear_refs")


def one_line(error: BaseException) -> str:
    """The first line of an exception's message, or its type if it has none."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def reset_peak_memory() -> None:
    """Start a new peak of this process's resident memory, where the system allows it.

    A job server worker runs many jobs, so without this its peak would be
    the largest job's so far, not this job's.
    """
    with contextlib.suppress(OSError):
        PROC_CLEAR_REFS.write_text("5")


def peak_memory_mb(status: str | None = None) -> float | None:
    """Peak resident memory of this process since its start or the last reset,
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
    writes the same line to its log, and exits 1.
    """
    reset_peak_memory()
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        line = f"INFO {action()}"
        status = 0
    except INPUT_ERRORS as error:
        line = f"ERROR {subject}: {one_line(error)}"
        print(line, file=sys.stderr)
        status = 1
    usage = usage_line(time.perf_counter() - wall, time.process_time() - cpu, peak_memory_mb())
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        log_path.write_text(f"{stamp} {line}\n{stamp} {usage}\n", encoding="utf-8")
    return status

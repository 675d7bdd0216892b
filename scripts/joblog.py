"""Logging for one Snakemake job: details to the job's log, one line to stderr."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image

#: Errors that mean "this input is bad", reported as one line without a traceback.
INPUT_ERRORS = (OSError, ValueError, SyntaxError, Image.DecompressionBombError)


def one_line(error: BaseException) -> str:
    """The first line of an exception's message, or its type if it has none."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def run_job(action: Callable[[], str], log_path: Path | None, subject: str) -> int:
    """Run ``action`` and return a process exit code.

    ``action`` returns a one-line description of what it did, written to the
    job's log. On a bad input the job prints one line to stderr that names
    ``subject`` and the cause, writes the same line to its log, and exits 1.
    """
    try:
        line = f"INFO {action()}"
        status = 0
    except INPUT_ERRORS as error:
        line = f"ERROR {subject}: {one_line(error)}"
        print(line, file=sys.stderr)
        status = 1
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        log_path.write_text(f"{stamp} {line}\n", encoding="utf-8")
    return status

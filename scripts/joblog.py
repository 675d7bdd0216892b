"""Logging for one Snakemake job: details to the job's log, one line to stderr."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path

from PIL import Image

#: Errors that mean "this input is bad", reported as one line without a traceback.
INPUT_ERRORS = (OSError, ValueError, SyntaxError, Image.DecompressionBombError)


def run_job(action: Callable[[], str], log_path: Path | None, subject: str) -> int:
    """Run ``action`` and return a process exit code.

    ``action`` returns a one-line description of what it did, written to the
    job's log. On a bad input the job prints one line to stderr that names
    ``subject`` and the cause, writes the same line to its log, and exits 1.
    """
    handlers: list[logging.Handler] = []
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w", encoding="utf-8"))
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        handlers=handlers or [logging.NullHandler()],
        force=True,
    )
    try:
        logging.info(action())
    except INPUT_ERRORS as error:
        cause = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        line = f"ERROR {subject}: {cause}"
        logging.error(line)
        print(line, file=sys.stderr)
        return 1
    return 0

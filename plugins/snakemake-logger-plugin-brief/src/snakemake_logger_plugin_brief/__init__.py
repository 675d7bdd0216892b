"""A Snakemake logger plugin: the console of a run, in a few lines.

Snakemake prints a block per job (rule, input, output, reason, resources):
over a thousand lines for three photos. This handler prints instead:

- a progress line (redrawn in place on a terminal, every quarter otherwise);
- the lines the workflow logs itself (its start and end summary);
- one line per error, without the traceback: planning and config errors
  show their message, and a failed job shows nothing more when its own
  ``ERROR <file>: <cause>`` line, found in its log, was printed already;
- warnings, and the job table of a dry run.

``--logger-brief-jobs`` prints Snakemake's own output instead, job blocks
included. The complete log in ``.snakemake/log/`` always has them.
"""

import logging
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from snakemake_interface_logger_plugins.base import LogHandlerBase
from snakemake_interface_logger_plugins.common import LogEvent
from snakemake_interface_logger_plugins.settings import LogHandlerSettingsBase


@dataclass
class LogHandlerSettings(LogHandlerSettingsBase):
    jobs: bool = field(
        default=False,
        metadata={
            "help": "Print Snakemake's own output, with a block per job, "
            "instead of the brief one.",
        },
    )


#: Snakemake's progress chatter: what the brief output leaves out. Any other
#: line Snakemake logs (from --lint, --summary, --list-rules, ...) is printed.
CHATTER = (
    "Assuming unrestricted shared filesystem usage",
    "Building DAG of jobs",
    "Using shell:",
    "Provided cores:",
    "Provided resources:",
    "Rules claiming more threads",
    "Conda environments: ignored",
    "Select jobs to execute",
    "Execute ",
    "Nothing to be done (all requested files are present",
    "Elapsed time:",
    "Config file ",
    "Shutting down, this might take some time",
    "Job stats:",
    "Singularity containers: ignored",
    "host:",
    "Some jobs were triggered by provenance information",
    "Rules with provenance triggered jobs",
    "This was a dry-run",
)

#: The line of a dry run's reasons that points at the job blocks left out.
SEE_JOBS_ABOVE = "\n    (check individual jobs above for details)"

#: What Snakemake says after a job failed, which the job's own line and the
#: workflow's end summary have said already.
AFTER_JOB_FAILURE = (
    "Exiting because a job execution failed",
    "At least one job did not complete successfully",
)

#: Events that describe jobs one by one: the job blocks.
JOB_EVENTS = {
    LogEvent.JOB_INFO,
    LogEvent.JOB_STARTED,
    LogEvent.JOB_FINISHED,
    LogEvent.GROUP_INFO,
    LogEvent.RESOURCES_INFO,
    LogEvent.WORKFLOW_STARTED,
    LogEvent.RULEGRAPH,
    LogEvent.SHELLCMD,
    LogEvent.DEBUG_DAG,
}

#: A log line the workflow's jobs write when they fail: "<date> <time> ERROR ...".
JOB_ERROR_LINE = re.compile(r"^\S+ \S+ ERROR ", re.MULTILINE)

#: The first line of Snakemake's formatted exceptions, e.g.
#: 'WorkflowError in file "/x/rules/common.smk", line 50:' or 'RuleException:'.
EXCEPTION_HEADER = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception)( in .*)?:$")


def one_line(message: str) -> str:
    """Snakemake's formatted exception, as one line: its message, without the
    exception's name, the file and line, the wildcards or the traceback."""
    lines = message.splitlines()
    stripped = [line.strip() for line in lines]
    if "Error:" in stripped:
        # An input function's exception: the cause is under "Error:".
        start = stripped.index("Error:") + 1
        end = stripped.index("Wildcards:") if "Wildcards:" in stripped else len(lines)
        lines = lines[start:end]
    kept = []
    for line in lines:
        text = line.strip()
        if line.startswith("  File ") or text.startswith("Traceback"):
            break
        if not text or EXCEPTION_HEADER.match(text):
            continue
        kept.append(text)
    text = " ".join(kept) or message.strip()
    return text.removeprefix("Error: ")


def logged_an_error(log_files: list[str]) -> bool:
    """Whether one of a failed job's logs holds the job's own ERROR line."""
    for name in log_files:
        try:
            if JOB_ERROR_LINE.search(Path(name).read_text(errors="replace")):
                return True
        except OSError:
            continue
    return False


def event_of(record: logging.LogRecord) -> LogEvent | None:
    return getattr(record, "event", None)


def quiet_about(quiet, what: str) -> bool:
    """Whether --quiet names ``what`` (Snakemake's Quietness values, or 'all')."""
    names = {str(getattr(value, "name", value)).lower() for value in quiet or ()}
    return what in names or "all" in names


class Progress(str):
    """A progress line: redrawn in place on a terminal."""

    complete = False


@dataclass
class Brief:
    """What the brief console shows of each record: a pure state machine, so
    that it can be tested without a run."""

    dry_run: bool = False
    verbose: bool = False
    quiet: frozenset = frozenset()
    failed_jobs: int = 0
    interrupted: bool = False
    held_error: str | None = None
    last_quarter: int = 0
    shown_job_table: bool = False
    #: Every step's progress (a terminal redraws it in place), not every quarter's.
    every_step: bool = False

    def lines(self, record: logging.LogRecord) -> list[str]:
        """The lines to print for ``record`` (after any error held back)."""
        event = event_of(record)
        if self.held_error is not None and event not in (
            LogEvent.JOB_ERROR,
            LogEvent.GROUP_ERROR,
        ):
            return self.release_error() + self.lines(record)
        if event == LogEvent.PROGRESS:
            return self.progress(record.done, record.total)
        if event in (LogEvent.JOB_ERROR, LogEvent.GROUP_ERROR):
            return self.job_error(record)
        if event == LogEvent.ERROR:
            # Held back: the job failure that usually follows explains it.
            self.held_error = one_line(record.getMessage())
            return []
        if event == LogEvent.RUN_INFO:
            # A dry run's job table, once (Snakemake prints it again at the end).
            shown, self.shown_job_table = self.shown_job_table, True
            return [record.getMessage()] if self.dry_run and not shown else []
        if event in JOB_EVENTS:
            return []
        message = record.getMessage()
        if record.levelno >= logging.ERROR:
            return self.error(message)
        if record.levelno >= logging.WARNING:
            return [message]
        if record.levelno < logging.INFO:
            return [message] if self.verbose else []
        return self.info(message)

    def release_error(self) -> list[str]:
        held, self.held_error = self.held_error, None
        return self.error(held)

    def error(self, message: str) -> list[str]:
        if self.interrupted or (
            self.failed_jobs and message.startswith(AFTER_JOB_FAILURE)
        ):
            return []
        text = one_line(message)
        return [text if text.startswith("ERROR") else f"ERROR {text}"]

    def info(self, message: str) -> list[str]:
        if message.startswith("Terminating processes on user request"):
            self.interrupted = True
            return ["Stopping on Ctrl-C: the running jobs are cut short."]
        if message.startswith("Complete log(s):"):
            # Worth a look only after a failure.
            return [message] if self.failed_jobs and not self.interrupted else []
        if quiet_about(self.quiet, "all") or message.startswith(CHATTER):
            return []
        return [message.replace(SEE_JOBS_ABOVE, "")]

    def job_error(self, record: logging.LogRecord) -> list[str]:
        self.failed_jobs += 1
        held, self.held_error = self.held_error, None
        if self.interrupted or logged_an_error(list(getattr(record, "log", []) or [])):
            return []
        where = ", ".join(getattr(record, "log", []) or []) or "no log"
        rule = getattr(record, "rule_name", None) or getattr(record, "groupid", "?")
        cause = f": {held}" if held else ""
        return [f"ERROR job {rule} failed{cause} (log: {where})"]

    def progress(self, done: int, total: int) -> list[str]:
        if quiet_about(self.quiet, "progress") or total <= 0:
            return []
        quarter = 4 * done // total
        if quarter == self.last_quarter and not self.every_step:
            return []
        self.last_quarter = quarter
        line = Progress(f"{done} of {total} steps ({100 * done // total}%) done")
        line.complete = done >= total
        return [line]

    def close(self) -> list[str]:
        return self.release_error() if self.held_error is not None else []


class LogHandler(LogHandlerBase):
    def __post_init__(self) -> None:
        common = self.common_settings
        self.stream: TextIO = sys.stdout if common.stdout else sys.stderr
        self.full = bool(self.settings and self.settings.jobs)
        self.terminal = self.stream.isatty()
        #: The progress line drawn last on a terminal, still open (no newline).
        self.open_progress: str | None = None
        self.brief = Brief(
            every_step=self.terminal,
            dry_run=bool(common.dryrun),
            verbose=bool(common.verbose),
            quiet=frozenset(common.quiet or ()),
        )
        if self.full:
            # Snakemake's own filter and formatter, as without this plugin.
            from snakemake.logging import DefaultFilter, DefaultFormatter

            self.addFilter(
                DefaultFilter(
                    common.quiet,
                    common.debug_dag,
                    common.verbose,
                    common.dryrun,
                    common.printshellcmds,
                )
            )
            self.setFormatter(DefaultFormatter(common.quiet, common.show_failed_logs))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if self.full:
                lines = [self.format(record)]
            else:
                lines = self.brief.lines(record)
            self.write(lines)
        except Exception:
            self.handleError(record)

    def write(self, lines: list[str]) -> None:
        for line in lines:
            if not self.terminal:
                self.stream.write(line + "\n")
            elif isinstance(line, Progress):
                self.stream.write(f"\r\x1b[K{line}" + ("\n" if line.complete else ""))
                self.open_progress = None if line.complete else line
            elif self.open_progress is not None:
                self.stream.write(f"\r\x1b[K{line}\n{self.open_progress}")
            else:
                self.stream.write(line + "\n")
        if lines:
            self.stream.flush()

    def end_progress_line(self) -> None:
        if self.open_progress is not None:
            self.stream.write("\n")
            self.open_progress = None

    def close(self) -> None:
        self.write(self.brief.close())
        self.end_progress_line()
        super().close()

    @property
    def writes_to_stream(self) -> bool:
        return True

    @property
    def writes_to_file(self) -> bool:
        return False

    @property
    def has_filter(self) -> bool:
        return True

    @property
    def has_formatter(self) -> bool:
        return True

    @property
    def needs_rulegraph(self) -> bool:
        return False

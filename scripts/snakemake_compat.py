"""Everything the workflow uses of Snakemake beyond its documented Snakefile API.

Snakemake's handlers (onstart, onsuccess, onerror) get no argument, so a run
summary ("3 sources to process", "FAILED: ...") has to look at the DAG and the
scheduler itself: the readers below. Two items change Snakemake's scheduler,
:func:`schedule_one_reevaluation_at_a_time` and
:func:`list_remaining_jobs_only_when_read`, for the costs measured in
docs/performance.md; the patches that do the same upstream are in
docs/upstream/. Each item
names the upstream issue that would make it unnecessary, and
tests/test_snakemake_compat.py fails as soon as one of them stops matching
the installed Snakemake.

Written for one Snakemake minor version, :data:`SNAKEMAKE_SERIES`, which
pyproject.toml pins; :func:`check_version` refuses any other at start-up,
so a new release is tried here, and in the test, before it is used.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

T = TypeVar("T")

#: The Snakemake minor version these readers were written for.
SNAKEMAKE_SERIES = (9, 27)


def series(version: str) -> tuple[int, int]:
    """``(major, minor)`` of a version string such as ``9.27.1``."""
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


def check_version(version: str) -> None:
    """Refuse a Snakemake of another minor version than :data:`SNAKEMAKE_SERIES`."""
    if series(version) != SNAKEMAKE_SERIES:
        expected = ".".join(map(str, SNAKEMAKE_SERIES))
        msg = (
            f"this workflow is written for Snakemake {expected}.x, not {version} "
            f"(scripts/snakemake_compat.py); install the locked environment: uv sync"
        )
        raise RuntimeError(msg)


def single_jobs(jobs: Iterable[Any]) -> Iterator[Any]:
    """The jobs themselves, with the jobs of group jobs (on a cluster) in their place."""
    for job in jobs:
        if job.is_group():
            yield from job.jobs
        else:
            yield job


def jobs_of(jobs: Iterable[Any], *rule_names: str) -> list[Any]:
    """The jobs of these rules, looking into group jobs."""
    return [job for job in single_jobs(jobs) if job.rule.name in rule_names]


def pending_jobs(workflow: Any) -> list[Any]:
    """Every job this run is to execute, finished or not.

    ``DAG.needrun_jobs`` is not documented for Snakefiles; onstart has no
    other way to know what the run will do (snakemake/snakemake#1011 asks
    for job identities in what handlers and loggers receive).
    """
    return list(workflow.dag.needrun_jobs(exclude_finished=False))


def finished_jobs(workflow: Any) -> list[Any]:
    """The jobs this run has finished (``DAG.finished_jobs``; snakemake/snakemake#1011)."""
    return list(workflow.dag.finished_jobs)


def failed_jobs(workflow: Any) -> list[Any]:
    """The jobs that failed in this run: the scheduler's ``failed`` set, which
    onerror cannot get otherwise (snakemake/snakemake#2709)."""
    scheduler = getattr(workflow, "scheduler", None)
    return list(getattr(scheduler, "failed", ()))


def is_build(workflow: Any) -> bool:
    """Whether this invocation runs or plans jobs, rather than --lint, --report
    or a listing, which give no core count (``Workflow._cores`` is None then,
    and the public ``Workflow.cores`` raises)."""
    return workflow.dag is not None and not (workflow.local_exec and workflow._cores is None)


def s3_client(workflow: Any) -> Any:
    """The boto3 resource of the default storage provider (snakemake-storage-plugin-s3's
    ``s3c``): listing the input folder with it costs one request per 1,000
    sources. Snakemake's storage API can list a folder only through
    ``glob_wildcards``, which lists far more than the folder
    (snakemake/snakemake#1909)."""
    return workflow.storage_registry.default_storage_provider.s3c


def job_scheduler_class() -> Any:
    """Snakemake's JobScheduler class, which the two scheduler items change."""
    from snakemake.scheduling.job_scheduler import JobScheduler

    return JobScheduler


def schedule_one_reevaluation_at_a_time(scheduler_class: Any = None) -> None:
    """Keep at most one of the scheduler's re-evaluation timers pending, as a daemon.

    After every scheduling pass, Snakemake 9.27 starts a timer to look again
    at its job rate limit (``--max-jobs-per-timespan``, 100/1s by default),
    and every pass that a timer or a finished job wakes starts another, so the
    passes multiply (snakemake/snakemake#3744; in snakemake/snakemake#3804
    the timers exhausted a login node's threads). Each pass re-evaluates the
    resources of every ready job while holding the GIL the job threads need.
    The timers are not daemons either, so every run waited up to a second for
    the last one before it could exit. One pending timer gives the same rate
    limiting: the pass it wakes schedules the next. Applied in onstart (the
    main process only); the patch that does the same upstream is
    docs/upstream/one-reevaluation-timer.patch.
    """
    scheduler_class = scheduler_class or job_scheduler_class()
    if getattr(scheduler_class._schedule_reevalutation, "one_at_a_time", False):
        return

    def schedule_reevaluation(self, delay: float) -> None:
        if getattr(self, "_pending_reevaluation", None) is not None:
            return

        def reevaluate() -> None:
            # Cleared before the scheduler wakes, so the pass it wakes can
            # always start the next timer.
            self._pending_reevaluation = None
            self._open_jobs.release()

        timer = threading.Timer(delay, reevaluate)
        timer.daemon = True
        self._pending_reevaluation = timer
        timer.start()

    schedule_reevaluation.one_at_a_time = True
    scheduler_class._schedule_reevalutation = schedule_reevaluation


class LazySequence(Sequence[T]):
    """The sequence ``compute()`` returns, computed once, when first read."""

    def __init__(self, compute: Callable[[], Sequence[T]]) -> None:
        self._compute = compute

    @functools.cached_property
    def items(self) -> Sequence[T]:
        return self._compute()

    def __getitem__(self, index):  # type: ignore[override]
        return self.items[index]

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __contains__(self, item: object) -> bool:
        return item in self.items


def list_remaining_jobs_only_when_read(scheduler_class: Any = None) -> None:
    """Let the scheduler list the jobs still to run only if a selector reads the list.

    Every scheduling pass of Snakemake 9.27 hands the job selector
    ``remaining_jobs``: every job of the run not yet finished, listed by
    walking them all. The greedy selector (profiles/default) never reads it,
    so a build of N jobs spends N passes x N jobs on it: at 1,000 sources
    (25,000 jobs) it was the largest part of the main thread's samples, and
    the build slowed as it went (snakemake/snakemake#2354 reports such a
    build; #4240 names this per-pass cost). The ILP selector and the end of a
    run get the same list, computed when first read. Applied in onstart; the
    patch for upstream is docs/upstream/lazy-remaining-jobs.patch.
    """
    scheduler_class = scheduler_class or job_scheduler_class()
    remaining_jobs = scheduler_class.__dict__["remaining_jobs"]
    if getattr(remaining_jobs.fget, "lazy", False):
        return

    def lazy_remaining_jobs(self: Any) -> LazySequence[Any]:
        return LazySequence(functools.partial(remaining_jobs.fget, self))

    lazy_remaining_jobs.lazy = True
    scheduler_class.remaining_jobs = property(lazy_remaining_jobs)


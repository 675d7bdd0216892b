"""scripts/snakemake_compat.py: each reader still matches the installed Snakemake.

These fail as soon as a Snakemake release renames or reshapes what a reader
uses, before any run prints a wrong summary.
"""

from __future__ import annotations

import inspect
import os
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
import snakemake
import snakemake.api  # noqa: F401 (first: it imports the workflow and the DAG in order)
from snakemake.workflow import Workflow
from snakemake.dag import DAG
from snakemake.scheduling.job_scheduler import JobScheduler

from conftest import ROOT, apply_upstream_patch
from scripts import snakemake_compat as compat


def test_the_installed_snakemake_is_the_series_the_readers_were_written_for():
    compat.check_version(snakemake.__version__)


@pytest.mark.parametrize("version", ["9.26.3", "9.28.0", "10.0.0"])
def test_another_minor_version_is_refused(version):
    with pytest.raises(RuntimeError, match=f"written for Snakemake 9.27.x, not {version}"):
        compat.check_version(version)


def test_pyproject_pins_the_same_series():
    text = (ROOT / "pyproject.toml").read_text()
    assert '"snakemake>=9.27,<9.28"' in text


def test_dag_needrun_jobs_still_takes_exclude_finished():
    parameters = inspect.signature(DAG.needrun_jobs).parameters
    assert "exclude_finished" in parameters


def test_dag_finished_jobs_is_still_a_property():
    assert isinstance(inspect.getattr_static(DAG, "finished_jobs"), property)


def test_the_scheduler_still_keeps_its_failed_jobs_in_a_set():
    source = inspect.getsource(JobScheduler.__init__)
    assert "self.failed = set()" in source


def test_workflow_still_has_a_private_cores_property_that_may_be_none():
    assert isinstance(inspect.getattr_static(Workflow, "_cores"), property)
    source = inspect.getsource(Workflow.cores.fget)
    assert "if self._cores is None" in source


def test_the_s3_provider_still_holds_a_boto3_resource():
    from snakemake_storage_plugin_s3 import StorageProvider

    assert "self.s3c = boto3.resource(" in inspect.getsource(StorageProvider)


def job(rule, stem):
    return SimpleNamespace(rule=SimpleNamespace(name=rule), wildcards=SimpleNamespace(stem=stem), is_group=lambda: False)


def test_jobs_of_looks_into_group_jobs():
    a, b, c = job("decode_source", "a"), job("resize_image", "a"), job("manifest", "")
    group = SimpleNamespace(is_group=lambda: True, jobs=[a, b])
    assert compat.jobs_of([group, c], "resize_image", "manifest") == [b, c]


def test_failed_jobs_of_a_workflow_without_a_scheduler_is_empty():
    assert compat.failed_jobs(SimpleNamespace()) == []


def test_the_scheduler_still_reevaluates_through_the_method_the_patch_replaces():
    """The patch replaces this method; if Snakemake renames it or changes what
    it does, the patch would silently stop applying: fail here instead."""
    source = inspect.getsource(JobScheduler._schedule_reevalutation)
    assert "threading.Timer(" in source and "self._open_jobs.release()" in source
    schedule = inspect.getsource(JobScheduler.schedule)
    assert schedule.count("self._schedule_reevalutation(") == 2


class FakeScheduler:
    def __init__(self):
        self._open_jobs = threading.Semaphore(0)


def test_one_reevaluation_timer_at_a_time_and_as_a_daemon(monkeypatch):
    original = JobScheduler._schedule_reevalutation
    monkeypatch.setattr(FakeScheduler, "_schedule_reevalutation", original, raising=False)
    compat.schedule_one_reevaluation_at_a_time(FakeScheduler)
    scheduler = FakeScheduler()
    scheduler._schedule_reevalutation(0.2)
    timer = scheduler._pending_reevaluation
    scheduler._schedule_reevalutation(0.2)
    assert scheduler._pending_reevaluation is timer  # no second timer
    assert timer.daemon  # a run never waits for it at exit
    assert scheduler._open_jobs.acquire(timeout=5)  # it wakes the scheduler once
    assert scheduler._pending_reevaluation is None  # so the pass can start the next
    assert not scheduler._open_jobs.acquire(timeout=0.3)
    scheduler._schedule_reevalutation(0.05)
    assert scheduler._open_jobs.acquire(timeout=5)


def test_applying_the_patch_twice_keeps_one():
    class Scheduler(FakeScheduler):
        _schedule_reevalutation = JobScheduler._schedule_reevalutation

    compat.schedule_one_reevaluation_at_a_time(Scheduler)
    patched = Scheduler._schedule_reevalutation
    compat.schedule_one_reevaluation_at_a_time(Scheduler)
    assert Scheduler._schedule_reevalutation is patched


@pytest.mark.parametrize(
    ("patch", "marker"),
    [
        ("one-reevaluation-timer.patch", "self._pending_reevaluation.daemon = True"),
        ("lazy-remaining-jobs.patch", "remaining_jobs = _LazyJobs(lambda: self.remaining_jobs)"),
    ],
)
def test_each_upstream_patch_applies_to_the_installed_snakemake(tmp_path, patch, marker):
    """docs/upstream/ holds patches ready to send: each applies to the
    Snakemake this workflow pins, and the patched scheduler imports."""
    import shutil
    import subprocess
    import sys

    package = Path(snakemake.__file__).parent
    shutil.copytree(package, tmp_path / "snakemake", ignore=shutil.ignore_patterns("__pycache__"))
    apply_upstream_patch(tmp_path, patch)
    patched = tmp_path / "snakemake" / "scheduling" / "job_scheduler.py"
    assert marker in patched.read_text()
    done = subprocess.run(
        [sys.executable, "-c", "import snakemake.api, snakemake.scheduling.job_scheduler as s; print(s.__file__)"],
        cwd=tmp_path, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(patched)


def test_the_scheduler_still_lists_remaining_jobs_in_a_property_it_passes_to_selectors():
    assert isinstance(JobScheduler.__dict__["remaining_jobs"], property)
    assert inspect.getsource(JobScheduler.job_selector).count("self.remaining_jobs") == 2


class Counting:
    """A compute function that counts its calls."""

    def __init__(self, items):
        self.items = items
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return list(self.items)


@pytest.mark.parametrize(
    ("read", "expected"),
    [
        (len, 3),
        (bool, True),
        (list, ["a", "b", "c"]),
        (lambda s: s[1], "b"),
        (lambda s: s[-1], "c"),
        (lambda s: s[:2], ["a", "b"]),
        (lambda s: "b" in s, True),
        (lambda s: "z" in s, False),
        (lambda s: s.index("c"), 2),
        (lambda s: list(reversed(s)), ["c", "b", "a"]),
    ],
)
def test_a_lazy_sequence_reads_like_its_list_and_is_computed_once(read, expected):
    compute = Counting("abc")
    sequence = compat.LazySequence(compute)
    assert compute.calls == 0
    assert read(sequence) == expected
    assert read(sequence) == expected
    assert compute.calls == 1


def test_remaining_jobs_are_listed_only_when_read():
    walked = []

    class Scheduler:
        @property
        def remaining_jobs(self):
            walked.append(1)
            return ["job"]

    compat.list_remaining_jobs_only_when_read(Scheduler)
    compat.list_remaining_jobs_only_when_read(Scheduler)  # applied once
    remaining = Scheduler().remaining_jobs
    assert walked == []
    assert list(remaining) == ["job"] and len(remaining) == 1
    assert walked == [1]



def test_the_items_change_snakemake_s_own_scheduler_class():
    assert compat.job_scheduler_class() is JobScheduler

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

from conftest import ROOT
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


def test_the_upstream_patch_applies_to_the_installed_snakemake(tmp_path):
    """docs/upstream/one-reevaluation-timer.patch is ready to send: it applies
    to the Snakemake this workflow pins, and the patched scheduler imports."""
    import shutil
    import subprocess
    import sys

    package = Path(snakemake.__file__).parent
    shutil.copytree(package, tmp_path / "snakemake", ignore=shutil.ignore_patterns("__pycache__"))
    patch = ROOT / "docs" / "upstream" / "one-reevaluation-timer.patch"
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "apply", str(patch)], cwd=tmp_path, check=True)
    patched = (tmp_path / "snakemake" / "scheduling" / "job_scheduler.py").read_text()
    assert "self._pending_reevaluation.daemon = True" in patched
    compile(patched, "job_scheduler.py", "exec")
    done = subprocess.run(
        [sys.executable, "-c", "import snakemake.api, snakemake.scheduling.job_scheduler as s; print(s.__file__)"],
        cwd=tmp_path, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(tmp_path / "snakemake" / "scheduling" / "job_scheduler.py")

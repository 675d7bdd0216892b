"""scripts/snakemake_compat.py: each reader still matches the installed Snakemake.

These fail as soon as a Snakemake release renames or reshapes what a reader
uses, before any run prints a wrong summary.
"""

from __future__ import annotations

import inspect
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

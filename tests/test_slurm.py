"""End to end on a real single-node SLURM cluster (tests/slurm_cluster.py):
profiles/slurm runs each partition of the sources as one cluster job, a
Snakemake run of its own on the node, and merges the web files locally.

Skipped, saying why, where the packages are missing or the tests cannot mount
(the daemons need root anyway); under CI a skip is a failure (tests/conftest.py).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from conftest import apply_upstream_patch, make_image
from scripts.plan import partition_of
from slurm_cluster import CLUSTER_OPTIONS, ClusterError, cluster_job_ids, missing_programs, running_cluster

#: The profile's partitions (profiles/slurm/config.yaml).
PROFILE_PARTITIONS = 16


@pytest.fixture(scope="module")
def slurm_cluster(tmp_path_factory):
    """The command prefix that sees a running single-node cluster."""
    missing = missing_programs()
    if missing:
        pytest.skip(f"SLURM is not installed ({', '.join(missing)} missing): apt-get install slurm-wlm munge")
    if os.geteuid() != 0:
        pytest.skip("the test cluster's daemons (munged, slurmctld, slurmd) need root")
    try:
        with running_cluster(tmp_path_factory.mktemp("slurm")) as launcher:
            yield launcher
    except ClusterError as error:
        pytest.skip(str(error)) if "cannot bind-mount" in str(error) else pytest.fail(str(error))


def test_partitioned_build_on_slurm_submits_one_job_per_partition(slurm_cluster, workflow):
    launcher = slurm_cluster
    stems = ("alpha", "gamma", "zeta", "theta")  # partitions 14, 0, 0, 14
    for index, stem in enumerate(stems):
        make_image(workflow.inputs / f"{stem}.jpg", (64 + 8 * index, 48))
    partitions = {partition_of(stem, PROFILE_PARTITIONS) for stem in stems}
    assert 1 < len(partitions) < len(stems), "the stems should share a partition and span several"
    workflow.set_config(widths=[32, 20], formats=["webp", "png"])
    before = cluster_job_ids(launcher)
    run = ("--workflow-profile", "profiles/slurm", *CLUSTER_OPTIONS, "--set-threads", "build_partition=2")
    done = workflow.run(*run, launcher=launcher)
    assert "--- Mode: CLUSTER (50 jobs at once) ---" in done.stderr
    assert f"Found 4 source(s) in 'input_images', in {PROFILE_PARTITIONS} partition(s)." in done.stderr
    assert f"Built {len(partitions)} partition(s): 16 target(s)." in done.stderr
    assert len(workflow.outputs()) == 16
    manifest = (workflow.results / "manifest.json").read_text()
    assert all(f'"{stem}"' in manifest for stem in stems)
    # One sbatch job per partition that has sources; the config and the merge ran locally.
    assert len(cluster_job_ids(launcher) - before) == len(partitions)
    logs = list((workflow.root / ".snakemake" / "slurm_logs").rglob("*.log"))
    assert sorted(log.relative_to(log.parents[2]).parts[:2] for log in logs) == sorted(
        ("rule_build_partition", str(partition)) for partition in partitions
    )

    again = workflow.run(*run, launcher=launcher)
    assert "Nothing to build: every partition is up to date." in again.stderr
    assert len(cluster_job_ids(launcher) - before) == len(partitions)


def test_the_jobstep_executor_still_drops_slurm_conf_and_the_upstream_patch_keeps_it(tmp_path):
    """Why the cluster is bound over /etc/slurm: the jobstep executor's srun
    calls lose $SLURM_CONF. When a release keeps it, this fails, and the test
    cluster can use $SLURM_CONF instead of a mount namespace."""
    import snakemake_executor_plugin_slurm_jobstep as jobstep

    package = Path(jobstep.__file__).parent
    assert '"SLURM_CONF"' not in Path(jobstep.__file__).read_text()
    shutil.copytree(package, tmp_path / package.name, ignore=shutil.ignore_patterns("__pycache__"))
    apply_upstream_patch(tmp_path, "jobstep-keep-slurm-conf.patch")
    assert '"SLURM_CONF",' in (tmp_path / package.name / "__init__.py").read_text()


def test_the_slurm_plugin_still_backs_off_by_10_s_and_the_upstream_patch_makes_it_a_setting(tmp_path):
    """Why a short cluster build waits: after each round of status checks with
    no finished job, the plugin waits 10 s longer (docs/scaling.md). When a
    release makes that a setting, this fails: use it in profiles/slurm."""
    import snakemake_executor_plugin_slurm as plugin

    package = Path(plugin.__file__).parent
    source = Path(plugin.__file__).read_text()
    assert "self.next_seconds_between_status_checks + 10," in source
    assert "status_check_backoff" not in source
    shutil.copytree(package, tmp_path / package.name, ignore=shutil.ignore_patterns("__pycache__"))
    apply_upstream_patch(tmp_path, "slurm-status-check-backoff.patch")
    patched = (tmp_path / package.name / "__init__.py").read_text()
    assert "status_check_backoff_seconds: Optional[int] = field(" in patched
    assert "self.next_seconds_between_status_checks + backoff," in patched

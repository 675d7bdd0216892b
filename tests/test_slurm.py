"""End to end on a real single-node SLURM cluster (tests/slurm_cluster.py):
profiles/slurm runs each partition of the sources as one cluster job (an
srun), a Snakemake run of its own on the node, and merges the web files
locally.

Skipped, saying why, where the packages are missing or the daemons cannot
run (they need root); under CI a skip is a failure (tests/conftest.py).
"""

from __future__ import annotations

import os
import re
import signal
import time

import pytest
from PIL import Image

from conftest import make_image
from scripts.imageops import calculate_new_height
from scripts.plan import partition_of
from slurm_cluster import ClusterError, cluster_job_ids, live_job_ids, missing_programs, running_cluster
from test_workflow_robustness import start_gated_run, wait_for

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
        pytest.fail(str(error))


def test_partitioned_build_on_slurm_submits_one_job_per_partition(slurm_cluster, workflow):
    launcher = slurm_cluster
    stems = ("alpha", "gamma", "zeta", "theta")  # partitions 14, 0, 0, 14
    for index, stem in enumerate(stems):
        make_image(workflow.inputs / f"{stem}.jpg", (64 + 8 * index, 48))
    partitions = {partition_of(stem, PROFILE_PARTITIONS) for stem in stems}
    assert 1 < len(partitions) < len(stems), "the stems should share a partition and span several"
    workflow.set_config(widths=[32, 20], formats=["webp", "png"])
    before = cluster_job_ids(launcher)
    run = ("--workflow-profile", "profiles/slurm", "--set-threads", "build_partition=2")
    done = workflow.run(*run, launcher=launcher)
    assert "--- Mode: CLUSTER (50 jobs at once) ---" in done.stderr
    assert f"Found 4 source(s) in 'input_images', in {PROFILE_PARTITIONS} partition(s)." in done.stderr
    assert f"Built {len(partitions)} partition(s): 16 target(s)." in done.stderr
    assert len(workflow.outputs()) == 16
    manifest = (workflow.results / "manifest.json").read_text()
    assert all(f'"{stem}"' in manifest for stem in stems)
    # One cluster job per partition that has sources; the config and the merge ran locally.
    jobs = cluster_job_ids(launcher) - before
    assert len(jobs) == len(partitions)
    # Each job's output on the node is in its log, named by its SLURM job id.
    logs = (workflow.root / ".snakemake" / "cluster_logs" / "build_partition").glob("*.log")
    assert {log.stem for log in logs} == jobs

    again = workflow.run(*run, launcher=launcher)
    assert "Nothing to build: every partition is up to date." in again.stderr
    assert len(cluster_job_ids(launcher) - before) == len(partitions)


def test_stopping_the_run_cancels_its_cluster_jobs_and_a_plain_rerun_completes(slurm_cluster, workflow, tmp_path):
    """A cluster job is an srun the run waits on: stopping the run (Ctrl-C's
    SIGINT, to Snakemake's process alone) cancels the job on the cluster, and
    kills the partition's run in it. Its write of one variant is held at a
    gate meanwhile (tests/test_workflow_robustness.py), so the job is
    surely running."""
    launcher = slurm_cluster
    for stem in ("alpha", "gamma"):  # both in partition 0 of 2
        make_image(workflow.inputs / f"{stem}.png", (96, 64))
    assert {partition_of(stem, 2) for stem in ("alpha", "gamma")} == {0}
    workflow.set_config(widths=[32, 20], formats=["png"])
    gate = tmp_path / "gate"
    gated = f"gamma_32x{calculate_new_height(96, 64, 32)}.png"
    run_args = ("--workflow-profile", "profiles/slurm", "--set-threads", "build_partition=2", "--config", "partitions=2")
    before = live_job_ids(launcher)
    run = start_gated_run(workflow, gate, gated, *run_args, launcher=launcher)
    try:
        wait_for(lambda: (gate / "entered").exists(), "write of the gated variant", run)
        assert len(live_job_ids(launcher) - before) == 1
        run.send_signal(signal.SIGINT)
        assert run.wait(timeout=60) != 0
        deadline = time.monotonic() + 30
        while live_job_ids(launcher) - before:
            assert time.monotonic() < deadline, "the stopped run's cluster job still runs, or its processes"
            time.sleep(0.1)
        assert "Stopping on Ctrl-C" in (gate / "output.log").read_text()

        # The gate stays shut: a writer still waiting at it would hold the partition's lock.
        done = workflow.run(*run_args, launcher=launcher)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
        (gate / "open").touch()  # lets a writer that outlived its job end, should this test fail
    assert re.search(r"Built 1 partition\(s\): [1-4] target\(s\)\.", done.stderr), done.stderr
    widths = [(w, calculate_new_height(96, 64, w)) for w in (32, 20)]
    names = sorted(f"{stem}_{w}x{h}.png" for w, h in widths for stem in ("alpha", "gamma"))
    assert sorted(workflow.outputs()) == names
    for name in names:
        with Image.open(workflow.results / name) as im:
            im.load()
    assert not list(workflow.root.rglob("*.part"))

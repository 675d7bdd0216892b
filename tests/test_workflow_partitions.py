"""End to end: a partitioned run (config `partitions`, rules/partitions.smk)
makes what a run of one DAG makes, and keeps Make semantics per partition.

With partitions=2, alpha and gamma are in partition 0 and beta in partition 1
(scripts/plan.py, partition_of; test_plan.py checks these).
"""

import filecmp
import math
import json

import pytest

from conftest import Workflow, changed, make_image, planned_resources

PARTITIONED = ("--config", "partitions=2")


def add_sources(workflow):
    make_image(workflow.inputs / "alpha.jpg", (64, 48))
    make_image(workflow.inputs / "gamma.jpg", (40, 56), color=(20, 160, 40))
    make_image(workflow.inputs / "beta.png", (30, 60), mode="RGBA", color=(0, 90, 200, 128))


@pytest.fixture
def built(workflow):
    """Three sources in two partitions, built once by a partitioned run."""
    add_sources(workflow)
    done = workflow.run(*PARTITIONED)
    assert "Found 3 source(s) in 'input_images', in 2 partition(s)." in done.stderr
    assert "-> 2 partition(s) to build." in done.stderr
    return workflow


def partition_log(workflow, partition):
    return (workflow.build / "logs" / "build_partition" / f"{partition}.log").read_text()


def test_a_partitioned_run_makes_the_same_files_as_one_dag(built, tmp_path):
    single = Workflow(tmp_path / "single")
    add_sources(single)
    single.run()
    assert set(built.outputs()) == set(single.outputs())
    for name in [*built.outputs(), "manifest.json", "index.html", "html/alpha.html", "html/beta.html"]:
        assert filecmp.cmp(built.results / name, single.results / name, shallow=False), name
    assert (built.build / "report.csv").read_text() == (single.build / "report.csv").read_text()


def test_a_second_partitioned_run_runs_no_partition(built):
    before = built.outputs()
    done = built.run(*PARTITIONED)
    assert "-> 0 partition(s) to build." in done.stderr
    assert "Nothing to build: every partition is up to date." in done.stderr
    assert changed(before, built.outputs()) == set()


def test_a_changed_source_reruns_only_its_partition(built):
    before = built.outputs()
    manifest_before = json.loads((built.results / "manifest.json").read_text())["sources"]
    other_log = partition_log(built, 1)
    make_image(built.inputs / "alpha.jpg", (64, 48), color=(10, 10, 250))
    done = built.run(*PARTITIONED)
    assert "-> 1 partition(s) to build." in done.stderr
    assert {name.split("_")[0] for name in changed(before, built.outputs())} == {"alpha"}
    assert partition_log(built, 1) == other_log
    manifest = json.loads((built.results / "manifest.json").read_text())["sources"]
    assert manifest["alpha"]["sha256"] != manifest_before["alpha"]["sha256"]
    assert manifest["beta"] == manifest_before["beta"]


def test_an_added_width_builds_only_that_width_in_every_partition(built):
    before = built.outputs()
    built.set_config(widths=[*built.config["widths"], 12])
    done = built.run(*PARTITIONED)
    assert "-> 2 partition(s) to build." in done.stderr
    new = changed(before, built.outputs())
    assert new == {f"{stem}_12x{h}.{fmt}" for stem, h in (("alpha", 9), ("gamma", 17), ("beta", 24)) for fmt in ("png", "webp")}
    assert "Built 2 partition(s): 6 target(s)." in done.stderr


def test_an_added_source_runs_only_its_partition(built):
    before = built.outputs()
    make_image(built.inputs / "delta.jpg", (50, 50))  # partition 1
    done = built.run(*PARTITIONED)
    assert "-> 1 partition(s) to build." in done.stderr
    assert {name.split("_")[0] for name in changed(before, built.outputs())} == {"delta"}
    assert '"delta"' in (built.results / "manifest.json").read_text()


def test_a_deleted_variant_is_restored(built):
    (built.results / "gamma_20x28.webp").unlink()
    (built.results / "html" / "beta.html").unlink()
    done = built.run(*PARTITIONED)
    assert "-> 2 partition(s) to build." in done.stderr
    assert (built.results / "gamma_20x28.webp").exists()
    assert (built.results / "html" / "beta.html").exists()


def test_a_removed_source_leaves_orphans_that_remove_orphans_deletes(built):
    (built.inputs / "gamma.jpg").unlink()
    done = built.run(*PARTITIONED)
    assert "-> 1 partition(s) to build." in done.stderr
    assert "6 orphaned output(s)" in done.stderr
    assert '"gamma"' not in (built.results / "manifest.json").read_text()
    built.run("remove_orphans", *PARTITIONED)
    assert not [name for name in built.outputs() if name.startswith("gamma_")]
    assert "orphaned" not in built.run(*PARTITIONED).stderr


def test_a_bad_source_fails_its_partition_and_names_itself(built):
    (built.inputs / "zeta.jpg").write_bytes(b"not an image")  # partition 0
    manifest = (built.results / "manifest.json").read_bytes()
    done = built.run(*PARTITIONED, check=False)
    assert done.returncode != 0
    assert "FAILED: partition 0 (log: build/logs/build_partition/0.log)" in done.stderr
    assert "   ERROR input_images/zeta.jpg: cannot identify image file" in done.stderr
    assert "Web files not updated: they wait on the failed partition(s)." in done.stderr
    assert (built.results / "manifest.json").read_bytes() == manifest


def test_a_partition_beyond_the_partitions_is_refused(workflow):
    done = workflow.run("--config", "partitions=2", "partition=2", check=False)
    assert done.returncode != 0
    assert "--config: invalid value for 'partition': 2 is not below partitions (2)" in done.stderr


def test_partitions_need_a_local_input_folder(workflow):
    workflow.set_config(sources=["http://127.0.0.1:9/a.jpg"])
    done = workflow.run(*PARTITIONED, check=False)
    assert done.returncode != 0
    assert "--config: invalid value for 'partitions': partitions need a local input folder, not URL sources" in done.stderr


def test_a_partitioned_dry_run_lists_the_partitions_and_writes_nothing(workflow):
    add_sources(workflow)
    done = workflow.run("-n", *PARTITIONED)
    assert "-> 2 partition(s) would build." in done.stderr
    assert not workflow.results.exists()


def test_a_partition_without_partitions_is_refused(workflow):
    done = workflow.run("--config", "partition=0", check=False)
    assert done.returncode != 0
    assert "--config: invalid value for 'partition': 0 is not below partitions (0)" in done.stderr


def test_each_partition_job_declares_memory_and_minutes_from_its_sources(workflow):
    # 500 MB, 0.6 MB a source and 12 MB a megapixel of the largest source for
    # each of the job's 2 threads; 10 minutes and one CPU-second a target over
    # its threads (rules/functions/partitions.smk).
    make_image(workflow.inputs / "alpha.png", (4000, 3000))  # partition 0, 12 megapixels
    make_image(workflow.inputs / "beta.png", (30, 60))  # partition 1
    planned = planned_resources(workflow.run("-n", "--logger-brief-jobs", *PARTITIONED).stdout)
    first, second = planned["build_partition", "build/partitions/0.json"], planned["build_partition", "build/partitions/1.json"]
    assert (first["mem_mb"], first["runtime"]) == (str(math.ceil(500 + 0.6 + 12 * 12 * 2)), "11")
    assert (second["mem_mb"], second["runtime"]) == (str(math.ceil(500 + 0.6 + 12 * 0.0018 * 2)), "11")

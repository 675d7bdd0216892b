"""End-to-end: config validation, the plan, the run summary, lint and format."""

import re
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, make_image


@pytest.mark.parametrize(
    ("change", "key", "cause"),
    [
        ({"widths": [100, -5]}, "widths.1", "less than the minimum of 1"),
        ({"widths": [100, 100]}, "widths", "non-unique"),
        ({"widths": "100"}, "widths", "is not of type 'array'"),
        ({"formats": ["png", "gif"]}, "formats.1", "'gif' is not one of"),
        ({"allow_upscale": "yes"}, "allow_upscale", "is not of type 'boolean'"),
        ({"encoders": {"webp": {"quality": 101}}}, "encoders.webp.quality", "greater than the maximum"),
        ({"encoders": {"png": {"speed": 3}}}, "encoders.png", "Additional properties"),
        ({"widthz": [10]}, "(top level)", "Additional properties"),
    ],
)
def test_bad_config_stops_before_any_job_naming_the_key(workflow, change, key, cause):
    make_image(workflow.inputs / "alpha.jpg")
    workflow.set_config(**change)
    done = workflow.run(check=False)
    assert done.returncode != 0
    message = done.stdout + done.stderr
    assert f"config.yaml: invalid value for '{key}'" in message
    assert cause in message
    assert not workflow.results.exists()


def test_dry_run_prints_the_plan_and_builds_nothing(workflow):
    make_image(workflow.inputs / "alpha.jpg", (64, 48))
    make_image(workflow.inputs / "beta.png", (30, 60))
    done = workflow.run("-n")
    out = done.stdout + done.stderr
    assert "results/alpha_40x30.webp" in out
    assert "Found 2 source(s) in 'input_images'." in out
    assert "-> 2 source(s) to process, 12 target(s) would build." in out
    assert not workflow.results.exists()


def test_run_summary_at_start_and_end(workflow):
    make_image(workflow.inputs / "alpha.jpg", (64, 48))
    (workflow.inputs / "README.txt").write_text("not an image: ignored")
    first = workflow.run("--cores", "1")
    assert "--- Mode: SEQUENTIAL (1 core) ---" in first.stderr
    assert "Found 1 source(s) in 'input_images'." in first.stderr
    assert "-> 1 source(s) to process, 6 target(s) to build." in first.stderr
    assert "Built 6 target(s)." in first.stderr
    assert "Done in" in first.stderr

    second = workflow.run()
    assert "--- Mode: PARALLEL (2 cores) ---" in second.stderr
    assert "-> 0 source(s) to process, 0 target(s) to build." in second.stderr
    assert "Nothing to build: every target is up to date." in second.stderr


def test_every_job_writes_a_log(workflow):
    make_image(workflow.inputs / "alpha.jpg", (64, 48))
    workflow.run()
    logs = workflow.results / "logs"
    decoded, decode_usage = (logs / "decode_source" / "alpha.log").read_text().splitlines()
    assert decoded.endswith("64x48 RGB")
    wrote, resize_usage = (logs / "resize_image" / "alpha_40x30.png.log").read_text().splitlines()
    assert "wrote results/alpha_40x30.png 40x30 png" in wrote
    for usage in (decode_usage, resize_usage):
        found = re.search(r" INFO usage s=\S+ cpu_time=(\S+) max_rss=(\S+)$", usage)
        assert found, usage
        assert float(found[1]) >= 0
        assert float(found[2]) > 10  # the worker's (or the job's) process: Python and Pillow


def test_benchmark_files_keep_the_wall_time_and_no_client_samples(workflow):
    """With the job server, the job's processes are its bash client, whose
    samples would pass for the job's: the benchmark files leave them out (NA),
    without a warning, and the job's own use is in its log (above)."""
    make_image(workflow.inputs / "alpha.jpg", (64, 48))
    done = workflow.run()
    header, values = (workflow.results / "benchmarks" / "resize_image" / "alpha_40x30.png.tsv").read_text().splitlines()
    record = dict(zip(header.split("\t"), values.split("\t")))
    assert float(record["s"]) >= 0  # the job's wall time (a tiny job's rounds to 0.00)
    assert record["h:m:s"].count(":") == 2
    assert record["max_rss"] == record["cpu_time"] == "NA"
    assert "Benchmark" not in done.stdout + done.stderr


def test_lint_reports_nothing():
    done = subprocess.run(
        [sys.executable, "-m", "snakemake", "--lint"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Lints for" not in done.stdout + done.stderr


@pytest.mark.skipif(shutil.which("snakefmt") is None, reason="snakefmt is not installed")
def test_snakefiles_are_formatted():
    done = subprocess.run(
        ["snakefmt", "--check", "Snakefile", "rules"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr

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
    assert re.search(r"^resize_image +12$", out, re.MULTILINE)  # the job table
    assert "results/alpha_40x30.webp" not in out  # no job blocks...
    jobs = workflow.run("-n", "--logger-brief-jobs")
    assert "results/alpha_40x30.webp" in jobs.stdout  # ...unless asked for
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
    logs = workflow.build / "logs"
    decoded, decode_usage = (logs / "decode_source" / "alpha.log").read_text().splitlines()
    assert decoded.endswith("64x48 RGB")
    wrote, resize_usage = (logs / "resize_image" / "alpha_40x30.png.log").read_text().splitlines()
    assert "wrote results/alpha_40x30.png 40x30 png" in wrote
    usage = re.compile(r" INFO usage s=(\d+\.\d+) cpu_time=(\d+\.\d+) max_rss=(\S+)$")
    decode, resize = usage.search(decode_usage), usage.search(resize_usage)
    assert decode and resize, (decode_usage, resize_usage)
    assert float(decode[3]) > 10  # the decode's own process: Python and Pillow
    assert resize[3] == "NA"  # a thread of Snakemake's process, whose peak is every job's


def test_a_decode_is_benchmarked(workflow):
    """The decode runs in the process Snakemake starts (its log's peak memory,
    above, is that process's), so Snakemake's benchmark of the job is the work's."""
    make_image(workflow.inputs / "alpha.jpg", (64, 48))
    workflow.run()
    header, values = (workflow.build / "benchmarks" / "decode_source" / "alpha.tsv").read_text().splitlines()
    record = dict(zip(header.split("\t"), values.split("\t")))
    assert float(record["s"]) > 0
    assert {"max_rss", "cpu_time", "io_in"} <= set(record)


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


def test_config_on_the_command_line_takes_numbers_and_booleans(workflow):
    make_image(workflow.inputs / "photo.jpg", (64, 48))
    done = workflow.run(
        "-n", "--logger-brief-jobs", "--config", "widths=[80, 20]", "allow_upscale=true", "formats=[webp]"
    )
    planned = done.stdout + done.stderr
    assert "results/photo_80x60.webp" in planned and "results/photo_20x15.webp" in planned
    assert not workflow.results.exists()


def test_a_bad_command_line_value_is_blamed_on_the_command_line(workflow):
    make_image(workflow.inputs / "photo.jpg", (64, 48))
    done = workflow.run("--config", "widths=[40, -5]", check=False)
    assert done.returncode != 0
    lines = (done.stdout + done.stderr).splitlines()
    assert "ERROR --config: invalid value for 'widths.1': -5 is less than the minimum of 1" in lines

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


@pytest.mark.parametrize(
    ("site_file", "key"),
    [
        ("widths: [40, -5]\n", "widths.1"),
        ("encoders:\n  webp:\n    quality: 500\n", "encoders.webp.quality"),
    ],
)
def test_a_bad_value_in_a_configfile_is_blamed_on_that_file(workflow, site_file, key):
    make_image(workflow.inputs / "photo.jpg", (64, 48))
    (workflow.root / "site.yaml").write_text(site_file)
    done = workflow.run("-n", "--configfile", "site.yaml", check=False)
    assert done.returncode != 0
    lines = (done.stdout + done.stderr).splitlines()
    assert [line for line in lines if line.startswith("ERROR ")] == [
        next(line for line in lines if line.startswith(f"ERROR site.yaml: invalid value for '{key}': "))
    ]


def test_a_bad_value_of_config_yaml_is_not_blamed_on_a_configfile_beside_it(workflow):
    workflow.set_config(widths=[40, -5])
    (workflow.root / "site.yaml").write_text("encoders:\n  webp:\n    quality: 70\n")
    done = workflow.run("-n", "--configfile", "site.yaml", check=False)
    assert "ERROR config.yaml: invalid value for 'widths.1': -5 is less than the minimum of 1" in (
        done.stdout + done.stderr
    ).splitlines()


def test_the_web_preset_makes_avif_webp_and_jpeg(workflow):
    make_image(workflow.inputs / "photo.jpg", (64, 48))
    done = workflow.run("-n", "--logger-brief-jobs", "--configfile", "presets/web.yaml")
    formats = set(re.findall(r"results/photo_\d+x\d+\.(\w+)", done.stdout + done.stderr))
    assert formats == {"avif", "webp", "jpeg"}

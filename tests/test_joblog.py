"""scripts/joblog.py: one job's log lines, and what the job used."""

from __future__ import annotations

import re
import sys

import pytest

from scripts import joblog

USAGE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d INFO usage s=(\d+\.\d{4}) cpu_time=(\d+\.\d\d) max_rss=(\d+\.\d\d)$")


def test_peak_memory_mb_reads_vmhwm():
    status = "Name:\tpython\nVmPeak:\t  900000 kB\nVmHWM:\t  131072 kB\nVmRSS:\t   65536 kB\n"
    assert joblog.peak_memory_mb(status) == 128.0


def test_peak_memory_mb_is_none_without_vmhwm():
    assert joblog.peak_memory_mb("Name:\tpython\nVmRSS:\t65536 kB\n") is None


@pytest.mark.parametrize(
    ("peak", "expected"),
    [
        (127.254, "INFO usage s=0.4412 cpu_time=0.41 max_rss=127.25"),
        (None, "INFO usage s=0.4412 cpu_time=0.41 max_rss=NA"),
    ],
)
def test_usage_line(peak, expected):
    assert joblog.usage_line(0.44123, 0.414, peak) == expected


def test_run_job_logs_what_it_did_then_its_usage(tmp_path):
    log = tmp_path / "logs" / "job.log"
    assert joblog.run_job(lambda: sum(range(200_000)) and "did it", log, "input.jpg") == 0
    did, usage = log.read_text().splitlines()
    assert did.endswith(" INFO did it")
    found = USAGE.match(usage)
    assert found, usage
    wall, cpu, peak = map(float, found.groups())
    assert wall >= 0 and cpu >= 0 and peak > 1  # a Python process holds more than 1 MB


def test_run_job_logs_usage_after_a_bad_input(tmp_path, capsys):
    log = tmp_path / "job.log"

    def fail() -> str:
        msg = "cannot identify image file"
        raise ValueError(msg)

    assert joblog.run_job(fail, log, "input_images/bad.jpg") == 1
    error, usage = log.read_text().splitlines()
    assert error.endswith(" ERROR input_images/bad.jpg: cannot identify image file")
    assert USAGE.match(usage), usage
    assert capsys.readouterr().err == "ERROR input_images/bad.jpg: cannot identify image file\n"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="peak memory is read from /proc")
def test_run_job_reports_this_jobs_peak_not_an_earlier_jobs(tmp_path):
    """In a job server worker, one process runs job after job."""

    def allocate(mb: int):
        def action() -> str:
            block = bytearray(mb << 20)
            block[:: 1 << 12] = b"\1" * len(block[:: 1 << 12])  # touch every page
            return f"held {len(block)} bytes"

        return action

    big, small = tmp_path / "big.log", tmp_path / "small.log"
    joblog.run_job(allocate(300), big, "big")
    joblog.run_job(allocate(1), small, "small")
    peak = {log: float(USAGE.match(log.read_text().splitlines()[1]).group(3)) for log in (big, small)}
    assert peak[big] - peak[small] > 250

"""scripts/joblog.py: one job's log lines, and what the job used."""

from __future__ import annotations

import re
import threading
import time

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

    def job() -> str:
        time.sleep(0.2)  # wall time without CPU time
        sum(range(2_000_000))
        return "did it"

    started, cpu_started = time.monotonic(), time.process_time()
    assert joblog.run_job(job, log, "input.jpg") == 0
    elapsed, cpu_used = time.monotonic() - started, time.process_time() - cpu_started
    did, usage = log.read_text().splitlines()
    assert did.endswith(" INFO did it")
    found = USAGE.match(usage)
    assert found, usage
    wall, cpu, peak = map(float, found.groups())
    assert 0.2 <= wall <= elapsed + 0.001
    assert 0 < cpu <= cpu_used + 0.01 and cpu < wall - 0.15
    assert peak > 1  # a Python process holds more than 1 MB


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


def test_run_job_in_a_thread_counts_the_thread_s_cpu_and_no_shared_peak(tmp_path):
    """A run: job is a thread of Snakemake's process: its CPU time is its own
    thread's, not the busy thread's beside it, and the process's peak memory,
    shared by every job, is not given as the job's."""
    log = tmp_path / "job.log"
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            sum(range(1000))

    busy = threading.Thread(target=spin)
    busy.start()
    try:
        worker = threading.Thread(target=joblog.run_job, args=(lambda: time.sleep(0.3) or "slept", log, "x"))
        worker.start()
        worker.join()
    finally:
        stop.set()
        busy.join()
    found = re.search(r" INFO usage s=(\S+) cpu_time=(\S+) max_rss=(\S+)$", log.read_text().splitlines()[1])
    assert found[3] == "NA"
    assert float(found[1]) >= 0.3
    assert float(found[2]) < 0.1  # the spinning thread took ~0.3 s of CPU meanwhile


def test_run_in_thread_raises_after_a_bad_input(tmp_path, capsys):
    def fail() -> str:
        msg = "broken"
        raise OSError(msg)

    with pytest.raises(joblog.JobFailed, match="bad.jpg: failed"):
        joblog.run_in_thread(fail, tmp_path / "job.log", "bad.jpg")
    assert capsys.readouterr().err == "ERROR bad.jpg: broken\n"

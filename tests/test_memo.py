"""scripts/memo.py: values computed once among threads, and never for other bytes."""

from __future__ import annotations

import os
import threading
import time

import pytest

from scripts.memo import SharedResults, file_identity


def test_threads_asking_at_once_compute_a_value_once():
    calls = []

    def slow_square(n):
        calls.append(n)
        time.sleep(0.2)
        return n * n

    results = SharedResults(slow_square, size=4)
    found = []
    threads = [threading.Thread(target=lambda: found.append(results.get(7))) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert found == [49] * 5
    assert calls == [7]
    assert (results.hits, results.misses) == (4, 1)


def test_the_least_recently_used_value_goes_first():
    calls = []
    results = SharedResults(lambda n: calls.append(n) or n, size=2)
    for n in (1, 2, 1, 3, 1, 2):
        results.get(n)
    assert calls == [1, 2, 3, 2]


def test_a_failure_is_not_kept():
    attempts = []

    def flaky(n):
        attempts.append(n)
        if len(attempts) == 1:
            msg = "first try fails"
            raise OSError(msg)
        return n

    results = SharedResults(flaky, size=2)
    with pytest.raises(OSError, match="first try fails"):
        results.get(5)
    assert results.get(5) == 5
    assert attempts == [5, 5]


def test_a_file_replaced_by_a_rename_has_another_identity(tmp_path):
    path = tmp_path / "L0.raster"
    path.write_bytes(b"old")
    before = file_identity(path)
    replacement = tmp_path / ".L0.raster.part"
    replacement.write_bytes(b"new")
    os.replace(replacement, path)
    assert file_identity(path) != before
    assert file_identity(path) == file_identity(path)


def test_size_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        SharedResults(lambda: None, size=0)

"""Memoisation shared by the jobs that run in threads of one process.

A resize job reads one level of its source's pyramid and resamples it; the
jobs of the other formats of that width read and resample the same pixels.
:class:`SharedResults` lets them compute each value once: the first thread
to ask computes it while the others wait for it, and the last ``size``
values are kept. A key names a file by its identity (device, inode,
modification time, size), and the pyramid's files are replaced by an atomic
rename, never rewritten in place, so a kept value can never stand for other
bytes than those the job would read: the memo cannot change an output.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Generic, TypeVar

Value = TypeVar("Value")


def file_identity(path: Path) -> tuple[str, int, int, int, int]:
    """What tells one version of a file from any other: its path, device,
    inode, modification time and size."""
    stat = os.stat(path)
    return str(path), stat.st_dev, stat.st_ino, stat.st_mtime_ns, stat.st_size


class SharedResults(Generic[Value]):
    """``compute(*key)`` once per key among threads; the last ``size`` results kept."""

    def __init__(self, compute: Callable[..., Value], size: int):
        if size < 1:
            msg = f"size must be at least 1, got {size}"
            raise ValueError(msg)
        self._compute = compute
        self._size = size
        self._lock = threading.Lock()
        self._values: OrderedDict[Hashable, Value] = OrderedDict()
        self._computing: dict[Hashable, threading.Lock] = {}
        self.hits = self.misses = 0

    def _kept(self, key: Hashable) -> tuple[bool, Value | None]:
        """Under the lock: the kept value of ``key``, marked as recently used."""
        if key in self._values:
            self._values.move_to_end(key)
            self.hits += 1
            return True, self._values[key]
        return False, None

    def get(self, *key: Hashable) -> Value:
        with self._lock:
            found, value = self._kept(key)
            if found:
                return value
            computing = self._computing.setdefault(key, threading.Lock())
        with computing:
            with self._lock:
                found, value = self._kept(key)
                if found:
                    return value
                self.misses += 1
            try:
                value = self._compute(*key)
                with self._lock:
                    self._values[key] = value
                    while len(self._values) > self._size:
                        self._values.popitem(last=False)
            finally:
                with self._lock:
                    self._computing.pop(key, None)
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self.hits = self.misses = 0

#!/usr/bin/env python3
"""Where a run's CPU goes: Snakemake's own process, its direct children, the rest.

    uv run python benchmarks/cpu_split.py COMMAND [ARGS...]

Runs COMMAND (for example `python -m snakemake --cores 2 --quiet all`) and
prints its wall time and three CPU figures:

- main: the command's own process (for Snakemake: parsing, DAG, scheduler and
  bookkeeping, and the resize and web jobs, which are its threads), read from
  /proc while it runs;
- children: the processes it waited for (each decode's and download's bash
  and Python);
- machine: all busy CPU on the machine, from /proc/stat. The rest of it is the
  work of anything else on the machine.

The machine figure counts anything else running at the same time: use it on an
otherwise idle machine.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU time the whole machine has spent busy, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    user, nice, system, idle, iowait, irq, softirq = fields
    return (user + nice + system + irq + softirq) / TICKS


def own_cpu_seconds(pid: int) -> float | None:
    """User + system CPU of one live process, or None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS


def main() -> int:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    busy, start = machine_busy_seconds(), time.perf_counter()
    process = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
    main_cpu = 0.0
    while process.poll() is None:
        main_cpu = own_cpu_seconds(process.pid) or main_cpu
        time.sleep(0.05)
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    waited = usage.ru_utime + usage.ru_stime  # the command and what it waited for
    print(
        f"exit {process.returncode}: wall {wall:.1f} s; CPU main {main_cpu:.1f} s, "
        f"children {waited - main_cpu:.1f} s, machine {machine_busy_seconds() - busy:.1f} s"
    )
    return process.returncode


if __name__ == "__main__":
    sys.exit(main())

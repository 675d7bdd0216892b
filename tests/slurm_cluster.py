"""A real single-node SLURM cluster for the tests and benchmarks/slurm.py,
from Debian's slurm-wlm and munge packages (.ci/run installs them).

SLURM's configuration, state and logs live in a folder of the caller's. Every
daemon and client finds the configuration through $SLURM_CONF, which the
command prefix the cluster yields sets: the host's /etc is never written,
and a real cluster's configuration is never seen.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd", "srun", "squeue", "sinfo")


def free_port() -> int:
    """A port no one listens on now; slurmctld and slurmd bind theirs by number
    from slurm.conf, so it must be picked before they start."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cluster_conf(folder: Path, munge_socket: Path) -> str:
    """slurm.conf of a one-node cluster. proctrack/pgid: a cancelled job's
    processes are found by their process group, so a process whose parent
    died first (a partition's run, under the bash of its job) is killed with
    the rest; proctrack/linuxproc follows parents and lost it. KillWait=2: the
    seconds from SIGTERM to SIGKILL, which a cancelled job's Snakemake, waiting
    on its running jobs, takes whole."""
    host = socket.gethostname().split(".")[0]
    mem_mb = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2**20 - 1024
    return f"""ClusterName=test
SlurmctldHost={host}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={munge_socket}
ProctrackType=proctrack/pgid
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
MinJobAge=600
KillWait=2
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
StateSaveLocation={folder}/state
SlurmdSpoolDir={folder}/spool
SlurmctldPidFile={folder}/slurmctld.pid
SlurmdPidFile={folder}/slurmd.pid
SlurmctldLogFile={folder}/slurmctld.log
SlurmdLogFile={folder}/slurmd.log
NodeName={host} CPUs={os.cpu_count()} RealMemory={mem_mb} State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""



def missing_programs() -> list[str]:
    """The programs a test cluster needs that are not installed."""
    return [name for name in DAEMONS if shutil.which(name) is None]


class ClusterError(RuntimeError):
    """The test cluster could not start."""


@contextmanager
def running_cluster(folder: Path) -> Iterator[list[str]]:
    """Start a cluster whose files live in ``folder``; yield the command prefix
    that sees it (its $SLURM_CONF); stop it on exit."""
    for sub in ("state", "spool", "munge", "etc"):
        (folder / sub).mkdir()
    launcher = ["env", f"SLURM_CONF={folder / 'etc' / 'slurm.conf'}"]
    key = folder / "munge" / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o400)
    munge_socket = folder / "munge" / "munge.socket"
    (folder / "etc" / "slurm.conf").write_text(cluster_conf(folder, munge_socket))
    daemons: list[subprocess.Popen] = []
    try:
        subprocess.run(
            ["munged", "--force", f"--key-file={key}", f"--socket={munge_socket}",
             f"--pid-file={folder}/munge/munged.pid", f"--log-file={folder}/munge/munged.log",
             f"--seed-file={folder}/munge/seed"],
            check=True,
        )
        for daemon in ("slurmctld", "slurmd"):
            daemons.append(
                subprocess.Popen([*launcher, daemon, "-D"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            )
        wait_until_idle(launcher, daemons, folder)
        yield launcher
    finally:
        for daemon in daemons:
            daemon.terminate()
        for daemon in daemons:
            daemon.wait(timeout=30)
        pid_file = folder / "munge" / "munged.pid"
        if pid_file.exists():
            subprocess.run(["kill", pid_file.read_text().strip()], check=False)


def wait_until_idle(launcher: list[str], daemons: list[subprocess.Popen], folder: Path) -> None:
    """Poll sinfo until the node is idle (SLURM offers no event to wait on)."""
    deadline = time.monotonic() + 60
    while True:
        done = subprocess.run([*launcher, "sinfo", "-h", "-o", "%T"], capture_output=True, text=True)
        if done.stdout.strip() == "idle":
            return
        if time.monotonic() > deadline or any(d.poll() is not None for d in daemons):
            logs = "\n".join((folder / n).read_text()[-1500:] for n in ("slurmctld.log", "slurmd.log") if (folder / n).exists())
            raise ClusterError(f"the test SLURM cluster did not come up ({done.stdout.strip()!r} {done.stderr.strip()}):\n{logs}")
        time.sleep(0.5)


def cluster_job_ids(launcher: list[str], states: str = "all") -> set[str]:
    """The jobs SLURM lists in ``states`` (squeue's --states); by default
    every one, finished ones included (MinJobAge keeps them)."""
    out = subprocess.run([*launcher, "squeue", "-h", f"--states={states}", "-o", "%i"], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def live_job_ids(launcher: list[str]) -> set[str]:
    """The jobs SLURM lists as running, or as completing: a cancelled job
    completes when its processes are gone (KillWait after SIGTERM at most)."""
    return cluster_job_ids(launcher, "running,completing")

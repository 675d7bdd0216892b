"""End to end on a real single-node SLURM cluster, started here from Debian's
slurm-wlm and munge packages (.ci/run installs them): profiles/slurm submits
each group of decode and resize jobs with sbatch, and the web jobs run locally.

Skipped, saying why, where the packages are missing, the tests do not run as
root (the daemons need it), or /etc/slurm/slurm.conf belongs to a real cluster.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from conftest import make_image

DAEMONS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo")
#: Where SLURM's clients look for their configuration. The jobs' own srun calls
#: drop $SLURM_CONF, so the test cluster's configuration must be here.
SYSTEM_CONF = Path("/etc/slurm/slurm.conf")
MARKER = "# test cluster of tests/test_slurm.py"
#: The executor's settings for a quick local cluster: squeue for job states
#: (there is no accounting database), a first status check after 1 s, and the
#: logs of successful jobs kept (the test reads them).
CLUSTER_OPTIONS = (
    "--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "1",
    "--slurm-keep-successful-logs",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cluster_conf(folder: Path, munge_socket: Path) -> str:
    host = socket.gethostname().split(".")[0]
    mem_mb = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2**20 - 1024
    return f"""{MARKER}
ClusterName=test
SlurmctldHost={host}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={munge_socket}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
MinJobAge=600
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


@pytest.fixture(scope="module")
def slurm_cluster(tmp_path_factory):
    missing = [name for name in DAEMONS if shutil.which(name) is None]
    if missing:
        pytest.skip(f"SLURM is not installed ({', '.join(missing)} missing): apt-get install slurm-wlm munge")
    if os.geteuid() != 0:
        pytest.skip("the test cluster's daemons (munged, slurmctld, slurmd) need root")
    if SYSTEM_CONF.exists() and MARKER not in SYSTEM_CONF.read_text():
        pytest.skip(f"{SYSTEM_CONF} belongs to a real cluster; not replacing it")
    folder = tmp_path_factory.mktemp("slurm")
    for sub in ("state", "spool", "munge"):
        (folder / sub).mkdir()
    key = folder / "munge" / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o400)
    munge_socket = folder / "munge" / "munge.socket"
    subprocess.run(
        ["munged", "--force", f"--key-file={key}", f"--socket={munge_socket}",
         f"--pid-file={folder}/munge/munged.pid", f"--log-file={folder}/munge/munged.log",
         f"--seed-file={folder}/munge/seed"],
        check=True,
    )
    SYSTEM_CONF.parent.mkdir(parents=True, exist_ok=True)
    SYSTEM_CONF.write_text(cluster_conf(folder, munge_socket))
    daemons = [
        subprocess.Popen([daemon, "-D"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for daemon in ("slurmctld", "slurmd")
    ]
    try:
        deadline = time.monotonic() + 60
        while True:
            state = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True).stdout.strip()
            if state == "idle":
                break
            if time.monotonic() > deadline or any(d.poll() is not None for d in daemons):
                logs = "\n".join((folder / n).read_text()[-1500:] for n in ("slurmctld.log", "slurmd.log") if (folder / n).exists())
                pytest.fail(f"the test SLURM cluster did not come up (state {state!r}):\n{logs}")
            time.sleep(0.5)
        yield folder
    finally:
        for daemon in daemons:
            daemon.terminate()
        for daemon in daemons:
            daemon.wait(timeout=30)
        pid_file = folder / "munge" / "munged.pid"
        if pid_file.exists():
            subprocess.run(["kill", pid_file.read_text().strip()], check=False)
        SYSTEM_CONF.unlink(missing_ok=True)


def cluster_job_ids() -> set[str]:
    """Every job SLURM still lists, finished ones included (MinJobAge keeps them)."""
    out = subprocess.run(["squeue", "-h", "--states=all", "-o", "%i"], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_build_on_slurm_groups_targets_into_cluster_jobs(slurm_cluster, workflow):
    for stem, size in (("alpha", (64, 48)), ("beta", (48, 64)), ("gamma", (40, 40))):
        make_image(workflow.inputs / f"{stem}.jpg", size)
    before = cluster_job_ids()
    done = workflow.run("--workflow-profile", "profiles/slurm", *CLUSTER_OPTIONS)
    assert "--- Mode: CLUSTER (50 jobs at once) ---" in done.stderr
    assert len(workflow.outputs()) == 3 * 3 * 2
    assert (workflow.results / "manifest.json").exists()
    # One sbatch job did the 3 decodes and 18 resizes (group "image", 5 components);
    # the web jobs ran locally.
    assert len(cluster_job_ids() - before) == 1
    logs = list((workflow.root / ".snakemake" / "slurm_logs").rglob("*.log"))
    assert [log.parent.name for log in logs] == ["group_image_decode_source_resize_image"]
    assert "21 of 21 steps (100%) done" in logs[0].read_text()

    again = workflow.run("--workflow-profile", "profiles/slurm", *CLUSTER_OPTIONS)
    assert "Nothing to be done" in again.stdout + again.stderr
    assert len(cluster_job_ids() - before) == 1

"""The job server, its workers and its client: same status and output as a direct run."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from conftest import ROOT, job_environment
from scripts.imageops import write_raster

from scripts.jobserver import TOKEN_VARIABLE, listening_socket, run_request, with_huge_pages

CLIENT = ROOT / "scripts" / "jobclient.sh"
SERVER = ROOT / "scripts" / "jobserver.py"


@pytest.fixture
def raster(tmp_path: Path) -> Path:
    path = tmp_path / "src.raster"
    write_raster(Image.new("RGB", (40, 20), (0, 128, 255)), path, (40, 20), 1)
    return path


def start_server(folder: Path, *args: str) -> tuple[subprocess.Popen, str]:
    """A running server and its HOST:PORT:TOKEN."""
    process = subprocess.Popen(
        [sys.executable, str(SERVER), str(folder), *args], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL
    )
    address = process.stdout.readline().decode().strip()
    assert address.startswith("127.0.0.1:")
    return process, address


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def server(tmp_path: Path):
    """HOST:PORT:TOKEN of a running server."""
    process, address = start_server(tmp_path / "server")
    yield address
    stop_server(process)


def workers_of(server_pid: int) -> set[int]:
    """Process ids of a server's workers (its child processes)."""
    children = Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split()
    return {int(pid) for pid in children}


def wait_for(condition, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
    return result


def run_client(tmp_path: Path, address, *args: str) -> subprocess.CompletedProcess:
    """Source the client the way each rule's bash command does."""
    env = job_environment()
    env.pop("RESPONSIVE_IMAGES_JOBSERVER", None)
    if address is not None:
        env["RESPONSIVE_IMAGES_JOBSERVER"] = address
    return subprocess.run(
        ["bash", "-c", f'set -euo pipefail; . "{CLIENT}" "$@"', "job", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )


def resize_args(raster: Path, output: str, height: int = 10) -> list[str]:
    return [str(raster), output, "--width", "20", "--height", str(height), "--format", "png", "--log", "job.log"]


@pytest.mark.parametrize("use_server", [True, False])
def test_jobclient_runs_a_resize(tmp_path, raster, server, use_server):
    done = run_client(tmp_path, server if use_server else None, "resize_image", *resize_args(raster, "out.png"))
    assert done.returncode == 0, done.stderr
    with Image.open(tmp_path / "out.png") as im:
        assert im.size == (20, 10)
        assert im.getpixel((10, 5)) == (0, 128, 255)
    assert "wrote out.png 20x10 png" in (tmp_path / "job.log").read_text()


@pytest.mark.parametrize("use_server", [True, False])
def test_jobclient_reports_a_failure_in_one_line(tmp_path, raster, server, use_server):
    done = run_client(tmp_path, server if use_server else None, "resize_image", *resize_args(raster, "out.png", 11))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "ERROR out.png: target height 11 does not match the source's aspect ratio "
        "(40x20 at width 20 gives height 10)"
    ]
    assert not (tmp_path / "out.png").exists()


def test_jobclient_falls_back_when_the_server_is_gone(tmp_path, raster):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    done = run_client(tmp_path, f"127.0.0.1:{port}:token", "resize_image", *resize_args(raster, "out.png"))
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert (tmp_path / "out.png").exists()


def test_jobclient_passes_arguments_with_spaces_and_quotes(tmp_path, raster, server):
    output = "it's a \"test\" image.png"
    done = run_client(tmp_path, server, "resize_image", *resize_args(raster, output))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / output).exists()


def test_jobserver_ignores_a_request_without_its_token(tmp_path, raster, server):
    host, port, _ = server.split(":")
    done = run_client(tmp_path, f"{host}:{port}:not-the-token", "resize_image", *resize_args(raster, "out.png"))
    assert done.returncode == 1
    assert "no reply from the job server" in done.stderr
    assert not (tmp_path / "out.png").exists()


def test_jobserver_reports_bad_arguments_like_the_command_line(tmp_path, server):
    done = run_client(tmp_path, server, "resize_image", "only-one-argument")
    assert done.returncode == 2
    assert "usage:" in done.stderr


@pytest.mark.parametrize(
    ("tunables", "expected"),
    [
        (None, "glibc.malloc.hugetlb=1"),
        ("glibc.malloc.arena_max=2", "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1"),
        ("glibc.malloc.hugetlb=0", "glibc.malloc.hugetlb=0"),
    ],
)
def test_with_huge_pages_keeps_other_tunables_and_an_explicit_choice(tunables, expected):
    environ = {"PATH": "/bin"} if tunables is None else {"PATH": "/bin", "GLIBC_TUNABLES": tunables}
    assert with_huge_pages(environ) == {"PATH": "/bin", "GLIBC_TUNABLES": expected}


def test_jobserver_runs_jobs_in_turn_in_one_worker(tmp_path, raster):
    process, address = start_server(tmp_path / "server", "--workers", "1")
    try:
        for name in ("first", "second"):
            folder = tmp_path / name
            folder.mkdir()
            done = run_client(folder, address, "resize_image", *resize_args(raster, "out.png"))
            assert done.returncode == 0, done.stderr
            assert (folder / "out.png").exists()  # each job in its own working directory
        assert len(workers_of(process.pid)) == 1
    finally:
        stop_server(process)


def test_jobserver_replaces_a_worker_that_dies(tmp_path, raster):
    process, address = start_server(tmp_path / "server", "--workers", "1")
    try:
        (worker,) = wait_for(lambda: workers_of(process.pid))
        os.kill(worker, signal.SIGKILL)  # as a crash in a codec would
        replacement = wait_for(lambda: workers_of(process.pid) - {worker})
        assert len(replacement) == 1
        done = run_client(tmp_path, address, "resize_image", *resize_args(raster, "out.png"))
        assert done.returncode == 0, done.stderr
        assert (tmp_path / "out.png").exists()
    finally:
        stop_server(process)


def test_jobserver_workers_stop_with_the_server(tmp_path):
    process, _ = start_server(tmp_path / "server", "--workers", "2")
    workers = wait_for(lambda: workers_of(process.pid))
    assert len(workers) == 2
    stop_server(process)
    for pid in workers:
        wait_for(lambda pid=pid: not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2])


def test_run_request_sets_back_the_working_directory_and_pixel_limit(tmp_path):
    Image.new("RGB", (40, 20)).save(tmp_path / "source.png")
    before_cwd, before_limit = os.getcwd(), Image.MAX_IMAGE_PIXELS
    status, _, stderr = run_request(str(tmp_path), "decode_source", ["source.png", "L0.raster", "--max-pixels", "10"])
    assert status == 1
    assert stderr.startswith("ERROR source.png:") and "limit" in stderr
    assert (os.getcwd(), Image.MAX_IMAGE_PIXELS) == (before_cwd, before_limit)


def test_jobserver_serves_a_socket_its_parent_opened(tmp_path, raster):
    with listening_socket() as listener:
        process = subprocess.Popen(
            [sys.executable, str(SERVER), str(tmp_path / "server"), "--workers", "1", f"--listen-fd={listener.fileno()}"],
            pass_fds=(listener.fileno(),),
            env={**job_environment(), TOKEN_VARIABLE: "the-token"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
        )
        host, port = listener.getsockname()
    try:
        # No waiting for the server to start: the request waits in the socket's queue.
        done = run_client(tmp_path, f"{host}:{port}:the-token", "resize_image", *resize_args(raster, "out.png"))
        assert done.returncode == 0, done.stderr
        assert (tmp_path / "out.png").exists()
        refused = run_client(tmp_path, f"{host}:{port}:another-token", "resize_image", *resize_args(raster, "x.png"))
        assert refused.returncode == 1
        assert "no reply from the job server" in refused.stderr
    finally:
        stop_server(process)
    assert process.stdout.read() == b""  # it prints no address: its parent knows it


def test_jobserver_needs_the_token_with_a_listening_socket(tmp_path):
    env = job_environment()
    env.pop(TOKEN_VARIABLE, None)
    with listening_socket() as listener:
        done = subprocess.run(
            [sys.executable, str(SERVER), str(tmp_path), f"--listen-fd={listener.fileno()}"],
            pass_fds=(listener.fileno(),),
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert done.returncode == 2
    assert TOKEN_VARIABLE in done.stderr

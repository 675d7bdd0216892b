"""The fork server and its client: same status and output as a direct run."""

import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from conftest import ROOT, job_environment
from scripts.imageops import write_raster

CLIENT = ROOT / "scripts" / "jobclient.py"
SERVER = ROOT / "scripts" / "jobserver.py"


@pytest.fixture
def raster(tmp_path: Path) -> Path:
    path = tmp_path / "src.raster"
    write_raster(Image.new("RGB", (40, 20), (0, 128, 255)), path, (40, 20), 1)
    return path


@pytest.fixture
def server(tmp_path: Path):
    socket_path = tmp_path / "jobs.sock"
    process = subprocess.Popen(
        [sys.executable, str(SERVER), str(socket_path)], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL
    )
    assert process.stdout.readline().strip() == b"ready"
    yield socket_path
    process.terminate()
    process.wait(timeout=10)


def run_client(tmp_path: Path, socket_path, *args: str) -> subprocess.CompletedProcess:
    env = job_environment()
    env.pop("RESPONSIVE_IMAGES_JOBSERVER", None)
    if socket_path is not None:
        env["RESPONSIVE_IMAGES_JOBSERVER"] = str(socket_path)
    return subprocess.run(
        [sys.executable, "-S", str(CLIENT), *args], cwd=tmp_path, env=env, capture_output=True, text=True
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
    done = run_client(tmp_path, tmp_path / "no-such.sock", "resize_image", *resize_args(raster, "out.png"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out.png").exists()


def test_jobserver_reports_bad_arguments_like_the_command_line(tmp_path, server):
    done = run_client(tmp_path, server, "resize_image", "only-one-argument")
    assert done.returncode == 2
    assert "usage:" in done.stderr

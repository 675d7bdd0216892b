"""Shared helpers: tiny generated images and a private copy of the workflow."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pytest
import yaml
from hypothesis import settings
from PIL import Image

from benchmarks.compare import ROOT, copy_workflow  # noqa: F401 (ROOT is for the tests)
from browser import browser_type  # noqa: F401 (the browser tests' fixture: tests/browser.py)

#: Under CI (.ci/run sets CI=true) a skipped test fails: a missing browser, S3
#: server, SLURM or mount right is a broken environment, not a pass.
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# CI explores the same examples on every run and keeps no database; a developer's
# runs explore freely and replay failures from .hypothesis/.
settings.register_profile("ci", derandomize=True, database=None)
if IN_CI:
    settings.load_profile("ci")


def fail_skips_under_ci(report) -> None:
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under CI, which must run every test: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    fail_skips_under_ci((yield).get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    fail_skips_under_ci((yield).get_result())


@pytest.fixture(autouse=True)
def private_tmpdir(tmp_path_factory, monkeypatch) -> Path:
    """$TMPDIR inside this test's own folder, for the test and every process it starts."""
    folder = tmp_path_factory.mktemp("tmpdir")
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", None)
    return folder


#: Extensions of the image variants (other files in results/ are web delivery).
VARIANT_SUFFIXES = {".png", ".webp", ".avif", ".jpeg"}
#: Small widths keep the end-to-end runs fast.
TEST_WIDTHS = [40, 20, 10]


def make_image(path: Path, size=(64, 48), mode="RGB", color=(200, 30, 30), **save_args) -> Path:
    """Write a solid image with a gradient row, so encoders have something to do."""
    im = Image.new(mode, size, color if color is not None else 0)
    if mode in ("RGB", "RGBA"):
        for x in range(size[0]):
            im.putpixel((x, 0), (x % 256, 0, 0) + ((255,) if mode == "RGBA" else ()))
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path, **save_args)
    return path


def job_environment() -> dict[str, str]:
    """The environment with this interpreter's folder first on PATH, as `uv run` sets it,
    so the jobs' `python` is the one with Pillow."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


class Workflow:
    """A copy of the workflow in a temporary folder, run with the real Snakemake."""

    def __init__(self, root: Path):
        self.root = copy_workflow(root)
        self.inputs = root / "input_images"
        self.results = root / "results"
        self.build = root / "build"
        self.set_config(widths=TEST_WIDTHS)

    @property
    def config(self) -> dict:
        return yaml.safe_load((self.root / "config.yaml").read_text())

    def set_config(self, **changes) -> None:
        config = self.config
        config.update(changes)
        (self.root / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))

    def run(
        self, *args: str, check: bool = True, env: dict[str, str] | None = None, launcher: Sequence[str] = ()
    ) -> subprocess.CompletedProcess:
        """Run Snakemake here; ``launcher`` is a command prefix (a namespace, say) it runs under."""
        cmd = [*launcher, sys.executable, "-m", "snakemake", "--cores", "2", *args]
        done = subprocess.run(
            cmd, cwd=self.root, env={**job_environment(), **(env or {})}, capture_output=True, text=True, timeout=600
        )
        if check and done.returncode != 0:
            pytest.fail(f"snakemake {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done

    def outputs(self) -> dict[str, tuple[int, int]]:
        """Name -> (inode, mtime_ns) of every image variant: a rewritten file changes both."""
        if not self.results.is_dir():
            return {}
        return {
            path.name: (path.stat().st_ino, path.stat().st_mtime_ns)
            for path in self.results.iterdir()
            if path.is_file() and path.suffix in VARIANT_SUFFIXES and not path.name.startswith(".")
        }

    def stamp(self, relative: str) -> tuple[int, int]:
        """(inode, mtime_ns) of one file under results/: a rewrite changes it."""
        stat = (self.results / relative).stat()
        return stat.st_ino, stat.st_mtime_ns


def planned_resources(dry_run: str) -> dict[tuple[str, str], dict[str, str]]:
    """(rule, first output) -> the resources Snakemake plans for that job, from a dry run."""
    planned, rule, output = {}, None, None
    for line in dry_run.splitlines():
        if line.startswith("rule "):
            rule, output = line[5:].rstrip(":"), None
        elif line.startswith("    output: ") and rule:
            output = line.split(": ", 1)[1].split(", ")[0]
        elif line.startswith("    resources: ") and rule:
            planned[rule, output] = dict(item.split("=", 1) for item in line.split(": ", 1)[1].split(", "))
    return planned


def apply_upstream_patch(folder: Path, patch: str) -> None:
    """``git apply`` docs/upstream/``patch`` in ``folder``, a copy of the code it patches."""
    subprocess.run(["git", "init", "-q"], cwd=folder, check=True)
    subprocess.run(["git", "apply", str(ROOT / "docs" / "upstream" / patch)], cwd=folder, check=True)


def changed(before: dict, after: dict) -> set[str]:
    """Names written or rewritten between two snapshots."""
    return {name for name, stat in after.items() if before.get(name) != stat}


@pytest.fixture
def workflow(tmp_path: Path) -> Workflow:
    return Workflow(tmp_path / "wf")

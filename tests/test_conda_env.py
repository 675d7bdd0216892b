"""The conda env of the process jobs lists every package their scripts import."""

from __future__ import annotations

import ast
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import yaml

from conftest import ROOT

#: The scripts the rules with a conda: directive run, as processes.
PROCESS_SCRIPTS = ("decode_source.py", "download.py")
#: conda-forge's names for PyPI distributions whose names differ.
CONDA_NAMES = {"zlib-ng": "python-zlib-ng"}


def imported_modules(script: Path, seen: set[Path] | None = None) -> set[str]:
    """Top-level modules ``script`` imports, following the project's own ``scripts.*``."""
    seen = set() if seen is None else seen
    if script in seen:
        return set()
    seen.add(script)
    found = set()
    for node in ast.walk(ast.parse(script.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        for name in names:
            if name == "scripts" or name.startswith("scripts."):
                inner = ROOT / (name.replace(".", "/") + ".py")
                found |= imported_modules(inner, seen) if inner.exists() else set()
            else:
                found.add(name.split(".")[0])
    return found


def third_party_distributions() -> set[str]:
    modules = set().union(*(imported_modules(ROOT / "scripts" / name) for name in PROCESS_SCRIPTS))
    third_party = modules - set(sys.stdlib_module_names) - {"__future__"}
    by_module = packages_distributions()
    return {dist.lower() for module in third_party for dist in by_module[module]}


def package_name(spec: str) -> str:
    return spec.split()[0].split("=")[0].split(">")[0].lower()


def conda_packages() -> set[str]:
    """The env's packages: conda-forge's, and PyPI's under its ``pip:`` entry."""
    env = yaml.safe_load((ROOT / "rules" / "envs" / "pillow.yaml").read_text())
    conda = [spec for spec in env["dependencies"] if isinstance(spec, str)]
    pip = [spec for entry in env["dependencies"] if isinstance(entry, dict) for spec in entry.get("pip", [])]
    if pip:
        assert "pip" in map(package_name, conda), "a pip: entry needs pip itself in the env"
    return {package_name(spec) for spec in conda + pip}


def test_the_process_scripts_import_pillow_deflate_zlib_ng_and_httpx():
    """The check below reads real imports: here is what it finds today."""
    assert third_party_distributions() == {"pillow", "deflate", "zlib-ng", "httpx"}


def test_the_conda_env_lists_every_package_the_process_jobs_import():
    wanted = {CONDA_NAMES.get(dist, dist) for dist in third_party_distributions()}
    assert wanted <= conda_packages(), wanted - conda_packages()


def test_only_rules_that_run_processes_have_a_conda_env():
    """A run: block cannot use a conda env; a conda: directive on one is an error."""
    for path in (ROOT / "rules").glob("*.smk"):
        text = path.read_text()
        for block in text.split("\nrule ")[1:] + text.split("\ncheckpoint ")[1:]:
            body = block.split("\n\n\n")[0]
            if "    conda:" in body:
                assert "    shell:" in body, (path.name, body.splitlines()[0])

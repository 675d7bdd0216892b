#!/usr/bin/env python3
"""What it would cost to run every resize in a process of its own.

    uv run python benchmarks/isolation.py CORPUS_DIR [--rounds 3] [--cores N]

The workflow runs each resize as a thread of Snakemake's process, which a
crashing encoder would take down with it (the decodes, which read foreign
files, are processes: docs/design.md). This builds CORPUS_DIR, alternately,
with the workflow as it is and with a copy whose resize rule is a ``shell:``
job running ``scripts/resize_image.py`` (the same function, behind its
command line), from empty results/, build/ and .snakemake/, and prints each median
wall time and their ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare import copy_workflow, run_pipeline  # noqa: E402

ISOLATED_ARGUMENTS = '''

import json
import shlex


def isolated_resize_arguments(wildcards):
    """The resize command line's options for one target (this benchmark only)."""
    settings = resize_settings(wildcards)
    return shlex.join(
        [
            "--level", str(settings["level"]), "--width", wildcards.width,
            "--height", wildcards.height, "--format", wildcards.fmt,
            "--options", json.dumps(settings["encoder"]),
            "--background", settings["background"],
        ]
    )
'''

ISOLATED_BODY = '''        arguments=isolated_resize_arguments,
        script=str(SCRIPTS_DIR / "resize_image.py"),
    shell:
        "python {params.script:q} {input.pyramid:q} {output:q} {params.arguments}"
        " --threads {threads} --log {log:q}"
'''


def isolated_copy(dest: Path) -> Path:
    """The workflow with its resize rule as a shell: job (one process per target)."""
    workdir = copy_workflow(dest)
    functions = workdir / "rules" / "functions" / "resize.smk"
    functions.write_text(functions.read_text() + ISOLATED_ARGUMENTS)
    rules = workdir / "rules" / "resize.smk"
    text = rules.read_text()
    thread_body = "    run:\n        resize_job(input, output, wildcards, params, threads, log)\n"
    if thread_body not in text:
        sys.exit("rules/resize.smk no longer has the run: block this benchmark replaces")
    rules.write_text(text.replace(thread_body, ISOLATED_BODY))
    return workdir


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cores", type=int, default=os.cpu_count())
    args = parser.parse_args()
    corpus = args.corpus.resolve()
    times: dict[str, list[float]] = {"threads": [], "processes": []}
    sizes = {}
    with tempfile.TemporaryDirectory(prefix="isolation-") as tmp:
        workdirs = {"threads": copy_workflow(Path(tmp) / "threads"), "processes": isolated_copy(Path(tmp) / "processes")}
        for round_number in range(1, args.rounds + 1):
            for name, workdir in workdirs.items():
                elapsed, sizes[name] = run_pipeline(workdir, corpus, args.cores)
                times[name].append(elapsed)
                print(f"round {round_number}: resizes as {name:9} --cores {args.cores}: {elapsed:7.2f} s", flush=True)
    threads, processes = (statistics.median(times[name]) for name in ("threads", "processes"))
    print(f"medians of {args.rounds}: threads {threads:.2f} s, processes {processes:.2f} s; "
          f"processes/threads {processes / threads:.2f}")
    print("same bytes:", "yes" if sizes["threads"] == sizes["processes"] else f"NO {sizes}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

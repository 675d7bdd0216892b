#!/usr/bin/env python3
"""Time a build on an S3 bucket (moto's server on 127.0.0.1) against the same
build in local folders.

    uv run --group test python benchmarks/object_storage.py SOURCES_DIR [--cores 2]

Uploads the images of SOURCES_DIR to s3://bench/run/input_images/, then times,
in a private copy of the workflow: a full build with profiles/s3, a no-op
rerun, and the same two runs with local folders (profiles/default). Snakemake's
start-up is included in every figure.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.compare import copy_workflow  # noqa: E402
from scripts.plan import SOURCE_SUFFIXES  # noqa: E402

KEYS = ("bench", "bench")


def start_moto() -> tuple[subprocess.Popen, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.2)
    sys.exit("moto's server did not start")


def timed(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{done.stderr[-3000:]}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sources", type=Path)
    parser.add_argument("--cores", type=int, default=2)
    args = parser.parse_args()
    images = sorted(p for p in args.sources.iterdir() if p.suffix.lower() in SOURCE_SUFFIXES)

    server, endpoint = start_moto()
    try:
        s3 = boto3.resource(
            "s3", endpoint_url=endpoint, region_name="us-east-1",
            aws_access_key_id=KEYS[0], aws_secret_access_key=KEYS[1],
        )
        s3.create_bucket(Bucket="bench")
        for image in images:
            s3.Bucket("bench").upload_file(str(image), f"run/input_images/{image.name}")
        snakemake = [sys.executable, "-m", "snakemake", "--cores", str(args.cores), "--quiet", "rules", "progress"]
        on_bucket = [
            "--workflow-profile", "profiles/s3", "--default-storage-prefix", "s3://bench/run",
            "--storage-s3-endpoint-url", endpoint,
            "--storage-s3-access-key", KEYS[0], "--storage-s3-secret-key", KEYS[1],
        ]
        rows = []
        with tempfile.TemporaryDirectory(prefix="storage-bench-") as tmp:
            remote = copy_workflow(Path(tmp) / "remote")
            local = copy_workflow(Path(tmp) / "local")
            (local / "input_images").mkdir()
            for image in images:
                shutil.copy2(image, local / "input_images" / image.name)
            rows.append(("S3 bucket (moto)", timed(snakemake + on_bucket, remote), timed(snakemake + on_bucket, remote)))
            rows.append(("local folders", timed(snakemake, local), timed(snakemake, local)))
            targets = sum(1 for p in (local / "results").iterdir() if p.suffix in (".png", ".webp", ".avif", ".jpeg"))
    finally:
        server.terminate()
    print(f"{len(images)} sources, {targets} targets, --cores {args.cores}")
    print("| where | full build | no-op rerun |\n|---|---|---|")
    for name, build, noop in rows:
        print(f"| {name} | {build:.1f} s | {noop:.1f} s |")


if __name__ == "__main__":
    main()

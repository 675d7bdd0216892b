#!/usr/bin/env python3
"""Time sequential against concurrent downloads of URL sources.

    uv run python benchmarks/downloads.py CORPUS_DIR [--copies 4] [--latency 0.3]
        [--rounds 3] [--cores 8]

Serves every image of CORPUS_DIR, ``--copies`` times under different names,
from a local HTTP server on 127.0.0.1 that waits ``--latency`` seconds before
each answer (as a distant server would). A private copy of the workflow gets
those URLs as config ``sources``, and Snakemake downloads them only (the
downloaded files are the targets): at ``--cores 1``, one after the other, and
at ``--cores N``, N at a time. Rounds alternate the two, each from an empty
input folder and fresh metadata, Snakemake's start-up included. Prints the
median times and their ratio.
"""

from __future__ import annotations

import argparse
import http.server
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.compare import copy_workflow  # noqa: E402
from scripts.plan import SOURCE_SUFFIXES  # noqa: E402


def serve(files: dict[str, bytes], latency: float) -> http.server.ThreadingHTTPServer:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def answer(self, head: bool):
            time.sleep(latency)
            body = files.get(self.path)
            if body is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", f'"{len(body)}"')
            self.end_headers()
            if not head:
                self.wfile.write(body)

        def do_GET(self):
            self.answer(head=False)

        def do_HEAD(self):
            self.answer(head=True)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def run_downloads(urls: list[str], cores: int) -> tuple[float, int]:
    """Seconds for Snakemake to download ``urls`` into an empty copy of the workflow."""
    with tempfile.TemporaryDirectory(prefix="downloads-bench-") as tmp:
        root = copy_workflow(Path(tmp) / "wf")
        config = yaml.safe_load((root / "config.yaml").read_text())
        config["sources"] = urls
        (root / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        (root / "input_images").mkdir()
        names = [url.rsplit("/", 1)[1] for url in urls]
        targets = [f"input_images/{name}" for name in names]
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "snakemake", "--cores", str(cores), *targets, "--quiet", "rules", "progress"],
            cwd=root,
            capture_output=True,
            text=True,
        )
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            sys.exit(f"download run failed:\n{done.stderr[-3000:]}")
        total = sum((root / target).stat().st_size for target in targets)
        return elapsed, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--latency", type=float, default=0.3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cores", type=int, default=8)
    args = parser.parse_args()

    images = sorted(p for p in args.corpus.iterdir() if p.suffix.lower() in SOURCE_SUFFIXES)
    files = {
        f"/{copy}/{image.stem}-{copy}{image.suffix}": image.read_bytes()
        for image in images
        for copy in range(args.copies)
    }
    httpd = serve(files, args.latency)
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    urls = [base + path for path in sorted(files)]
    times: dict[int, list[float]] = {1: [], args.cores: []}
    total = 0
    for round_ in range(args.rounds):
        for cores in (1, args.cores):
            elapsed, total = run_downloads(urls, cores)
            times[cores].append(elapsed)
            print(f"round {round_ + 1}: --cores {cores}: {elapsed:.2f} s", flush=True)
    httpd.shutdown()
    sequential, concurrent = (statistics.median(times[c]) for c in (1, args.cores))
    print()
    print(f"{len(urls)} files, {total / 1e6:.1f} MB, {args.latency:g} s latency per request")
    print("| run | median s |\n|---|---|")
    print(f"| `--cores 1` (sequential) | {sequential:.2f} |")
    print(f"| `--cores {args.cores}` (concurrent) | {concurrent:.2f} |")
    print(f"concurrent/sequential: {concurrent / sequential:.2f}")


if __name__ == "__main__":
    main()

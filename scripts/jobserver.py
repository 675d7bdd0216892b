"""Job server that makes each job launch cheap.

A resize job's own work can take a few milliseconds, but starting Python and
importing Pillow costs ~0.1 s of CPU every time. The workflow starts this
server once per run (rules/common.smk, on start). It imports everything once,
then forks WORKERS workers (one per core of the run). Each worker takes
requests from ``jobclient.sh`` one at a time and runs the same ``main()`` as
the command line would, and sends back its exit status and output. Snakemake
still schedules every job, one per target, and limits how many run at once.

A worker serves up to JOBS_PER_WORKER jobs, then exits and the server forks a
fresh one. A worker that dies in a job (a crash in a codec, a kill) fails only
that job: its client reports that the worker died, and the server replaces it.
Workers are kept rather than forked per job because a fresh process pays a
page fault for every page it copies or first touches: the smallest job cost
about 15 ms of CPU forked, 6 ms in a kept worker, and a 1-core corpus build
took 457,000 page faults with a fork per job, 80,000 with kept workers. A
worker's memory goes back to the system after each job (a 3640 px PNG peaks
at 127 MB; the worker is back to 29 MB after it).

    python scripts/jobserver.py FOLDER [RESAMPLE_USERS_JSON] [--workers N] [--listen-fd FD]

It listens on 127.0.0.1 (bash, the client, speaks TCP but not Unix sockets)
and prints ``HOST:PORT:TOKEN`` once ready. A request that does not start with
the random token is dropped, so other users of the machine cannot run jobs.
With --listen-fd, it serves on a socket its parent already listens on, with
the token in $RESPONSIVE_IMAGES_JOBSERVER_TOKEN, and prints nothing: the
parent need not wait for it to start (rules/common.smk), and the first
requests wait in the socket's queue until a worker takes them.
With RESAMPLE_USERS_JSON (which targets of the run share a resample, see
resize_image.SharedResamples), the resize jobs of one width share one
resampled image, in FOLDER. It stops when its parent (the Snakemake run) exits
or sends SIGTERM, and its workers stop with it.
"""

from __future__ import annotations

import argparse
import contextlib
import hmac
import io
import os
import secrets
import signal
import socket
import sys
import traceback
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image

from scripts import decode_source, download, resize_image, web

#: The commands a client may ask for, each the ``main(argv)`` of a script.
COMMANDS = {
    "decode_source": decode_source.main,
    "resize_image": resize_image.main,
    "web": web.main,
    "download": download.main,
}


def run_request(cwd: str, command: str, argv: list[str]) -> tuple[int, str, str]:
    """Run one job in this process; return its status and what it printed.

    The process serves other jobs after this one, so the settings a job may
    change (the working directory, Pillow's pixel limit) are set back.
    """
    stdout, stderr = io.StringIO(), io.StringIO()
    pixel_limit = Image.MAX_IMAGE_PIXELS
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr), _restored_cwd():
        try:
            os.chdir(cwd)
            status = COMMANDS[command](argv)
        except SystemExit as exit_:
            status = exit_.code if isinstance(exit_.code, int) else 1
        except BaseException:  # report everything: this is the job's top level
            traceback.print_exc()
            status = 1
        finally:
            Image.MAX_IMAGE_PIXELS = pixel_limit
    return status or 0, stdout.getvalue(), stderr.getvalue()


@contextlib.contextmanager
def _restored_cwd():
    cwd = os.getcwd()
    try:
        yield
    finally:
        os.chdir(cwd)


#: Environment variable of the jobs: HOST:PORT:TOKEN of the server.
SERVER_VARIABLE = "RESPONSIVE_IMAGES_JOBSERVER"

#: Environment variable of a server started with --listen-fd: its token.
TOKEN_VARIABLE = "RESPONSIVE_IMAGES_JOBSERVER_TOKEN"

#: glibc's malloc asks for transparent huge pages (glibc >= 2.35; ignored by
#: older ones). An image job allocates tens of megabytes at once: with 4 kB
#: pages the kernel faults each page in, ~85,000 faults for a 4000 px PNG.
#: rules/common.smk sets it for every job, with or without the server.
HUGE_PAGES_TUNABLE = "glibc.malloc.hugetlb=1"

#: A request larger than this is refused (real ones are a few hundred bytes).
MAX_REQUEST_BYTES = 1 << 20

#: Jobs one worker runs before it exits and a fresh one takes its place, so
#: what jobs leave behind (a fragmented heap, a leaked file) cannot pile up.
JOBS_PER_WORKER = 200

#: How often (seconds) an idle worker and the server check that their parent lives.
PARENT_CHECK_SECONDS = 1.0


def with_huge_pages(environ: dict[str, str]) -> dict[str, str]:
    """A copy of ``environ`` whose GLIBC_TUNABLES also asks for huge pages,
    unless it already says whether to use them."""
    tunables = [t for t in environ.get("GLIBC_TUNABLES", "").split(":") if t]
    if not any(t.startswith("glibc.malloc.hugetlb=") for t in tunables):
        tunables.append(HUGE_PAGES_TUNABLE)
    return {**environ, "GLIBC_TUNABLES": ":".join(tunables)}


def read_request(conn: socket.socket) -> list[str] | None:
    """The fields of one request: token, working directory, count, then that many
    fields (the command and its arguments); None if it is cut short or malformed."""
    data = b""
    wanted = 3
    while data.count(b"\0") < wanted:
        chunk = conn.recv(65536)
        if not chunk or len(data) + len(chunk) > MAX_REQUEST_BYTES:
            return None
        data += chunk
        if wanted == 3 and data.count(b"\0") >= 3:
            count = data.split(b"\0", 3)[2]
            if not count.isdigit() or int(count) < 1:
                return None
            wanted = 3 + int(count)
    return [os.fsdecode(field) for field in data.split(b"\0")[:wanted]]


def serve_connection(conn: socket.socket, token: str) -> None:
    """Read one request, run it if it carries the token, reply.

    The protocol is described in jobclient.sh.
    """
    with conn:
        fields = read_request(conn)
        if fields is None or not hmac.compare_digest(fields[0].encode(), token.encode()):
            return
        status, stdout, stderr = run_request(fields[1], fields[3], fields[4:])
        conn.sendall(b"".join(field + b"\0" for field in (str(status).encode(), os.fsencode(stdout), os.fsencode(stderr))))


def work(server: socket.socket, token: str, jobs: int) -> None:
    """A worker: serve up to ``jobs`` requests, one at a time, while the server lives."""
    server_pid = os.getppid()
    served = 0
    while served < jobs and os.getppid() == server_pid:
        try:
            conn, _ = server.accept()
        except TimeoutError:
            continue
        conn.settimeout(None)
        serve_connection(conn, token)
        served += 1


def start_worker(server: socket.socket, token: str, jobs: int) -> int:
    """Fork a worker; return its process id.

    SIGTERM stays blocked until the worker has dropped the server's handler, so
    a SIGTERM that comes during the fork kills the worker rather than running
    the server's exit in it.
    """
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        pid = os.fork()
        if pid == 0:
            status = 1
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGCHLD})
                work(server, token, jobs)
                status = 0
            finally:
                os._exit(status)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    return pid


def listening_socket() -> socket.socket:
    """A TCP socket listening on a free port of 127.0.0.1."""
    return socket.create_server(("127.0.0.1", 0), backlog=128)


def serve(
    folder: Path,
    resample_users: Path | None = None,
    workers: int = 1,
    listener: socket.socket | None = None,
    token: str | None = None,
) -> None:
    """Keep ``workers`` workers serving until the parent process goes away.

    Without ``listener``, it listens on a new socket and prints its address and
    a new token once the workers run.
    """
    Image.init()  # load every plugin once, so workers never import one
    if resample_users is not None:
        resize_image.SHARED = resize_image.SharedResamples.load(folder / "resampled", resample_users)
    parent = os.getppid()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # Worker exits are collected below with sigtimedwait, not by a handler.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
    running: set[int] = set()
    announce = listener is None
    if listener is None:
        listener, token = listening_socket(), secrets.token_hex(16)
    with listener:
        listener.settimeout(PARENT_CHECK_SECONDS)
        try:
            running.update(start_worker(listener, token, JOBS_PER_WORKER) for _ in range(max(1, workers)))
            if announce:
                host, port = listener.getsockname()
                print(f"{host}:{port}:{token}", flush=True)
            while os.getppid() == parent:
                signal.sigtimedwait({signal.SIGCHLD}, PARENT_CHECK_SECONDS)
                while running and (pid := os.waitpid(-1, os.WNOHANG)[0]):
                    running.discard(pid)
                    running.add(start_worker(listener, token, JOBS_PER_WORKER))
        finally:
            for pid in running:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("resample_users", type=Path, nargs="?", default=None)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="jobs served at once")
    parser.add_argument("--listen-fd", type=int, default=None, help="serve on this listening socket")
    args = parser.parse_args(argv)
    if args.listen_fd is None:
        serve(args.folder, args.resample_users, args.workers)
        return
    token = os.environ.get(TOKEN_VARIABLE, "")
    if not token:
        parser.error(f"--listen-fd needs the token in ${TOKEN_VARIABLE}")
    listener = socket.socket(fileno=args.listen_fd)
    serve(args.folder, args.resample_users, args.workers, listener, token)


if __name__ == "__main__":
    main()

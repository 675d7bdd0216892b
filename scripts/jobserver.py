"""Fork server that makes each job launch cheap.

A resize job's own work can take a few milliseconds, but starting Python and
importing Pillow costs ~0.1 s of CPU every time. The workflow starts this
server once per run (rules/common.smk, on start). It imports everything once,
then forks a child for each request from ``jobclient.py``. The child runs the
same ``main()`` as the command line would and sends back its exit status and
output. Snakemake still schedules every job, one per target, and limits how
many run at once. Each child is a separate process, so a crash stays confined
to its job.

    python scripts/jobserver.py SOCKET_PATH [RESAMPLE_USERS_JSON]

With RESAMPLE_USERS_JSON (which targets of the run share a resample, see
resize_image.SharedResamples), the resize jobs of one width share one
resampled image, in a folder next to the socket. It stops when its parent (the
Snakemake run) exits or sends SIGTERM.
"""

from __future__ import annotations

import contextlib
import io
import os
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
    """Run one job in this process; return its status and what it printed."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            os.chdir(cwd)
            status = COMMANDS[command](argv)
        except SystemExit as exit_:
            status = exit_.code if isinstance(exit_.code, int) else 1
        except BaseException:  # report everything: this is the job's top level
            traceback.print_exc()
            status = 1
    return status or 0, stdout.getvalue(), stderr.getvalue()


def serve_connection(conn: socket.socket) -> None:
    """Read one request (NUL-terminated fields up to end of stream), run it, reply.

    The protocol is described in jobclient.py.
    """
    with conn:
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
        fields = [os.fsdecode(field) for field in b"".join(chunks).split(b"\0")[:-1]]
        if len(fields) < 2:
            return
        status, stdout, stderr = run_request(fields[0], fields[1], fields[2:])
        conn.sendall(b"\0".join([str(status).encode(), os.fsencode(stdout), os.fsencode(stderr)]))


def serve(socket_path: Path, resample_users: Path | None = None) -> None:
    """Accept connections until the parent process goes away."""
    Image.init()  # load every plugin once, so children never import one
    if resample_users is not None:
        resize_image.SHARED = resize_image.SharedResamples.load(socket_path.parent / "resampled", resample_users)
    parent = os.getppid()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped automatically
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    socket_path.unlink(missing_ok=True)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(socket_path))
        os.chmod(socket_path, 0o600)
        server.listen(128)
        server.settimeout(1.0)
        print("ready", flush=True)
        while os.getppid() == parent:
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            if os.fork() == 0:
                server.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                try:
                    conn.settimeout(None)
                    serve_connection(conn)
                finally:
                    os._exit(0)
            conn.close()


if __name__ == "__main__":
    serve(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else None)

"""Run a workflow job through the fork server, or directly if there is none.

    python -S scripts/jobclient.py COMMAND ARGS...

COMMAND is a script in this folder (decode_source or resize_image). With
``-S`` this client starts in ~10 ms and imports only the standard library.
When $RESPONSIVE_IMAGES_JOBSERVER names a live server socket, the job runs
there (see jobserver.py); otherwise, as on a cluster node, this process
becomes ``python scripts/COMMAND.py ARGS...``. The job's exit status and
output are the same either way.
"""

import json
import os
import socket
import sys

SERVER_VARIABLE = "RESPONSIVE_IMAGES_JOBSERVER"


def run_directly(command: str, args: list[str]) -> None:
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{command}.py")
    os.execv(sys.executable, [sys.executable, script, *args])


def main() -> int:
    command, args = sys.argv[1], sys.argv[2:]
    socket_path = os.environ.get(SERVER_VARIABLE)
    if not socket_path:
        run_directly(command, args)
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(socket_path)
    except OSError:
        conn.close()
        run_directly(command, args)
    request = {"command": command, "argv": args, "cwd": os.getcwd()}
    with conn, conn.makefile("rwb") as stream:
        stream.write(json.dumps(request).encode() + b"\n")
        stream.flush()
        line = stream.readline()
    if not line:
        print(f"ERROR {command} {' '.join(args[:2])}: the job's worker process died", file=sys.stderr)
        return 1
    reply = json.loads(line)
    sys.stdout.write(reply["stdout"])
    sys.stderr.write(reply["stderr"])
    return reply["status"]


if __name__ == "__main__":
    sys.exit(main())

"""Run a workflow job through the fork server, or directly if there is none.

    python -S scripts/jobclient.py COMMAND ARGS...

COMMAND is a script in this folder (decode_source or resize_image). With
``-S`` and only the built-in ``_socket`` module, this client starts in about
20 ms of CPU. When $RESPONSIVE_IMAGES_JOBSERVER names a live server socket,
the job runs there (see jobserver.py); otherwise, as on a cluster node, this
process becomes ``python scripts/COMMAND.py ARGS...``. The job's exit status
and output are the same either way.

Protocol, over a Unix socket: the request is the working directory, the
command and the arguments, each followed by a NUL byte, then end of stream.
The reply is the exit status, stdout and stderr, separated by NUL bytes.
"""

import _socket
import os
import sys

SERVER_VARIABLE = "RESPONSIVE_IMAGES_JOBSERVER"


def run_directly(command, args):
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), command + ".py")
    os.execv(sys.executable, [sys.executable, script, *args])


def main():
    command, args = sys.argv[1], sys.argv[2:]
    socket_path = os.environ.get(SERVER_VARIABLE)
    if not socket_path:
        run_directly(command, args)
    conn = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        conn.connect(socket_path)
    except OSError:
        conn.close()
        run_directly(command, args)
    fields = [os.getcwd(), command, *args]
    conn.sendall(b"".join(os.fsencode(field) + b"\0" for field in fields))
    conn.shutdown(_socket.SHUT_WR)
    chunks = []
    while chunk := conn.recv(65536):
        chunks.append(chunk)
    conn.close()
    reply = b"".join(chunks).split(b"\0", 2)
    if len(reply) != 3:
        print(f"ERROR {command} {' '.join(args[:2])}: the job's worker process died", file=sys.stderr)
        return 1
    status, stdout, stderr = reply
    sys.stdout.buffer.write(stdout)
    sys.stderr.buffer.write(stderr)
    return int(status)


if __name__ == "__main__":
    sys.exit(main())

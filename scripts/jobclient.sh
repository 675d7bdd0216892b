# Run a workflow job through the fork server (jobserver.py), or directly if
# there is none. Each rule's shell command sources this file:
#
#     . scripts/jobclient.sh COMMAND ARGS...
#
# so a job costs Snakemake's one bash process and no Python start-up (a
# `python -S` client cost ~20 ms of CPU per job). COMMAND is a script in this
# folder (decode_source, resize_image, web, download). When
# $RESPONSIVE_IMAGES_JOBSERVER holds HOST:PORT:TOKEN of a live server, the job
# runs there; otherwise, as on a cluster node, this shell becomes
# `python scripts/COMMAND.py ARGS...`. The exit status and output are the same
# either way.
#
# Protocol, over TCP: the request is the token, the working directory, the
# number of arguments, the command and the arguments; the reply is the exit
# status, stdout and stderr. Each field is followed by a NUL byte.

jobclient_run_directly() {
    exec python "${BASH_SOURCE[0]%/*}/$1.py" "${@:2}"
}

jobclient_main() {
    local server="${RESPONSIVE_IMAGES_JOBSERVER:-}"
    if [[ "$server" != *:*:* ]]; then
        jobclient_run_directly "$@"
    fi
    local host="${server%%:*}" rest="${server#*:}"
    local port="${rest%%:*}" token="${rest#*:}"
    if ! { exec 3<>"/dev/tcp/$host/$port"; } 2>/dev/null; then
        jobclient_run_directly "$@"
    fi
    printf '%s\0' "$token" "$PWD" "$#" "$@" >&3
    local status out err
    if ! { IFS= read -r -d '' status && IFS= read -r -d '' out && IFS= read -r -d '' err; } <&3; then
        printf 'ERROR %s %s: no reply from the job server at %s:%s (its worker died, or the token was refused)\n' \
            "$1" "${*:2:2}" "$host" "$port" >&2
        exit 1
    fi
    printf '%s' "$out"
    printf '%s' "$err" >&2
    exit "$status"
}

jobclient_main "$@"

# Input functions and params of rules/download.smk.
import re
import shlex

from scripts.download import read_origin, remote_versions


def url_name_pattern():
    """The download rule's {name}: exactly the URL sources' file names, so a
    local file is never taken for something to download."""
    return "|".join(re.escape(name) for name in sorted(url_sources())) or "(?!)"


def source_url(wildcards):
    return url_sources()[wildcards.name]


@functools.cache
def remote_versions_now():
    """URL -> the remote file's validator (ETag, else Last-Modified) or None,
    from one HEAD request per URL, made together once per run."""
    return remote_versions(
        url_sources().values(), timeout=config["downloads"]["timeout"]
    )


def remote_version(wildcards):
    """A param: when the remote version changes, the file is downloaded again
    and its targets rebuilt; when it does not, nothing is. If the server
    cannot be asked, the version on record is kept."""
    url = url_sources()[wildcards.name]
    version = remote_versions_now().get(url)
    if version is None:
        origin = read_origin(INPUT_DIR, wildcards.name)
        return origin.version if origin is not None and origin.url == url else ""
    return version


# Download limits, as options: a resource of the download rule, not a param,
# so that changing a timeout does not download everything again.
DOWNLOAD_OPTIONS = shlex.join(
    [
        "--timeout",
        str(config["downloads"]["timeout"]),
        "--retries",
        str(config["downloads"]["retries"]),
        "--backoff",
        str(config["downloads"]["backoff"]),
        "--max-bytes",
        str(config["downloads"]["max_bytes"]),
        "--formats",
        ",".join(SOURCE_FORMATS),
    ]
)

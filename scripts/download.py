"""Sources from URLs: name them safely, check whether they changed, download one.

    python scripts/download.py URL DEST --origin JSON [--timeout S] [--retries N]
        [--backoff S] [--max-bytes N] [--log LOG]

``download`` is the step Snakemake runs once per URL source (rules/download.smk).
It streams the body into a hidden temporary file next to DEST, with a timeout,
retries with exponential backoff on 5xx answers, timeouts and connection
errors, and a size cap. It checks that the body is complete and is an image,
then renames it into place, so nothing partial ever lands in the input folder.
The ``origin`` record next to it (URL, ETag, Last-Modified, sha256, bytes,
time taken) tells later runs where the file came from.

``remote_versions`` is what the workflow asks before planning: one HEAD
request per URL, all at once, giving the validator (ETag, else Last-Modified)
that decides whether a URL must be fetched again.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

import httpx

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.imageops import NOT_ALLOWED, SOURCE_FORMATS, atomic_write, open_source, partial_path
from scripts.joblog import run_job
from scripts.plan import SOURCE_SUFFIXES

#: Where the origin record of each downloaded file lives, inside the input folder.
ORIGIN_FOLDER = ".downloads"
#: Characters kept in a downloaded file's name; every other one becomes "_"
#: (so also the {} and <> that Snakemake would read as wildcards).
_UNSAFE = re.compile(r"[^A-Za-z0-9._ ()+-]")
USER_AGENT = "responsive-images (https://github.com/; build-time image pipeline)"


class DownloadError(OSError):
    """A URL that cannot be used as a source; the message says why."""


@dataclass(frozen=True)
class Origin:
    """Where a downloaded source came from, and which version of it."""

    url: str
    final_url: str
    etag: str
    last_modified: str
    sha256: str
    bytes: int
    started: float
    seconds: float

    @property
    def version(self) -> str:
        return version_of(self.etag, self.last_modified)


def version_of(etag: str | None, last_modified: str | None) -> str:
    """The validator that identifies a remote file's version: its ETag, else its
    Last-Modified date, else "" (unknown)."""
    if etag:
        return f"etag:{etag}"
    if last_modified:
        return f"modified:{last_modified}"
    return ""


def url_file_name(url: str) -> str:
    """The file name a URL is saved under: the last segment of its path,
    percent-decoded and sanitised. Only that segment is kept, so ``..``, ``/``
    or ``\\`` in the URL can never lead outside the input folder."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        msg = "not an http(s) URL"
        raise DownloadError(msg)
    segment = re.split(r"[/\\]", unquote(parts.path))[-1]
    name = _UNSAFE.sub("_", segment).lstrip(".").strip()
    suffix = PurePosixPath(name).suffix.lower()
    if not name or suffix not in SOURCE_SUFFIXES or name == suffix:
        msg = f"its path does not end in an image file name ({', '.join(sorted(SOURCE_SUFFIXES))})"
        raise DownloadError(msg)
    return name


def with_url_hash(name: str, url: str) -> str:
    """``photo.jpg`` -> ``photo-1a2b3c4d.jpg``: a name unique to this URL."""
    path = PurePosixPath(name)
    digest = hashlib.sha256(url.encode()).hexdigest()[:8]
    return f"{path.stem}-{digest}{path.suffix}"


def read_url_list(sources: str | list[str], base: Path = Path()) -> list[str]:
    """The URLs of config ``sources``: a list, or a text file with one per line
    (blank lines and ``#`` comments ignored)."""
    if isinstance(sources, list):
        lines = sources
    else:
        path = base / sources
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as error:
            msg = f"config sources: cannot read {path}: {error.strerror or error}"
            raise ValueError(msg) from None
    urls = [line.strip() for line in lines]
    return list(dict.fromkeys(url for url in urls if url and not url.startswith("#")))


def origin_path(input_dir: Path, name: str) -> Path:
    return input_dir / ORIGIN_FOLDER / f"{name}.json"


def read_origin(input_dir: Path, name: str) -> Origin | None:
    try:
        data = json.loads(origin_path(input_dir, name).read_text(encoding="utf-8"))
        return Origin(**data)
    except (OSError, ValueError, TypeError):
        return None


def plan_downloads(urls: Iterable[str], input_dir: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Assign each URL a file name in ``input_dir``: ``({name: url}, {url: why skipped})``.

    A name is the URL's own file name unless that would overwrite a local file
    that did not come from this URL, or clash with another URL's name or with
    a local file of the same stem; then the name gets a short hash of the URL.
    """
    local_stems: dict[str, str] = {}
    if input_dir.is_dir():
        for path in input_dir.iterdir():
            if path.is_file() and not path.name.startswith("."):
                origin = read_origin(input_dir, path.name)
                local_stems[path.stem] = origin.url if origin else ""
    names: dict[str, str] = {}
    skipped: dict[str, str] = {}
    wanted: dict[str, list[str]] = {}
    for url in urls:
        try:
            name = url_file_name(url)
        except DownloadError as error:
            skipped[url] = str(error)
            continue
        wanted.setdefault(name, []).append(url)
    taken_stems = set()
    for name, claimants in sorted(wanted.items()):
        stem = PurePosixPath(name).stem
        for url in claimants:
            owner = local_stems.get(stem)
            clash = len(claimants) > 1 or stem in taken_stems or (owner is not None and owner != url)
            final = with_url_hash(name, url) if clash else name
            names[final] = url
            taken_stems.add(PurePosixPath(final).stem)
    return names, skipped


def _head_version(client: httpx.Client, url: str) -> str | None:
    try:
        response = client.head(url)
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    return version_of(response.headers.get("etag"), response.headers.get("last-modified"))


def remote_versions(urls: Iterable[str], timeout: float, workers: int = 16) -> dict[str, str | None]:
    """URL -> its current validator (see version_of), or None where the HEAD
    request failed. The requests run concurrently."""
    urls = list(urls)
    if not urls:
        return {}
    with httpx.Client(timeout=timeout, follow_redirects=True, headers={"user-agent": USER_AGENT}) as client:
        with ThreadPoolExecutor(max_workers=min(workers, len(urls))) as pool:
            return dict(zip(urls, pool.map(lambda url: _head_version(client, url), urls)))


RETRY_STATUSES = frozenset({500, 502, 503, 504})


def _fetch(client: httpx.Client, url: str, tmp_path: Path, max_bytes: int) -> httpx.Response:
    """One GET of ``url`` into ``tmp_path``; the response, with its body read."""
    with client.stream("GET", url) as response:
        if response.status_code != 200:
            return response
        length = response.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > max_bytes:
            msg = f"{int(length):,} bytes is above the download limit of {max_bytes:,} (config downloads.max_bytes)"
            raise DownloadError(msg)
        received = 0
        with open(tmp_path, "wb") as handle:
            for chunk in response.iter_bytes(1 << 16):
                received += len(chunk)
                if received > max_bytes:
                    msg = f"body is above the download limit of {max_bytes:,} bytes (config downloads.max_bytes)"
                    raise DownloadError(msg)
                handle.write(chunk)
        return response


def check_image(path: Path, formats: tuple[str, ...] = SOURCE_FORMATS) -> str:
    """The image format of the file at ``path``; DownloadError if it is not an
    image of one of ``formats`` (no other decoder sees it)."""
    from PIL import UnidentifiedImageError

    try:
        with open_source(path, formats) as im:
            im.verify()
            return im.format or "?"
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        head = path.read_bytes()[:64].lstrip().lower()
        if str(error).endswith(NOT_ALLOWED):
            msg = str(error)
        elif head.startswith((b"<!doctype html", b"<html")):
            msg = "the content is an HTML page, not an image"
        else:
            msg = f"the content is not an image ({error})"
        raise DownloadError(msg) from None


def download(
    url: str,
    dest: Path,
    origin_file: Path,
    timeout: float = 30.0,
    retries: int = 3,
    backoff: float = 1.0,
    max_bytes: int = 100_000_000,
    formats: tuple[str, ...] = SOURCE_FORMATS,
) -> Origin:
    """Download ``url`` to ``dest`` atomically and write its origin record.

    A 5xx answer, a timeout or a connection error is retried ``retries`` times,
    waiting ``backoff``, then twice that, and so on. Other failures (a 4xx
    answer, a truncated body, a body above ``max_bytes``, content that is not
    an image) fail at once. If the content equals the file already there, that
    file is left untouched.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = partial_path(dest)
    started = time.time()
    client = httpx.Client(
        timeout=httpx.Timeout(timeout), follow_redirects=True, headers={"user-agent": USER_AGENT}
    )
    try:
        for attempt in range(retries + 1):
            try:
                response = _fetch(client, url, tmp_path, max_bytes)
            except (httpx.TimeoutException, httpx.TransportError) as error:
                cause = _describe_transport_error(error, timeout)
                retryable = not isinstance(error, httpx.RemoteProtocolError)
            else:
                if response.status_code == 200:
                    break
                cause = f"HTTP {response.status_code} {response.reason_phrase}".strip()
                retryable = response.status_code in RETRY_STATUSES
            if not retryable or attempt == retries:
                tries = f" after {attempt + 1} attempts" if attempt else ""
                raise DownloadError(f"{cause}{tries}")
            time.sleep(backoff * 2**attempt)
        check_image(tmp_path, formats)
        digest = hashlib.sha256(tmp_path.read_bytes()).hexdigest()
        origin = Origin(
            url=url,
            final_url=str(response.url),
            etag=response.headers.get("etag", ""),
            last_modified=response.headers.get("last-modified", ""),
            sha256=digest,
            bytes=tmp_path.stat().st_size,
            started=started,
            seconds=round(time.time() - started, 3),
        )
        if dest.exists() and hashlib.sha256(dest.read_bytes()).hexdigest() == digest:
            tmp_path.unlink()  # same content: keep the file (and its mtime) as it is
        else:
            os.replace(tmp_path, dest)
        write_origin(origin_file, origin)
        return origin
    finally:
        client.close()
        tmp_path.unlink(missing_ok=True)


def _describe_transport_error(error: httpx.HTTPError, timeout: float) -> str:
    if isinstance(error, httpx.TimeoutException):
        return f"no answer within {timeout:g} s (config downloads.timeout)"
    if isinstance(error, httpx.RemoteProtocolError):
        return f"the body is truncated or malformed ({error})"
    return f"connection failed ({error})"


def write_origin(path: Path, origin: Origin) -> None:
    text = json.dumps(asdict(origin), indent=1) + "\n"
    atomic_write(path, lambda handle: handle.write(text.encode("utf-8")))


def download_summary(origins: Iterable[Origin]) -> list[str]:
    """The run summary's line about downloads: files, bytes, and the time from
    the first start to the last end (downloads overlap)."""
    origins = list(origins)
    if not origins:
        return []
    from scripts.web import human_bytes

    start = min(o.started for o in origins)
    end = max(o.started + o.seconds for o in origins)
    total = sum(o.bytes for o in origins)
    return [f"Downloaded {len(origins)} file(s), {human_bytes(total)}, in {end - start:.2f} s."]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("dest", type=Path)
    parser.add_argument("--origin", type=Path, required=True)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--retries", type=int, default=3)
    parser.add_argument("--backoff", type=float, default=1.0)
    parser.add_argument("--max-bytes", type=int, default=100_000_000)
    parser.add_argument("--formats", default=",".join(SOURCE_FORMATS), help="allowed decoders, comma-separated")
    parser.add_argument("--log", type=Path, default=None)
    args = parser.parse_args(argv)

    def action() -> str:
        origin = download(
            args.url, args.dest, args.origin, args.timeout, args.retries, args.backoff, args.max_bytes,
            tuple(args.formats.split(",")),
        )
        return f"downloaded {args.url} -> {args.dest} ({origin.bytes:,} bytes, {origin.seconds:.2f} s)"

    return run_job(action, args.log, args.url)


if __name__ == "__main__":
    sys.exit(main())

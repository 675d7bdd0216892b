"""Sources in an S3-compatible bucket: list them and read their sizes.

When the workflow runs with Snakemake's default storage provider set to S3
(profiles/s3), its input folder is a prefix in a bucket, not a local folder.
Planning still needs each source's size (a target's height depends on it), so
the workflow lists the sources with one listing request and reads each new
source's header with one ranged GET of its first bytes. Sizes are cached by
ETag in a small JSON file, so a rerun costs the listing only.

Everything here takes a boto3 S3 resource (the storage plugin's own), a bucket
and keys; nothing reads Snakemake.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit


from scripts.imageops import SOURCE_FORMATS, atomic_write, open_source, oriented_size
from scripts.plan import SOURCE_SUFFIXES, UNUSABLE_CHARACTERS

#: Bytes read to find an image's size: the header, and EXIF in JPEG's APP1.
HEADER_BYTES = 256 * 1024


def split_prefix(prefix: str) -> tuple[str, str]:
    """``s3://bucket/some/path`` -> ``("bucket", "some/path")``."""
    parts = urlsplit(prefix)
    if parts.scheme != "s3" or not parts.netloc:
        msg = f"storage prefix {prefix!r} is not of the form s3://BUCKET[/PATH]"
        raise ValueError(msg)
    return parts.netloc, parts.path.strip("/")


def source_key_prefix(storage_prefix: str, input_dir: str) -> tuple[str, str]:
    """The bucket and the key prefix (ending in ``/``) of the input folder."""
    bucket, base = split_prefix(storage_prefix)
    folder = PurePosixPath(base, os.path.normpath(input_dir)).as_posix().strip("/")
    return bucket, f"{folder}/" if folder else ""


def list_sources(s3, bucket: str, key_prefix: str) -> dict[str, str]:
    """File name -> ETag of the image objects directly under ``key_prefix``
    (the same rules as a local folder: known extensions, not hidden, no
    wildcard characters)."""
    found = {}
    for summary in s3.Bucket(bucket).objects.filter(Prefix=key_prefix):
        name = summary.key[len(key_prefix) :]
        if (
            "/" in name
            or name.startswith(".")
            or PurePosixPath(name).suffix.lower() not in SOURCE_SUFFIXES
            or UNUSABLE_CHARACTERS & set(name)
        ):
            continue
        found[name] = summary.e_tag
    return found


def size_from_bytes(data: bytes, formats: tuple[str, ...] = SOURCE_FORMATS) -> tuple[int, int] | None:
    """Upright size of an image of one of ``formats`` from its first bytes, or
    None if they do not tell."""
    try:
        with open_source(io.BytesIO(data), formats) as im:
            return oriented_size(im)
    except Exception:  # a truncated header fails in many ways; the caller reads more
        return None


def probe_object_size(
    s3, bucket: str, key: str, formats: tuple[str, ...] = SOURCE_FORMATS
) -> tuple[int, int] | None:
    """Upright size of one object: from its first HEADER_BYTES, or from the
    whole object where the header lies further in (some TIFFs)."""
    obj = s3.Object(bucket, key)
    head = obj.get(Range=f"bytes=0-{HEADER_BYTES - 1}")["Body"].read()
    size = size_from_bytes(head, formats)
    if size is None and len(head) == HEADER_BYTES:
        size = size_from_bytes(obj.get()["Body"].read(), formats)
    return size


def source_sizes(
    s3,
    bucket: str,
    key_prefix: str,
    etags: Mapping[str, str],
    cache_path: Path,
    workers: int = 16,
    formats: tuple[str, ...] = SOURCE_FORMATS,
) -> dict[str, tuple[int, int] | None]:
    """File name -> upright size (None if unreadable) of every listed source.

    Sizes are kept in ``cache_path`` by ETag: only new or changed objects are read.
    """
    try:
        cache = json.loads(cache_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        cache = {}
    sizes: dict[str, tuple[int, int] | None] = {}
    missing = []
    for name, etag in etags.items():
        entry = cache.get(key_prefix + name)
        if entry is not None and entry[0] == etag:
            sizes[name] = tuple(entry[1]) if entry[1] else None
        else:
            missing.append(name)
    if missing:
        with ThreadPoolExecutor(max_workers=min(workers, len(missing))) as pool:
            probed = pool.map(lambda name: probe_object_size(s3, bucket, key_prefix + name, formats), missing)
            for name, size in zip(missing, probed):
                sizes[name] = size
                cache[key_prefix + name] = [etags[name], list(size) if size else None]
        text = json.dumps(cache, sort_keys=True)
        atomic_write(cache_path, lambda handle: handle.write(text.encode("utf-8")))
    return sizes

"""Web delivery: what a page needs to use the variants.

``write_record`` runs once per source: it writes the source's record (name,
sha256, size and its variants, as JSON); ``write_snippet`` turns a record into
the source's ``<picture>`` element. The other writers each run once per build
and only read those records, so a source's bytes are hashed once, when its
variants change, not at every manifest update; and changing ``sizes``
rewrites the snippets, not the manifest. The gallery is scripts/gallery.py.

Everything here is a pure function over plain values, except the writers at
the bottom, one per rule of rules/web.smk, which each write one file.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import html
import io
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from scripts.formats import FORMATS, parse_variant_name
from scripts.imageops import atomic_write
from scripts.placeholder import describe_placeholder, placeholder_variant
from scripts.quality_choice import read_choice

#: Formats offered as ``<source>`` elements, best compression first: browsers
#: take the first type they support.
MODERN_FORMATS = ("avif", "webp")
#: The ``<img>`` fallback format, by preference: the first one configured that
#: is not much larger than the others (FALLBACK_MAX_EXCESS).
FALLBACK_FORMATS = ("jpeg", "png", "webp", "avif")
#: Formats every current browser decodes in an ``<img>`` (AVIF is left out:
#: Safari before 16 and Edge before 121 do not).
UNIVERSAL_FORMATS = ("jpeg", "png", "webp")
#: A fallback format whose variants of a source weigh more than this many
#: times those of a universal format is passed over for the next one.
FALLBACK_MAX_EXCESS = 5.0
#: The version of manifest.json's layout (rules/schemas/manifest.schema.json),
#: raised on any change a reader could notice.
MANIFEST_VERSION = 3
#: The fallback ``src`` is the widest variant no wider than this (a sensible
#: default for the rare browser that ignores srcset).
FALLBACK_SRC_MAX_WIDTH = 1024


@dataclass(frozen=True)
class Variant:
    """One output file of a source."""

    path: str
    url: str
    format: str
    width: int
    height: int
    bytes: int
    #: For a ``quality: auto`` variant (scripts/auto_quality.py): the quality
    #: chosen and the variant's SSIMULACRA2 score. None otherwise.
    quality: int | None = None
    ssimulacra2: float | None = None


def variant_json(variant: Variant) -> dict:
    """A variant as the manifest has it: the quality fields only when chosen."""
    return {key: value for key, value in asdict(variant).items() if value is not None}


def record_json(record: SourceRecord) -> dict:
    """A record as its JSON file has it: variants as in the manifest."""
    data = asdict(record)
    data["variants"] = [variant_json(v) for v in record.variants]
    data["dropped"] = [variant_json(v) for v in record.dropped]
    return data


@dataclass
class SourceRecord:
    """A source and the variants a page may use; dropped ones are listed apart."""

    name: str
    stem: str
    path: str
    sha256: str
    bytes: int
    width: int
    height: int
    alt: str
    variants: list[Variant] = field(default_factory=list)
    dropped: list[Variant] = field(default_factory=list)
    #: What a page shows until the image loads (scripts/placeholder.py): the
    #: mean colour, a tiny preview as a data URI, and whether the image is
    #: opaque (a transparent one gets neither behind it).
    color: str = ""
    placeholder: str = ""
    opaque: bool = True

    @classmethod
    def from_json(cls, data: Mapping) -> SourceRecord:
        fields = dict(data)
        fields["variants"] = [Variant(**v) for v in data["variants"]]
        fields["dropped"] = [Variant(**v) for v in data["dropped"]]
        return cls(**fields)


#: Hex digits of a variant's sha256 in its versioned URL: 40 bits, so two
#: versions of one file collide once in about a trillion changes.
URL_VERSION_DIGITS = 10


def variant_url(name: str, base_url: str = "", version: str = "") -> str:
    """The URL of a variant: ``base_url`` then the file name, percent-encoded
    (a space or a comma would otherwise break a srcset), then ``?v=version``
    if there is one."""
    return base_url + quote(name) + (f"?v={version}" if version else "")


def describe_variants(
    paths: Iterable[Path],
    base_url: str = "",
    versioned: bool = False,
    choices: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[Variant]:
    """Variants read from disk, sorted by format then width. Their ``path`` is
    relative to the output folder, where they all are. ``versioned`` URLs end
    in a hash of the file's bytes (web.versioned_urls). ``choices`` holds,
    by file name, what scripts/auto_quality.py chose for a ``quality: auto``
    variant."""
    choices = choices or {}
    variants = []
    for path in paths:
        _, width, height, fmt = parse_variant_name(path.name)
        version = sha256_of(path)[:URL_VERSION_DIGITS] if versioned else ""
        variants.append(
            Variant(
                path=path.name,
                url=variant_url(path.name, base_url, version),
                format=fmt,
                width=width,
                height=height,
                bytes=path.stat().st_size,
                **choices.get(path.name, {}),
            )
        )
    return sorted(variants, key=lambda v: (v.format, v.width))


def drop_not_smaller(variants: Sequence[Variant]) -> tuple[list[Variant], list[Variant]]:
    """Split ``variants`` into kept and dropped: a variant is dropped when it is
    not smaller in bytes than the next larger width kept in the same format
    (the larger one is then better in every way)."""
    smallest_wider: dict[str, int] = {}  # format -> bytes of the narrowest kept so far
    dropped_ids = set()
    for variant in sorted(variants, key=lambda v: v.width, reverse=True):
        wider = smallest_wider.get(variant.format)
        if wider is not None and variant.bytes >= wider:
            dropped_ids.add(id(variant))
        else:
            smallest_wider[variant.format] = variant.bytes
    kept = [v for v in variants if id(v) not in dropped_ids]
    dropped = [v for v in variants if id(v) in dropped_ids]
    return kept, dropped


def default_alt(stem: str) -> str:
    """A readable alt text from a file stem: ``red-fox_at_dusk`` -> ``red fox at dusk``."""
    return re.sub(r"[-_.\s]+", " ", stem).strip() or stem


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def srcset(variants: Iterable[Variant]) -> str:
    """``url 480w, url 992w``: width descriptors, narrowest first."""
    return ", ".join(f"{v.url} {v.width}w" for v in sorted(variants, key=lambda v: v.width))


def by_format(variants: Iterable[Variant]) -> dict[str, list[Variant]]:
    grouped: dict[str, list[Variant]] = defaultdict(list)
    for variant in variants:
        grouped[variant.format].append(variant)
    return dict(grouped)


def fallback_format(grouped: Mapping[str, Sequence[Variant]]) -> str:
    """The ``<img>`` format of a source: the first of FALLBACK_FORMATS that it
    has, passing over any whose variants weigh more than FALLBACK_MAX_EXCESS
    times those of a universal format (png beside webp, for photos)."""
    weights = {fmt: sum(v.bytes for v in variants) for fmt, variants in grouped.items()}
    universal = [weights[fmt] for fmt in UNIVERSAL_FORMATS if fmt in weights]
    lightest = min(universal) if universal else None
    present = [fmt for fmt in FALLBACK_FORMATS if fmt in weights]
    for fmt in present:
        if lightest is None or weights[fmt] <= FALLBACK_MAX_EXCESS * lightest:
            return fmt
    return present[0]


def fallback_variant(variants: Sequence[Variant]) -> Variant:
    """The ``<img src>``: the widest variant no wider than FALLBACK_SRC_MAX_WIDTH,
    or the narrowest if all are wider."""
    by_width = sorted(variants, key=lambda v: v.width)
    fitting = [v for v in by_width if v.width <= FALLBACK_SRC_MAX_WIDTH]
    return fitting[-1] if fitting else by_width[0]


def placeholder_style(record: SourceRecord) -> str:
    """The ``<img>``'s inline style that shows the placeholder in its box until
    the image paints over it: the mean colour, then the preview scaled to
    cover. Empty for a transparent image, which would show it through."""
    if not record.opaque or not record.color:
        return ""
    preview = f" url({record.placeholder}) center / cover no-repeat" if record.placeholder else ""
    return f"background: {record.color}{preview}"


def picture_html(record: SourceRecord, sizes: str) -> str:
    """The ``<picture>`` element of one source: a ``<source>`` per modern format
    (best first) and an ``<img>`` fallback with its own srcset. Every name and
    attribute is HTML-escaped."""
    if not record.variants:
        msg = f"{record.name}: no variant to show"
        raise ValueError(msg)
    grouped = by_format(record.variants)
    fallback = fallback_format(grouped)
    esc = html.escape
    lines = ["<picture>"]
    for fmt in MODERN_FORMATS:
        if fmt in grouped and fmt != fallback:
            lines.append(
                f'  <source type="{FORMATS[fmt].mime}" srcset="{esc(srcset(grouped[fmt]))}" sizes="{esc(sizes)}">'
            )
    src = fallback_variant(grouped[fallback])
    placeholder = placeholder_style(record)
    style = f' style="{esc(placeholder)}"' if placeholder else ""
    lines.append(
        f'  <img src="{esc(src.url)}" srcset="{esc(srcset(grouped[fallback]))}" sizes="{esc(sizes)}"'
        f' width="{src.width}" height="{src.height}" alt="{esc(record.alt)}"'
        f' loading="lazy" decoding="async"{style}>'
    )
    lines.append("</picture>")
    return "\n".join(lines) + "\n"


def describe_source(
    source: Path,
    size: tuple[int, int],
    variant_paths: Iterable[Path],
    alt: str | None = None,
    base_url: str = "",
    drop: bool = False,
    name: str | None = None,
    versioned: bool = False,
    choices: Mapping[str, Mapping[str, Any]] | None = None,
) -> SourceRecord:
    """The record of one source: its identity and the variants a page may use.

    ``name`` is the source's path as the workflow knows it, where ``source`` is
    a local copy (with object storage); by default, ``source`` itself.
    ``choices``: the auto-quality choices of its variants, by file name.
    """
    variant_paths = [Path(p) for p in variant_paths]
    variants = describe_variants(variant_paths, base_url, versioned, choices)
    dropped: list[Variant] = []
    if drop:
        variants, dropped = drop_not_smaller(variants)
    known_as = Path(name) if name else source
    look = {}
    if variants or dropped:
        paths = {p.name: p for p in variant_paths}
        shown = placeholder_variant([(paths[v.path], v.width) for v in [*variants, *dropped]])
        look = describe_placeholder(shown)
    return SourceRecord(
        name=known_as.name,
        stem=known_as.stem,
        path=known_as.as_posix(),
        sha256=sha256_of(source),
        bytes=source.stat().st_size,
        width=size[0],
        height=size[1],
        alt=default_alt(source.stem) if alt is None else alt,
        variants=variants,
        dropped=dropped,
        **look,
    )


def manifest(records: Iterable[SourceRecord]) -> dict:
    """``manifest.json``: every source by stem, with its variants, a srcset per
    format and the ``<img>`` fallback the snippet uses (layout:
    rules/schemas/manifest.schema.json)."""
    sources = {}
    for r in sorted(records, key=lambda r: r.stem):
        grouped = by_format(r.variants)
        fallback = fallback_variant(grouped[fallback_format(grouped)]) if grouped else None
        sources[r.stem] = {
            "name": r.name,
            "path": r.path,
            "sha256": r.sha256,
            "bytes": r.bytes,
            "width": r.width,
            "height": r.height,
            "alt": r.alt,
            "color": r.color,
            "placeholder": r.placeholder,
            "opaque": r.opaque,
            "srcset": {fmt: srcset(grouped[fmt]) for fmt in sorted(grouped)},
            "fallback": variant_json(fallback) if fallback else None,
            "variants": [variant_json(v) for v in r.variants],
            "dropped": [variant_json(v) for v in r.dropped],
        }
    return {"version": MANIFEST_VERSION, "sources": sources}


REPORT_COLUMNS = (
    "scope", "source", "format", "width", "files", "source_bytes", "output_bytes", "ratio", "saved_bytes",
    "quality", "ssimulacra2",
)  # fmt: skip


def _ratio(output_bytes: int, source_bytes: int) -> str:
    return f"{output_bytes / source_bytes:.4f}" if source_bytes else ""


def size_report(records: Sequence[SourceRecord]) -> list[dict]:
    """Rows of ``report.csv``, in the spirit of the original compression report
    (total size before, after, and their ratio):

    - ``total``: all sources against all variants;
    - ``format`` and ``width``: the variants of one format or one width, against
      the sources that have them;
    - ``source``: per source and format, its widest variant (what a page shows
      instead of the original at full size), with the bytes it saves;
    - ``variant``: each ``quality: auto`` variant, with the quality chosen and
      its SSIMULACRA2 score.
    """
    rows = []

    def row(scope, files, source_bytes, output_bytes, source="", fmt="", width="", saved="", quality="", score=""):
        rows.append(
            {
                "scope": scope,
                "source": source,
                "format": fmt,
                "width": width,
                "files": files,
                "source_bytes": source_bytes,
                "output_bytes": output_bytes,
                "ratio": _ratio(output_bytes, source_bytes),
                "saved_bytes": saved,
                "quality": quality,
                "ssimulacra2": score,
            }
        )

    all_variants = [(r, v) for r in records for v in r.variants]
    row("total", len(all_variants), sum(r.bytes for r in records), sum(v.bytes for _, v in all_variants))
    for key, scope in ((lambda v: v.format, "format"), (lambda v: v.width, "width")):
        groups: dict = defaultdict(list)
        for record, variant in all_variants:
            groups[key(variant)].append((record, variant))
        for value in sorted(groups, key=lambda k: (isinstance(k, int), k)):
            pairs = groups[value]
            sources = {id(r): r.bytes for r, _ in pairs}
            row(
                scope,
                len(pairs),
                sum(sources.values()),
                sum(v.bytes for _, v in pairs),
                fmt=value if scope == "format" else "",
                width=value if scope == "width" else "",
            )
    for record in sorted(records, key=lambda r: r.name):
        widest: dict[str, Variant] = {}
        for variant in record.variants:
            if variant.format not in widest or variant.width > widest[variant.format].width:
                widest[variant.format] = variant
        for fmt in sorted(widest):
            variant = widest[fmt]
            row(
                "source",
                1,
                record.bytes,
                variant.bytes,
                source=record.name,
                fmt=fmt,
                width=variant.width,
                saved=record.bytes - variant.bytes,
            )
    for record in sorted(records, key=lambda r: r.name):
        for variant in record.variants:
            if variant.quality is not None:
                row(
                    "variant",
                    1,
                    record.bytes,
                    variant.bytes,
                    source=record.name,
                    fmt=variant.format,
                    width=variant.width,
                    quality=variant.quality,
                    score=f"{variant.ssimulacra2:.2f}",
                )
    return rows


def report_csv(rows: Iterable[Mapping]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=REPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def human_bytes(count: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if abs(count) < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} GB"


def report_summary(rows: Iterable[Mapping[str, str]], report: str = "report.csv") -> list[str]:
    """The lines a run prints about the size report, ``report``: totals and bytes per format."""
    rows = list(rows)
    total = next((r for r in rows if r["scope"] == "total"), None)
    if total is None or not int(total["files"]):
        return []
    formats = ", ".join(
        f"{r['format']} {human_bytes(int(r['output_bytes']))}" for r in rows if r["scope"] == "format"
    )
    lines = [
        f"Sizes: {human_bytes(int(total['source_bytes']))} of sources -> "
        f"{human_bytes(int(total['output_bytes']))} in {total['files']} variants "
        f"(ratio {float(total['ratio']):.2f}; {formats}).",
    ]
    saved = [r for r in rows if r["scope"] == "source"]
    if saved:
        per_format: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for r in saved:
            per_format[r["format"]][0] += int(r["source_bytes"])
            per_format[r["format"]][1] += int(r["output_bytes"])
        best = min(per_format, key=lambda f: per_format[f][1])
        before, after = per_format[best]
        lines.append(
            f"   widest {best} variants: {human_bytes(after)} for {human_bytes(before)} of sources "
            f"(ratio {after / before:.2f}); details in {report}"
        )
    return lines


def report_gallery_html(records: Sequence[SourceRecord], thumbnails: Sequence[Path]) -> str:
    """A self-contained gallery for ``snakemake --report``: one thumbnail per
    source, inlined as a data URI, and the table of its variants."""
    esc = html.escape
    parts = []
    for record, thumbnail in zip(records, thumbnails):
        fmt = parse_variant_name(thumbnail.name)[3]
        data = base64.b64encode(thumbnail.read_bytes()).decode("ascii")
        rows = "".join(
            f"<tr><td>{esc(v.path)}</td><td>{v.format}</td><td>{v.width}&times;{v.height}</td>"
            f"<td>{v.bytes:,}</td></tr>"
            for v in sorted(record.variants, key=lambda v: (v.format, -v.width))
        )
        parts.append(
            f"<h2>{esc(record.name)}</h2>\n"
            f'<img src="data:{FORMATS[fmt].mime};base64,{data}" alt="{esc(record.alt)}" style="max-width:100%">\n'
            f"<p>{record.width}&times;{record.height}, {record.bytes:,} bytes, sha256 {record.sha256[:16]}&hellip;</p>\n"
            "<table><tr><th>variant</th><th>format</th><th>size</th><th>bytes</th></tr>"
            f"{rows}</table>"
        )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8"><title>Gallery</title>'
        "<style>body{font-family:sans-serif} td,th{padding:0 .6em;text-align:left}</style></head>\n"
        "<body>\n" + "\n".join(parts) + "\n</body>\n</html>\n"
    )


def read_records(paths: Iterable[Path]) -> list[SourceRecord]:
    return [SourceRecord.from_json(json.loads(Path(p).read_text(encoding="utf-8"))) for p in paths]


def write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda handle: handle.write(text.encode("utf-8")))


# One function per rule of rules/web.smk: plain paths in, one file out, and
# the line the job logs.


def write_record(
    source: Path,
    size: tuple[int, int],
    variants: Sequence[Path],
    record_path: Path,
    alt: str | None = None,
    base_url: str = "",
    drop: bool = False,
    name: str | None = None,
    versioned: bool = False,
    choices: Sequence[Path] = (),
) -> str:
    """Write the record of ``source``; ``choices`` are the files in which
    scripts/auto_quality.py wrote the quality of its ``quality: auto``
    variants, each named after its variant with ``.json`` added."""
    chosen = {}
    for path in choices:
        choice = read_choice(path)
        chosen[Path(path).stem] = {"quality": choice["quality"], "ssimulacra2": choice["ssimulacra2"]}
    record = describe_source(
        source, size, variants, alt=alt, base_url=base_url, drop=drop, name=name, versioned=versioned, choices=chosen
    )
    write_text(record_path, json.dumps(record_json(record), indent=1) + "\n")
    return f"described {source}: {len(record.variants)} variants, {len(record.dropped)} dropped"


def write_snippet(record_path: Path, sizes: str, output: Path) -> str:
    (record,) = read_records([record_path])
    write_text(output, picture_html(record, sizes))
    return f"wrote {output}: {len(record.variants)} variants"


def write_manifest(record_paths: Sequence[Path], output: Path) -> str:
    records = read_records(record_paths)
    write_text(output, json.dumps(manifest(records), indent=1) + "\n")
    return f"wrote {output}: {len(records)} sources"


def write_report(record_paths: Sequence[Path], output: Path) -> str:
    rows = size_report(read_records(record_paths))
    write_text(output, report_csv(rows))
    return f"wrote {output}: {len(rows)} rows"


def write_report_gallery(record_paths: Sequence[Path], thumbnails: Sequence[Path], output: Path) -> str:
    records = read_records(record_paths)
    write_text(output, report_gallery_html(records, [Path(p) for p in thumbnails]))
    return f"wrote {output}: {len(records)} sources"

"""``index.html``: a contact sheet of every source, built from the records.

A grid of cards, one per source: its thumbnail (a ``<picture>`` sized for the
grid's columns), its name, size and bytes, and a chart of its variants' bytes
per width and format. Clicking a card opens a dialog that shows the source's
formats side by side at one width, with their bytes, and a choice of widths.

The chart is inline SVG made here; the dialog is a few lines of script that
read the page's own data block. The page loads nothing but the variants.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence

from pathlib import Path

from scripts.web import (
    FALLBACK_SRC_MAX_WIDTH,
    SourceRecord,
    Variant,
    by_format,
    human_bytes,
    picture_html,
    placeholder_style,
    read_records,
    write_text,
)

#: The thumbnails' ``sizes``: the grid's columns are at least 18rem and, from
#: 40rem of viewport on, never wider than 28rem; below that, one column spans
#: the viewport.
CARD_SIZES = "(min-width: 40rem) 28rem, 100vw"
#: One colour per format, in the chart and its legend.
FORMAT_COLOURS = {"avif": "#7b3fb6", "webp": "#1f77b4", "jpeg": "#e07b00", "png": "#2a9d3c"}
#: The chart's box, in SVG user units (it scales with the card).
CHART_WIDTH, CHART_HEIGHT = 300, 110
CHART_LEFT, CHART_BOTTOM, CHART_TOP = 34, 16, 6

STYLE = """\
*, *::before, *::after { box-sizing: border-box; }
body { margin: 0; font-family: system-ui, sans-serif; background: #f4f4f2; color: #222; }
main { max-width: 90rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.4rem; margin: 0 0 .3rem; }
.summary { margin: 0 0 1rem; color: #555; }
.sheet { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fill, minmax(min(100%, 18rem), 1fr)); }
.card { background: #fff; border-radius: .5rem; box-shadow: 0 1px 3px #0002; overflow: hidden; }
.card > a { display: block; color: inherit; text-decoration: none; }
.card > a:focus-visible { outline: 3px solid #1f77b4; }
.thumb { aspect-ratio: 3 / 2; background: #ddd; display: flex; }
.thumb picture { display: contents; }
.thumb img { width: 100%; height: 100%; object-fit: cover; }
.card h2 { font-size: 1rem; margin: .6rem .8rem 0; overflow-wrap: anywhere; }
.card p { margin: .2rem .8rem; font-size: .85rem; color: #555; }
.chart { display: block; width: 100%; height: auto; padding: 0 .4rem; }
.chart text { font-size: 8px; fill: #666; }
.chart line { stroke: #ddd; stroke-width: .5; }
.legend { display: flex; flex-wrap: wrap; gap: .2rem .8rem; margin: 0 .8rem .8rem; padding: 0;
  list-style: none; font-size: .8rem; }
.legend li::before { content: ""; display: inline-block; width: .7em; height: .7em; margin-right: .3em;
  background: var(--colour); }
dialog { width: min(96vw, 90rem); max-height: 94vh; padding: 1rem; border: 0; border-radius: .5rem; }
dialog::backdrop { background: #000a; }
dialog header { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; margin-bottom: .8rem; }
dialog h2 { font-size: 1.1rem; margin: 0; flex: 1 1 auto; overflow-wrap: anywhere; }
.formats { display: flex; flex-wrap: wrap; gap: 1rem; }
.formats figure { flex: 1 1 18rem; margin: 0; }
.formats img { display: block; width: 100%; height: auto; background: #ddd; }
.formats figcaption { font-size: .9rem; margin-top: .3rem; }
"""

SCRIPT = """\
const data = JSON.parse(document.getElementById("gallery-data").textContent);
const dialog = document.getElementById("compare");
const picker = dialog.querySelector("select");
let shown = null;
function showWidth(width) {
  const source = data[shown];
  const chosen = source.variants.filter(v => v.width === width);
  const heaviest = Math.max(...chosen.map(v => v.bytes));
  const row = dialog.querySelector(".formats");
  row.replaceChildren(...chosen.map(v => {
    const figure = document.createElement("figure");
    figure.dataset.format = v.format;
    const img = document.createElement("img");
    img.src = v.url; img.width = v.width; img.height = v.height;
    img.style.cssText = source.placeholder_style;
    img.alt = source.alt + " (" + v.format + ")";
    const caption = document.createElement("figcaption");
    caption.textContent = v.format + " \\u00b7 " + v.size + " \\u00b7 " +
      (v.bytes / heaviest).toFixed(2) + "\\u00d7 the heaviest";
    figure.append(img, caption);
    return figure;
  }));
}
function openCompare(stem) {
  const source = data[stem];
  if (!source) return;
  shown = stem;
  dialog.querySelector("h2").textContent = source.name + " \\u2014 " + source.width + "\\u00d7" + source.height;
  const widths = [...new Set(source.variants.map(v => v.width))].sort((a, b) => a - b);
  picker.replaceChildren(...widths.map(w => new Option(w + " px", w)));
  picker.value = source.compare_width;
  showWidth(source.compare_width);
  if (!dialog.open) dialog.showModal();
}
picker.addEventListener("change", () => showWidth(Number(picker.value)));
dialog.addEventListener("close", () => { shown = null; });
for (const link of document.querySelectorAll(".card > a")) {
  link.addEventListener("click", event => { event.preventDefault(); openCompare(link.dataset.stem); });
}
if (location.hash) openCompare(decodeURIComponent(location.hash.slice(1)));
"""


def compare_width(variants: Sequence[Variant]) -> int:
    """The width the dialog opens at: the widest that every format of the source
    has, no wider than the snippets' fallback (FALLBACK_SRC_MAX_WIDTH), or the
    narrowest common one if all are wider."""
    grouped = by_format(variants)
    common = sorted(set.intersection(*({v.width for v in vs} for vs in grouped.values())))
    if not common:
        common = sorted({v.width for v in variants})
    fitting = [w for w in common if w <= FALLBACK_SRC_MAX_WIDTH]
    return fitting[-1] if fitting else common[0]


def log_ticks(low: float, high: float) -> list[int]:
    """Powers of ten from the one at or below ``low`` to the one at or above ``high``."""
    first = math.floor(math.log10(max(low, 1)))
    last = max(math.ceil(math.log10(max(high, 1))), first + 1)
    return [10**exponent for exponent in range(first, last + 1)]


def tick_label(count: int) -> str:
    """A power of ten of bytes, short: ``100 B``, ``1 kB``, ``10 MB``."""
    for unit in ("B", "kB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count} {unit}"
        count //= 1000
    return f"{count} GB"


def bytes_chart(variants: Sequence[Variant]) -> str:
    """An SVG bar chart of the variants' bytes: one group of bars per width,
    narrowest on the left, one bar per format, on a log scale (a PNG can weigh
    thirty times its WebP). Each bar's title gives its variant and bytes."""
    if not variants:
        return ""
    widths = sorted({v.width for v in variants})
    formats = [fmt for fmt in FORMAT_COLOURS if any(v.format == fmt for v in variants)]
    ticks = log_ticks(min(v.bytes for v in variants), max(v.bytes for v in variants))
    low, high = math.log10(ticks[0]), math.log10(ticks[-1])
    plot_width = CHART_WIDTH - CHART_LEFT
    plot_height = CHART_HEIGHT - CHART_BOTTOM - CHART_TOP
    baseline = CHART_TOP + plot_height

    def y(count: int) -> float:
        return baseline - (math.log10(max(count, 1)) - low) / (high - low) * plot_height

    parts = [
        f'<svg class="chart" viewBox="0 0 {CHART_WIDTH} {CHART_HEIGHT}" role="img"'
        ' aria-label="bytes per width and format, log scale">'
    ]
    for tick in ticks:
        parts.append(
            f'<line x1="{CHART_LEFT}" x2="{CHART_WIDTH}" y1="{y(tick):.1f}" y2="{y(tick):.1f}"/>'
            f'<text x="{CHART_LEFT - 3}" y="{y(tick) + 3:.1f}" text-anchor="end">{tick_label(tick)}</text>'
        )
    group = plot_width / len(widths)
    bar = group * 0.8 / len(formats)
    by_width_and_format = {(v.width, v.format): v for v in variants}
    for index, width in enumerate(widths):
        left = CHART_LEFT + index * group + group * 0.1
        for slot, fmt in enumerate(formats):
            variant = by_width_and_format.get((width, fmt))
            if variant is None:
                continue
            top = y(variant.bytes)
            parts.append(
                f'<rect class="bar" data-format="{fmt}" data-width="{width}" data-bytes="{variant.bytes}"'
                f' x="{left + slot * bar:.1f}" y="{top:.1f}" width="{bar:.1f}" height="{baseline - top:.1f}"'
                f' fill="{FORMAT_COLOURS[fmt]}"><title>{fmt} {variant.width}&#215;{variant.height}:'
                f" {human_bytes(variant.bytes)}</title></rect>"
            )
    for index in sorted({0, len(widths) - 1}):
        anchor = "start" if index == 0 else "end"
        x = CHART_LEFT + (index + (0 if index == 0 else 1)) * group
        parts.append(f'<text x="{x:.1f}" y="{CHART_HEIGHT - 3}" text-anchor="{anchor}">{widths[index]} px</text>')
    parts.append("</svg>")
    return "".join(parts)


def legend(variants: Sequence[Variant]) -> str:
    """Each format's colour and the total bytes of its variants."""
    totals = {fmt: sum(v.bytes for v in vs) for fmt, vs in by_format(variants).items()}
    items = "".join(
        f'<li data-format="{fmt}" style="--colour: {FORMAT_COLOURS[fmt]}">{fmt} {human_bytes(totals[fmt])}</li>'
        for fmt in FORMAT_COLOURS
        if fmt in totals
    )
    return f'<ul class="legend">{items}</ul>'


def card_html(record: SourceRecord) -> str:
    """One source's card: thumbnail, name, size and bytes, chart and legend."""
    esc = html.escape
    thumbnail = picture_html(record, CARD_SIZES).rstrip() if record.variants else ""
    return (
        f'<article class="card" id="{esc(record.stem)}">'
        f'<a href="#{esc(record.stem)}" data-stem="{esc(record.stem)}">'
        f'<div class="thumb">{thumbnail}</div>'
        f"<h2>{esc(record.name)}</h2>"
        f"<p>{record.width}&#215;{record.height} &#183; {human_bytes(record.bytes)} &#183; "
        f"{len(record.variants)} variants</p>"
        f"{bytes_chart(record.variants)}</a>"
        f"{legend(record.variants)}</article>"
    )


def gallery_data(records: Sequence[SourceRecord]) -> dict:
    """What the dialog reads: each source's variants, by stem."""
    return {
        r.stem: {
            "name": r.name,
            "alt": r.alt,
            "width": r.width,
            "height": r.height,
            "compare_width": compare_width(r.variants) if r.variants else None,
            "placeholder_style": placeholder_style(r),
            "variants": [
                {
                    "format": v.format,
                    "width": v.width,
                    "height": v.height,
                    "url": v.url,
                    "bytes": v.bytes,
                    "size": human_bytes(v.bytes),
                }
                for v in sorted(r.variants, key=lambda v: (list(FORMAT_COLOURS).index(v.format), v.width))
            ],
        }
        for r in records
    }


def script_json(value: object) -> str:
    """JSON safe inside a ``<script>`` element (no ``</script>`` can close it)."""
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")


def gallery_html(records: Sequence[SourceRecord], title: str = "Responsive images") -> str:
    """The whole page: a heading with the totals, the grid of cards, the dialog."""
    esc = html.escape
    records = sorted(records, key=lambda r: r.stem)
    variants = [v for r in records for v in r.variants]
    summary = (
        f"{len(records)} sources &#183; {len(variants)} variants &#183; "
        f"{human_bytes(sum(r.bytes for r in records))} of sources &#8594; "
        f"{human_bytes(sum(v.bytes for v in variants))} of variants. Click a card to compare its formats."
    )
    cards = "\n".join(card_html(r) for r in records)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<link rel="icon" href="data:,">\n'
        f"<title>{esc(title)}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n<main>\n"
        f'<h1>{esc(title)}</h1>\n<p class="summary">{summary}</p>\n'
        f'<div class="sheet">\n{cards}\n</div>\n</main>\n'
        '<dialog id="compare"><header><h2></h2>'
        '<label>width <select name="width"></select></label>'
        '<form method="dialog"><button>Close</button></form></header>'
        '<div class="formats"></div></dialog>\n'
        f'<script type="application/json" id="gallery-data">{script_json(gallery_data(records))}</script>\n'
        f"<script>\n{SCRIPT}</script>\n</body>\n</html>\n"
    )


def write_gallery(record_paths: Sequence[Path], output: Path) -> str:
    """The gallery job: the records in, ``index.html`` out, and the line it logs."""
    records = read_records(record_paths)
    write_text(output, gallery_html(records))
    return f"wrote {output}: {len(records)} sources"

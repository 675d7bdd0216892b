// The same job done with sharp (libvips), as eleventy-img runs it: every
// source x every width (the source's own width instead of wider ones) x the
// formats, EXIF-rotated, sharp's default encoders, at most 10 at once (as
// eleventy-img queues them). Prints "N files S s png P webp W ..." (bytes).
//
//   PEER_DIR=FOLDER_WITH_SHARP node benchmarks/peer_sharp.mjs SRC_DIR OUT_DIR WIDTHS FORMATS
//
// WIDTHS and FORMATS are comma-separated (benchmarks/compare.py passes the
// workflow's config).
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const require = createRequire(process.env.PEER_DIR + "/");
const sharp = require("sharp");
const [src, out, widthList, formatList] = process.argv.slice(2);
const widths = widthList.split(",").map(Number);
const formats = formatList.split(",");
fs.mkdirSync(out, { recursive: true });
const t0 = performance.now();
const files = fs.readdirSync(src).filter((f) => /\.(jpe?g|png|webp|tiff?)$/i.test(f)).sort();
const tasks = [];
for (const f of files) {
  const meta = await sharp(path.join(src, f)).metadata();
  const w0 = meta.autoOrient ? meta.autoOrient.width : meta.width;
  for (const w of new Set(widths.map((w) => Math.min(w, w0)))) {
    for (const fmt of formats) {
      const name = `${path.parse(f).name}_${w}.${fmt}`;
      tasks.push(() => sharp(path.join(src, f)).rotate().resize(w)[fmt]().toFile(path.join(out, name)));
    }
  }
}
let next = 0;
await Promise.all(Array.from({ length: 10 }, async () => { while (next < tasks.length) await tasks[next++](); }));
const seconds = (performance.now() - t0) / 1000;
const bytes = Object.fromEntries(formats.map((fmt) => [fmt, 0]));
for (const f of fs.readdirSync(out)) {
  const fmt = path.extname(f).slice(1);
  if (fmt in bytes) bytes[fmt] += fs.statSync(path.join(out, f)).size;
}
console.log(`${tasks.length} files ${seconds.toFixed(2)} s ` + formats.map((fmt) => `${fmt} ${bytes[fmt]}`).join(" "));

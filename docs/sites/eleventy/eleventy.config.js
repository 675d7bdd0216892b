// A minimal Eleventy site that shows the workflow's images (docs/sites/eleventy.md).
// The workflow writes into img/ (output_dir): the variants, manifest.json and
// one <picture> snippet per source in img/html/{stem}.html.
const fs = require("node:fs");
const path = require("node:path");

const IMAGES = "img";

module.exports = function (eleventyConfig) {
  // The variants are served as they are, at /img/ (the workflow's web.base_url).
  eleventyConfig.addPassthroughCopy(`${IMAGES}/*.{avif,webp,jpeg,png}`);
  // The snippets and the workflow's own gallery are not templates of this site.
  eleventyConfig.ignores.add(`${IMAGES}/**`);

  // {% picture "storm" %}: the workflow's snippet for one source, as it is.
  eleventyConfig.addShortcode("picture", (stem) => {
    const snippet = path.join(IMAGES, "html", `${stem}.html`);
    if (!fs.existsSync(snippet)) {
      throw new Error(`picture: no snippet for "${stem}" (${snippet}); run the workflow first`);
    }
    return fs.readFileSync(snippet, "utf8");
  });

  // The manifest, as global data: every source by stem.
  eleventyConfig.addGlobalData("images", () =>
    JSON.parse(fs.readFileSync(path.join(IMAGES, "manifest.json"), "utf8")),
  );
};

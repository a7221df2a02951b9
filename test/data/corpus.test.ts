// The corpus builder on a small subset of the npm sources: a dataset every loader reads back, with
// attribution; a renderer that kills its process on one input costs that item only.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import sharp from "sharp";
import type { BuildOptions } from "../../packages/corpus/src/build-corpus.ts";
import { buildCorpus } from "../../packages/corpus/src/build-corpus.ts";
import { openDataset, splitOf } from "../../packages/glide-ts/src/data/index.ts";
import { keysOf, take, withTempDir, writeFile } from "./helpers.ts";

const CRASHING_RENDERER = fileURLToPath(new URL("./fixtures/crashing-renderer.ts", import.meta.url));
const LICENCES: Record<string, string> = {
  shapes: "CC0 1.0",
  openmoji: "CC BY-SA 4.0",
  noto: "Apache 2.0",
  "fluent-emoji": "MIT",
  twemoji: "CC BY 4.0",
};

/** Collects what the builder writes to stderr. */
function sink() {
  const lines: string[] = [];
  return { lines, write: (text: string) => lines.push(text), isTTY: false };
}

const readJsonl = (path: string) =>
  readFileSync(path, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, string>);

describe("corpus builder", () => {
  test("36 items from the shapes and npm sources: images, captions, manifests, split and attribution", async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, "corpus");
      const stderr = sink();
      const options: BuildOptions = {
        outDir: out,
        sizes: [16, 32],
        limit: 36,
        shapes: { count: 200, seed: 1 },
        validationFraction: 0.3,
        workers: 2,
        openclipartDir: join(dir, "no-openclipart-here"),
        stderr,
      };
      const summary = await buildCorpus(options);
      const text = stderr.lines.join("");
      assert.match(text, /warning: openclipart: .*no-openclipart-here not found \(install Debian's openclipart-svg/);
      assert.match(text, /rendering: 36 items in/, "progress reaches the end");
      assert.equal(summary.total, 36, "every selected item is kept (emoji do not collide)");
      assert.equal(summary.train + summary.validation, 36, "train and validation cover the corpus");
      assert.ok(
        summary.validation > 0 && summary.train > 0,
        `both splits are used: ${summary.train}/${summary.validation}`,
      );
      for (const source of Object.keys(LICENCES)) {
        assert.ok((summary.sources as Record<string, { kept: number }>)[source]!.kept >= 7, `${source} is represented`);
      }
      assert.deepEqual(readdirSync(dir).sort(), ["corpus"], "no temporary folder is left beside the output");

      const all = readJsonl(join(out, "32", "all.jsonl"));
      assert.equal(all.length, 36, "all.jsonl lists every pair");
      for (const row of all) {
        assert.equal(row.image, `${splitOf(row.key!, 0.3)}/${row.key}.png`, `${row.key}: stored under its split`);
        assert.ok(
          row.caption && !/[-_]/.test(row.caption.replace(/medium-(light|dark)/g, "")),
          `readable: ${row.caption}`,
        );
      }
      const attribution = readJsonl(join(out, "attribution.jsonl"));
      assert.deepEqual(attribution.map((a) => a.key).sort(), keysOfRows(all), "one attribution entry per pair");
      for (const a of attribution) assert.equal(a.license, LICENCES[a.source!], `${a.key}: the source's licence`);
      const notice = readFileSync(join(out, "ATTRIBUTION.md"), "utf8");
      for (const licence of Object.values(LICENCES))
        assert.ok(notice.includes(licence), `ATTRIBUTION.md names ${licence}`);

      const png = await sharp(join(out, "32", all[0]!.image!)).metadata();
      assert.deepEqual([png.width, png.height, png.format], [32, 32, "png"], "square PNGs at the requested size");

      const folder = await openDataset(join(out, "32", "train"), { resolution: 32, epochs: 1 });
      const fromFolder = await take(folder, 100);
      assert.equal(fromFolder.length, summary.train, "the train folder reads back");
      const byKey = new Map(all.map((row) => [row.key, row.caption]));
      for (const s of fromFolder) assert.equal(s.caption, byKey.get(s.key), `${s.key}: caption from its .txt`);
      const manifest = await openDataset(join(out, "16", "validation.jsonl"), { resolution: 16, epochs: 1 });
      assert.equal((await take(manifest, 100)).length, summary.validation, "the validation manifest reads back");
      const held = await openDataset(join(out, "16", "all.jsonl"), {
        resolution: 16,
        epochs: 1,
        split: { split: "validation", validationFraction: 0.3 },
      });
      assert.deepEqual(
        keysOf(await take(held, 100)).sort(),
        all
          .filter((r) => r.image!.startsWith("validation/"))
          .map((r) => r.key)
          .sort(),
        "holding out the same fraction of all.jsonl by key hash gives the corpus's validation split",
      );

      await assert.rejects(buildCorpus(options), /corpus already exists \(pass --force to replace it\)/);
    });
  });

  test("openclipart layout: metadata captions, crop to the drawing, repairs, exclusions, unique keys", async () => {
    await withTempDir(async (dir) => {
      const root = join(dir, "svg");
      await writeFile(
        join(root, "animals", "birds", "eagle_jane_painter_01.svg"),
        clipart({ title: "Golden Eagle", keywords: ["bird", "jane painter"], xmlns: false }),
      );
      symlinkSync(join(root, "animals", "birds", "eagle_jane_painter_01.svg"), join(root, "animals", "eagle.svg"));
      await writeFile(
        join(root, "icons", "viewmag+.svg"),
        clipart({ title: "Part of the Flat Icon Collection", x: 300, fill: "#00ff00" }),
      );
      await writeFile(
        join(root, "icons", "viewmag-.svg"),
        clipart({ title: "Part of the Flat Icon Collection", x: 500, fill: "#0000ff" }),
      );
      await writeFile(
        join(root, "misc", "gpl.svg"),
        clipart({ title: "Copyleft", license: "http://creativecommons.org/licenses/GPL/2.0/" }),
      );
      await writeFile(
        join(root, "misc", "stray.svg"),
        clipart({ title: "Red Square", fill: "#ffff00", extra: '<rect x="0" y="-90000" width="5" height="5"/>' }),
      );
      const summary = await buildCorpus({
        outDir: join(dir, "out"),
        sizes: [32],
        sources: ["openclipart"],
        openclipartDir: root,
        validationFraction: 0,
        workers: 1,
        stderr: sink(),
      });
      const counts = summary.sources.openclipart!;
      assert.equal(counts.excluded, 1, "the GPL drawing is left out");
      assert.equal(counts.collected, 4, "the symlinked copy counts once");
      const rows = readJsonl(join(dir, "out", "32", "all.jsonl"));
      const captions = Object.fromEntries(rows.map((r) => [r.key, r.caption]));
      assert.equal(
        captions["openclipart/animals--birds--eagle_jane_painter_01"],
        "a golden eagle, bird",
        "title and keyword",
      );
      assert.equal(captions["openclipart/misc--stray"], "a red square", 'no keywords, and "misc" says nothing');
      const icons = rows.filter((r) => r.key!.startsWith("openclipart/icons--viewmag"));
      assert.equal(
        new Set(icons.map((r) => r.key)).size,
        2,
        `punctuation-only differences keep distinct keys: ${rows.map((r) => r.key)}`,
      );
      const colors: Record<string, number[]> = {
        "openclipart/animals--birds--eagle_jane_painter_01": [255, 0, 0],
        [icons[0]!.key!]: [0, 255, 0],
        [icons[1]!.key!]: [0, 0, 255],
      };
      const pixels = async (key: string) => {
        const row = rows.find((r) => r.key === key)!;
        return sharp(join(dir, "out", "32", row.image!))
          .raw()
          .toBuffer();
      };
      for (const [key, color] of Object.entries(colors)) {
        const data = await pixels(key);
        const middle = (16 * 32 + 16) * 3;
        assert.deepEqual([...data.subarray(0, 3)], [255, 255, 255], `${key}: a white margin`);
        assert.deepEqual([...data.subarray(middle, middle + 3)], color, `${key}: cropped to its square`);
      }
      // A shape far off the page would shrink the drawing to nothing if the crop followed it.
      const stray = await pixels("openclipart/misc--stray");
      let yellow = 0;
      for (let i = 0; i < stray.length; i += 3)
        if (stray[i]! > 200 && stray[i + 1]! > 200 && stray[i + 2]! < 60) yellow++;
      assert.ok(yellow >= 16, `the stray file's square is visible (${yellow} yellow pixels)`);
    });
  });

  test("a renderer that kills its process on one item fails that item only", async () => {
    await withTempDir(async (dir) => {
      const options = (out: string): BuildOptions => ({
        outDir: join(dir, out),
        sizes: [16],
        sources: ["noto", "twemoji"],
        limit: 6,
        validationFraction: 0,
        workers: 2,
        stderr: sink(),
      });
      const clean = await buildCorpus(options("clean"));
      assert.equal(clean.total, 6, "six items without crashes");
      const keys = keysOfRows(readJsonl(join(dir, "clean", "16", "all.jsonl")));
      const victim = keys[2]!;
      process.env.GLIDE_TEST_CRASH_KEYS = victim;
      try {
        const summary = await buildCorpus({ ...options("crashy"), rendererModule: CRASHING_RENDERER });
        assert.equal(summary.total, 5, "the build finishes with the other five");
      } finally {
        delete process.env.GLIDE_TEST_CRASH_KEYS;
      }
      const kept = keysOfRows(readJsonl(join(dir, "crashy", "16", "all.jsonl")));
      assert.deepEqual(
        kept,
        keys.filter((k) => k !== victim),
        "every other item is rendered",
      );
      const failures = readFileSync(join(dir, "crashy", "failures.log"), "utf8");
      const [source, id] = victim.split("/");
      assert.match(failures, new RegExp(`^${source}\\t${id}\\t.*\\trenderer process died \\(SIGKILL\\)`, "m"));
      assert.ok(!existsSync(join(dir, "crashy", "16", "train", `${victim}.png`)), "no image for the failed item");
    });
  });
});

/** A minimal openclipart-style SVG: Dublin Core metadata and one red square somewhere on an A4 page. */
function clipart(options: {
  title: string;
  keywords?: string[];
  license?: string;
  xmlns?: boolean;
  x?: number;
  fill?: string;
  extra?: string;
}) {
  const { title, keywords = [], license = "http://web.resource.org/cc/PublicDomain", xmlns = true, x = 100 } = options;
  const fill = options.fill ?? "#ff0000";
  const ns = xmlns ? ' xmlns="http://www.w3.org/2000/svg"' : "";
  return `<?xml version="1.0"?>
<svg${ns} width="744" height="1052"><metadata><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
 xmlns:cc="http://web.resource.org/cc/" xmlns:dc="http://purl.org/dc/elements/1.1/"><cc:Work rdf:about="">
<dc:title>${title}</dc:title><dc:subject><rdf:Bag>${keywords.map((k) => `<rdf:li>${k}</rdf:li>`).join("")}</rdf:Bag></dc:subject>
<dc:creator><cc:Agent><dc:title>Jane Painter</dc:title></cc:Agent></dc:creator><cc:license rdf:resource="${license}"/>
</cc:Work></rdf:RDF></metadata><rect x="${x}" y="200" width="50" height="50" fill="${fill}"/>${options.extra ?? ""}</svg>`;
}

function keysOfRows(rows: Record<string, string>[]): string[] {
  return rows.map((r) => r.key!).sort();
}

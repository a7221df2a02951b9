// The synthetic shapes source: deterministic for a seed, the held-out colour–shape pairs never
// drawn, and captions that match the rendered pixels (colour, place, size; left/above in scenes).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import sharp from "sharp";
import { buildCorpus } from "../../packages/corpus/src/build-corpus.ts";
import { loadShapes } from "../../packages/corpus/src/shapes.ts";
import { nearestShapeColour } from "../../packages/eval/src/caption-probe.ts";
import { shapePolygons } from "../../packages/glide-ts/src/data/shapes/geometry.ts";
import { generateShapeScenes } from "../../packages/glide-ts/src/data/shapes/scenes.ts";
import {
  HELD_OUT_PAIRS,
  PLACE_NAMES,
  PLACE_PHRASES,
  placeOfPoint,
  SHAPE_COLOUR_NAMES,
  SHAPE_NAMES,
  type ShapeColour,
  type ShapeName,
} from "../../packages/glide-ts/src/data/shapes/vocabulary.ts";
import { glide } from "../cli/glide-cli.ts";
import { withTempDir } from "./helpers.ts";

const SINGLE = new RegExp(
  `^(?:a )?(?:(small|big) )?(${SHAPE_COLOUR_NAMES.join("|")}) (${SHAPE_NAMES.join("|")})(?: (${Object.values(PLACE_PHRASES).join("|")}))?$`,
);
const PAIR = /^a (\w+) (\w+) (left of|to the right of|above|below) a (\w+) (\w+)$/;

test("the same seed gives the same pictures and captions; another seed others", () => {
  const a = loadShapes({ count: 300, seed: 4 });
  const b = loadShapes({ count: 300, seed: 4 });
  const c = loadShapes({ count: 300, seed: 5 });
  assert.deepEqual(a.items, b.items);
  assert.notDeepEqual(
    a.items.map((i) => i.svg),
    c.items.map((i) => i.svg),
  );
  assert.equal(new Set(a.items.map((i) => i.id)).size, 300, "ids are unique");
  assert.ok(
    a.items.every((i) => /^[a-z0-9_-]+$/.test(i.id)),
    "ids are filename-safe",
  );
});

test("captions are in the corpus's words, a third are two-object scenes, and no held-out pair is ever drawn", () => {
  const scenes = generateShapeScenes({ count: 5000, seed: 1 });
  let pairs = 0;
  for (const scene of scenes) {
    const single = SINGLE.exec(scene.caption);
    const pair = PAIR.exec(scene.caption);
    assert.ok(single || pair, `caption in the corpus's words: ${scene.caption}`);
    if (pair) pairs++;
    assert.equal(scene.shapes.length, pair ? 2 : 1, scene.caption);
    for (const shape of scene.shapes) {
      assert.ok(
        !HELD_OUT_PAIRS.some(([colour, name]) => shape.colour === colour && shape.shape === name),
        `held-out pair drawn: ${shape.colour} ${shape.shape} (${scene.caption})`,
      );
    }
  }
  assert.ok(pairs > 0.3 * scenes.length && pairs < 0.4 * scenes.length, `${pairs} scenes of two`);
  // Every word is used.
  const words = new Set(scenes.flatMap((s) => s.caption.split(" ")));
  for (const word of [
    ...SHAPE_COLOUR_NAMES,
    ...SHAPE_NAMES,
    "small",
    "big",
    "left",
    "right",
    "top",
    "bottom",
    "middle",
  ]) {
    assert.ok(words.has(word), `the word ${word} appears`);
  }
});

test("placeShare sets how many one-object captions name the place; unset, the shipped corpus's 2 in 5", () => {
  const namedShare = (placeShare?: number) => {
    const singles = generateShapeScenes({ count: 4000, seed: 3, placeShare }).filter((s) => s.words.kind === "single");
    const named = singles.filter((s) => s.words.kind === "single" && s.words.place !== undefined);
    for (const scene of named)
      assert.match(scene.caption, / (in the middle|on the left|on the right|at the top|at the bottom)$/);
    return named.length / singles.length;
  };
  const shipped = namedShare();
  assert.ok(Math.abs(shipped - 0.4) < 0.04, `unset: ${shipped}`);
  assert.equal(namedShare(1), 1);
  assert.equal(namedShare(0), 0);
  const most = namedShare(0.8);
  assert.ok(Math.abs(most - 0.8) < 0.04, `0.8: ${most}`);
  // Unset keeps the shipped corpus's pictures and captions exactly (the first of its corpus.json's pairs).
  assert.deepEqual(
    generateShapeScenes({ count: 4, seed: 1 }).map((s) => s.caption),
    ["a small green square at the bottom", "a black diamond", "a big black ring at the top", "a big brown triangle"],
  );
});

test("each scene's words are its caption's, and true of its shapes before rendering", () => {
  for (const scene of generateShapeScenes({ count: 2000, seed: 2 })) {
    const { words, shapes } = scene;
    if (words.kind === "single") {
      const single = SINGLE.exec(scene.caption);
      assert.ok(single, scene.caption);
      const [, size, colour, shape, phrase] = single;
      assert.deepEqual(
        [words.size, words.colour, words.shape, words.place && PLACE_PHRASES[words.place]],
        [size, colour, shape, phrase],
        scene.caption,
      );
      const [placed] = shapes;
      assert.equal(shapes.length, 1);
      assert.deepEqual([placed!.colour, placed!.shape], [colour, shape], scene.caption);
      if (words.place) assert.equal(placeOfPoint(placed!.cx, placed!.cy), words.place, scene.caption);
      if (words.size) assert.equal(placed!.side < 0.48 ? "small" : "big", words.size, scene.caption);
    } else {
      const { first, relation, second } = words;
      assert.equal(scene.caption, `a ${first.colour} ${first.shape} ${relation} a ${second.colour} ${second.shape}`);
      const find = (o: typeof first) => shapes.find((p) => p.colour === o.colour && p.shape === o.shape)!;
      const [a, b] = [find(first), find(second)];
      assert.ok(a && b && a !== b, scene.caption);
      const ok = {
        "left of": a.cx < b.cx,
        "to the right of": a.cx > b.cx,
        above: a.cy < b.cy,
        below: a.cy > b.cy,
      }[relation];
      assert.ok(ok, scene.caption);
    }
  }
});

/** The height of a shape's outline at side 1. */
function outlineHeight(shape: ShapeName): number {
  const ys = shapePolygons({ shape, colour: "red", cx: 0, cy: 0, side: 1 })
    .flat()
    .map(([, y]) => y);
  return Math.max(...ys) - Math.min(...ys);
}

/** The bounding box (0…1 units) of a picture's clearly drawn pixels. */
function drawnBox(pixels: Buffer, side: number) {
  const box = { x0: 1, x1: 0, y0: 1, y1: 0 };
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const i = (y * side + x) * 3;
      if (Math.min(pixels[i]!, pixels[i + 1]!, pixels[i + 2]!) > 200) continue;
      box.x0 = Math.min(box.x0, x / side);
      box.x1 = Math.max(box.x1, (x + 1) / side);
      box.y0 = Math.min(box.y0, y / side);
      box.y1 = Math.max(box.y1, (y + 1) / side);
    }
  }
  return box;
}

function colourOf(pixels: Buffer, side: number, region: (x: number, y: number) => boolean): ShapeColour {
  // The darkest third of the region's drawn pixels: the solid inside, not the anti-aliased edge.
  const inks: { ink: number; rgb: number[] }[] = [];
  for (let y = 0; y < side; y++)
    for (let x = 0; x < side; x++) {
      const i = (y * side + x) * 3;
      const rgb = [pixels[i]!, pixels[i + 1]!, pixels[i + 2]!];
      if (region(x, y) && Math.min(...rgb) < 200) inks.push({ ink: 255 - Math.min(...rgb), rgb });
    }
  inks.sort((a, b) => b.ink - a.ink);
  const top = inks.slice(0, Math.max(1, Math.floor(inks.length / 3)));
  const mean = [0, 1, 2].map((c) => top.reduce((s, p) => s + p.rgb[c]!, 0) / top.length);
  return nearestShapeColour(mean);
}

test("built through glide data build: each caption matches its rendered pixels", async () => {
  await withTempDir(async (dir) => {
    const out = join(dir, "corpus");
    const summary = await buildCorpus({
      outDir: out,
      sizes: [32],
      sources: ["shapes"],
      shapes: { count: 160, seed: 3 },
      validationFraction: 0.1,
      workers: 1,
      stderr: { write: () => true, isTTY: false },
    });
    assert.equal(summary.total, 160, "every picture is kept, shared captions and all");
    assert.deepEqual([summary.sources.shapes?.captionDuplicates, summary.sources.shapes?.imageDuplicates], [0, 0]);
    const notice = readFileSync(join(out, "ATTRIBUTION.md"), "utf8");
    assert.match(notice, /CC0 1\.0/);
    assert.match(notice, /Drawn by glide-ts itself from seed 3/);
    const rows = readFileSync(join(out, "32", "all.jsonl"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { image: string; caption: string });
    let checked = 0;
    for (const row of rows) {
      const { data } = await sharp(join(out, "32", row.image))
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      const single = SINGLE.exec(row.caption);
      if (single) {
        const [, size, colour, shape, phrase] = single;
        assert.equal(
          colourOf(data, 32, () => true),
          colour,
          row.caption,
        );
        const box = drawnBox(data, 32);
        const place = PLACE_NAMES.find((p) => PLACE_PHRASES[p] === phrase);
        if (place) assert.equal(placeOfPoint((box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2), place, row.caption);
        // The shape's side from its drawn height (small 0.36, big 0.6, each ±10 %; a pixel of slack).
        const side = (box.y1 - box.y0 - 1 / 32) / outlineHeight(shape as ShapeName);
        if (size === "small") assert.ok(side < 0.44, `${row.caption}: side ${side}`);
        if (size === "big") assert.ok(side > 0.47, `${row.caption}: side ${side}`);
      } else {
        const [, c1, , relation, c2] = PAIR.exec(row.caption)!;
        // "A left of B": A's colour on the left half; "B to the right of A": B on the right half.
        const halves: Record<string, [(x: number, y: number) => boolean, (x: number, y: number) => boolean]> = {
          "left of": [(x) => x < 16, (x) => x >= 16],
          "to the right of": [(x) => x >= 16, (x) => x < 16],
          above: [(_, y) => y < 16, (_, y) => y >= 16],
          below: [(_, y) => y >= 16, (_, y) => y < 16],
        };
        const [first, second] = halves[relation!]!;
        assert.equal(colourOf(data, 32, first), c1, `${row.caption}: the first-named object's side`);
        assert.equal(colourOf(data, 32, second), c2, `${row.caption}: the second-named object's side`);
      }
      checked++;
    }
    assert.equal(checked, 160);
  });
});

test("glide data build refuses a bad --shapes count or --shapes-seed with one line", async () => {
  for (const [option, bad] of [
    ["--shapes", "0"],
    ["--shapes", "-3"],
    ["--shapes", "x"],
    ["--shapes-seed", "-1"],
    ["--shapes-place-share", "1.5"],
  ] as const) {
    const r = glide("data", "build", "/nonexistent-out", option, bad);
    assert.equal(r.code, 1, bad);
    assert.match(r.stderr, new RegExp(`${option} `), bad);
    assert.ok(r.stderr.trim().split("\n").length <= 2, r.stderr);
  }
  // The library refuses them too, before loading any source.
  for (const shapes of [
    { count: 0, seed: 1 },
    { count: 2.5, seed: 1 },
    { count: 10, seed: -1 },
    { count: 10, seed: 1, placeShare: -0.1 },
  ]) {
    await assert.rejects(
      buildCorpus({ outDir: "/nonexistent-out", sources: ["shapes"], shapes }),
      /--shapes(-seed|-place-share)? must be/,
    );
  }
});

// The caption probe's reading of samples (src/eval/caption-probe.ts), on the shapes corpus's own
// drawings, whose colour, shape and place are known; and its figures from known readings.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  backgroundOf,
  PROBE_PROMPTS,
  type ProbeRow,
  probeFigures,
  probeMetrics,
  readShapeSample,
  WHITE_BACKGROUND,
} from "../../packages/eval/src/caption-probe.ts";
import { placeShape, rasterizeScene } from "../../packages/glide-ts/src/data/shapes/geometry.ts";
import {
  HELD_OUT_PAIRS,
  PLACE_NAMES,
  SHAPE_COLOUR_NAMES,
  SHAPE_NAMES,
  SHAPE_SIZE_NAMES,
} from "../../packages/glide-ts/src/data/shapes/vocabulary.ts";

function readAll(side: number, colours: readonly (typeof SHAPE_COLOUR_NAMES)[number][]) {
  let n = 0;
  const right = { colour: 0, shape: 0, place: 0 };
  for (const colour of colours)
    for (const shape of SHAPE_NAMES)
      for (const size of SHAPE_SIZE_NAMES)
        for (const place of PLACE_NAMES) {
          const reading = readShapeSample(rasterizeScene([placeShape(shape, colour, size, place)], side), side);
          n++;
          if (reading.colour === colour) right.colour++;
          if (reading.shape === shape) right.shape++;
          if (reading.place === place) right.place++;
        }
  return { colour: right.colour / n, shape: right.shape / n, place: right.place / n };
}

test("the corpus's drawings are read right: colour and place always, shape nearly always at 32 px", () => {
  // Every colour once, on every shape, size and place (the extremes of the palette: black, gray, yellow).
  const at32 = readAll(32, ["black", "gray", "yellow", "pink", "brown"]);
  assert.equal(at32.colour, 1);
  assert.equal(at32.place, 1);
  // Small diamonds (9 × 11 pixels) read as circles at 32 px: the reader's own ceiling there.
  assert.ok(at32.shape >= 0.9, `shape ${at32.shape}`);
  const at64 = readAll(64, ["red", "blue", "green"]);
  assert.deepEqual(at64, { colour: 1, shape: 1, place: 1 });
});

test("a blank or nearly blank sample reads as none; a coloured wash has a colour but no shape", () => {
  const white = new Uint8Array(32 * 32 * 3).fill(255);
  assert.deepEqual(readShapeSample(white, 32), {
    colour: "none",
    shape: "none",
    place: "none",
    shapeIou: 0,
    background: 255,
  });
  const speck = white.slice();
  speck.set([0, 0, 0], (5 * 32 + 5) * 3);
  assert.equal(readShapeSample(speck, 32).colour, "none");
  // A blue wash over the whole picture with a white cross-shaped gap: no outline fits it well.
  const wash = new Uint8Array(32 * 32 * 3);
  for (let i = 0; i < 32 * 32; i++) {
    const gap = i % 32 === 16 || Math.floor(i / 32) === 16 || (i % 7 === 0 && i % 3 === 0);
    wash.set(gap ? [255, 255, 255] : [30, 80, 220], i * 3);
  }
  const reading = readShapeSample(wash, 32);
  assert.equal(reading.colour, "blue");
  assert.equal(reading.place, "middle");
});

test("the background: the median darkest channel of the edge pixels; white on the corpus's drawings", () => {
  // Every corpus drawing at 32 px, at every place (the sides touch the edge least of all): white.
  for (const shape of SHAPE_NAMES) {
    for (const place of PLACE_NAMES) {
      const drawing = rasterizeScene([placeShape(shape, "black", "big", place)], 32);
      assert.equal(readShapeSample(drawing, 32).background, 255, `${shape} ${place}`);
    }
  }
  // A light grey wash (a tint in one channel): its darkest channel, below the white threshold.
  const wash = new Uint8Array(32 * 32 * 3);
  for (let i = 0; i < 32 * 32; i++) wash.set([240, 236, 228], i * 3);
  assert.equal(backgroundOf(wash, 32), 228);
  assert.ok(backgroundOf(wash, 32) < WHITE_BACKGROUND);
  // A ring of 124 pixels: a dark object covering 61 of them moves the median to the 62nd and 63rd
  // brightest (both white), 63 of them to the dark value.
  const ring: number[] = [];
  for (let y = 0; y < 32; y++)
    for (let x = 0; x < 32; x++) if (x === 0 || y === 0 || x === 31 || y === 31) ring.push(y * 32 + x);
  assert.equal(ring.length, 124);
  const touching = new Uint8Array(32 * 32 * 3).fill(255);
  for (const p of ring.slice(0, 61)) touching.set([0, 0, 0], p * 3);
  assert.equal(backgroundOf(touching, 32), 255);
  for (const p of ring.slice(0, 63)) touching.set([0, 0, 0], p * 3);
  assert.equal(backgroundOf(touching, 32), 0);
});

test("the prompt set covers every colour, shape, held-out pair and side place", () => {
  assert.deepEqual(new Set(PROBE_PROMPTS.map((p) => p.colour)), new Set(SHAPE_COLOUR_NAMES));
  assert.deepEqual(new Set(PROBE_PROMPTS.map((p) => p.shape)), new Set(SHAPE_NAMES));
  for (const [colour, shape] of HELD_OUT_PAIRS) {
    assert.ok(
      PROBE_PROMPTS.some((p) => p.colour === colour && p.shape === shape && p.heldOut),
      `${colour} ${shape}`,
    );
  }
  assert.deepEqual(PROBE_PROMPTS.flatMap((p) => (p.place ? [p.place] : [])).sort(), ["bottom", "left", "right", "top"]);
  assert.equal(PROBE_PROMPTS.filter((p) => p.heldOut).length, HELD_OUT_PAIRS.length);
});

test("figures: shares of samples right, held-out pairs and places counted on their own prompts", () => {
  const reading = (colour: string, shape: string, place: string) =>
    ({ colour, shape, place, shapeIou: 0.5, background: place === "left" ? 230 : 250 }) as ProbeRow["readings"][number];
  const rows: ProbeRow[] = [
    {
      prompt: "a red heart",
      colour: "red",
      shape: "heart",
      place: null,
      heldOut: false,
      readings: [reading("red", "heart", "middle"), reading("blue", "heart", "left")],
    },
    {
      prompt: "a blue star",
      colour: "blue",
      shape: "star",
      place: null,
      heldOut: true,
      readings: [reading("blue", "circle", "middle"), reading("blue", "star", "middle")],
    },
    {
      prompt: "a red square on the left",
      colour: "red",
      shape: "square",
      place: "left",
      heldOut: false,
      readings: [reading("red", "square", "left"), reading("none", "none", "none")],
    },
  ];
  const figures = probeFigures(rows);
  assert.deepEqual(figures, {
    colour: 4 / 6,
    shape: 4 / 6,
    place: 1 / 2,
    heldOutColour: 1,
    heldOutShape: 1 / 2,
    whiteBackground: 4 / 6, // the two readings placed "left" have a grey (230) background
    samples: 6,
  });
  assert.deepEqual(probeMetrics(figures), {
    colour: 4 / 6,
    shape: 4 / 6,
    place: 0.5,
    held_out_colour: 1,
    held_out_shape: 0.5,
    white_background: 4 / 6,
    samples: 6,
  });
});

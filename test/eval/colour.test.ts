// The colour test's measurement on synthetic pictures: a coloured shape on white is its colour,
// white, grey and a few stray pixels are "none", and the verdicts count majorities.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  COLOUR_NAMES,
  COLOUR_PROMPTS,
  type ColourName,
  colourFigure,
  colourRow,
  dominantHue,
  hueName,
  rgbToHsv,
} from "../../packages/eval/src/colour.ts";

type Rgb = [number, number, number];

/** A size × size RGB picture of `background` with a filled square of `ink` from `from` to `to`. */
function picture(size: number, ink: Rgb, { from = 4, to = 12, background = [255, 255, 255] as Rgb } = {}) {
  const data = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const inside = x >= from && x < to && y >= from && y < to;
      data.set(inside ? ink : background, (y * size + x) * 3);
    }
  }
  return data;
}

const INKS: Record<ColourName, Rgb> = {
  red: [220, 30, 40],
  orange: [245, 140, 20],
  yellow: [250, 220, 30],
  green: [40, 180, 60],
  blue: [30, 90, 220],
  purple: [140, 50, 200],
};

test("a coloured square on white has its colour as the dominant hue", () => {
  for (const colour of COLOUR_NAMES) assert.equal(dominantHue(picture(16, INKS[colour])), colour, colour);
});

test("white, grey and a few stray pixels have no dominant hue", () => {
  assert.equal(dominantHue(picture(16, [255, 255, 255])), "none");
  assert.equal(dominantHue(picture(16, [128, 128, 128])), "none", "grey is background");
  assert.equal(dominantHue(picture(16, [255, 235, 235])), "none", "near-white pink is background");
  assert.equal(dominantHue(picture(32, [220, 30, 40], { from: 0, to: 1 })), "none", "one red pixel in 1024");
});

test("dark outlines and the larger coloured area decide, weighted by saturation", () => {
  // Mostly black (too dark for a hue) around a small blue square.
  const dark = picture(16, INKS.blue, { from: 6, to: 10, background: [10, 0, 30] });
  assert.equal(dominantHue(dark), "blue");
  // Half the pixels pale red (saturation 0.3), a quarter as many saturated green (saturation 0.8).
  const data = picture(16, [255, 180, 180], { from: 0, to: 16 });
  for (let p = 0; p < 64; p++) data.set([40, 200, 40], p * 3);
  assert.equal(dominantHue(data), "red", "192 × 0.29 outweighs 64 × 0.8");
  // Four channels a pixel (RGBA).
  const rgba = new Uint8Array(4 * 4 * 4).fill(0);
  for (let p = 0; p < 16; p++) rgba.set([30, 90, 220, 255], p * 4);
  assert.equal(dominantHue(rgba, 4), "blue");
});

test("hue bins and HSV", () => {
  assert.equal(hueName(0), "red");
  assert.equal(hueName(329.9), "purple");
  assert.equal(hueName(330), "red");
  assert.equal(hueName(39.9), "orange");
  assert.equal(hueName(42), "yellow"); // Twemoji's yellow heart, #FDCB58
  assert.equal(hueName(14.9), "red");
  assert.equal(hueName(15), "orange");
  assert.equal(hueName(40), "yellow");
  assert.equal(hueName(70), "green");
  assert.equal(hueName(165), "blue");
  assert.equal(hueName(255), "purple");
  assert.equal(hueName(-10), "red");
  assert.equal(hueName(375), "orange");
  assert.deepEqual(rgbToHsv(255, 0, 0), { h: 0, s: 1, v: 1 });
  assert.deepEqual(rgbToHsv(0, 255, 0), { h: 120, s: 1, v: 1 });
  assert.deepEqual(rgbToHsv(0, 0, 255), { h: 240, s: 1, v: 1 });
  assert.deepEqual(rgbToHsv(255, 255, 255), { h: 0, s: 0, v: 1 });
  assert.deepEqual(rgbToHsv(0, 0, 0), { h: 0, s: 0, v: 0 });
  assert.equal(Math.round(rgbToHsv(255, 0, 128).h), 330);
});

test("a colour passes with a strict majority of its samples; the figure counts them", () => {
  assert.equal(colourRow("red heart", "red", ["red", "red", "blue"]).pass, true);
  assert.equal(colourRow("red heart", "red", ["red", "blue"]).pass, false, "half is not a majority");
  assert.equal(colourRow("red heart", "red", []).pass, false);
  assert.equal(colourRow("blue heart", "blue", ["none", "none", "blue"]).pass, false);
  const figure = colourFigure([
    colourRow("red heart", "red", ["red", "red"], ["red", "purple", "red"]),
    colourRow("yellow heart", "yellow", ["orange", "yellow"], ["orange", "yellow"]),
  ]);
  assert.equal(figure.passed, 1);
  assert.equal(figure.total, 2);
  assert.equal(figure.corpusPassed, 1);
  assert.deepEqual(
    COLOUR_PROMPTS.map((c) => c.prompt),
    ["red heart", "orange heart", "yellow heart", "green heart", "blue heart", "purple heart"],
  );
});

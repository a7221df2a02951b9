// Caption match's pure parts: the blurred signature, the nearest picture, the stable choice of
// captions, and the shares (hits and chance) on tiny made-up sets.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  captionCounts,
  chanceShare,
  chooseCaptions,
  matchFigure,
  meetsMatchGoal,
  nearest,
  SIGNATURE_GRID,
  signature,
  squaredDistance,
} from "../../packages/eval/src/caption-match.ts";
import { batchFor } from "../../packages/eval/src/validation-loss.ts";

/** A [3, size, size] tensor in [-1, 1]: white, with a square of `rgb` (bytes) at [x0, x0 + side) × [y0, …). */
function square(size: number, rgb: [number, number, number], x0: number, y0: number, side: number): Float32Array {
  const plane = size * size;
  const out = new Float32Array(3 * plane).fill(1);
  for (let y = y0; y < y0 + side; y++) {
    for (let x = x0; x < x0 + side; x++)
      for (let c = 0; c < 3; c++) out[c * plane + y * size + x] = rgb[c]! / 127.5 - 1;
  }
  return out;
}

test("the signature keeps a constant picture constant, at any size", () => {
  for (const size of [8, 12, 16, 32]) {
    const grey = new Float32Array(3 * size * size).fill(0.25);
    const sig = signature(grey, size);
    assert.equal(sig.length, 3 * SIGNATURE_GRID * SIGNATURE_GRID);
    for (const v of sig) assert.ok(Math.abs(v - 0.25) < 1e-6, `size ${size}: ${v}`);
  }
  // A square in the top-left quarter shows there and not in the bottom-right.
  const sig = signature(square(16, [0, 0, 0], 0, 0, 8), 16);
  assert.ok(sig[0]! < -0.9, "top-left cell is black");
  assert.ok(sig[SIGNATURE_GRID * SIGNATURE_GRID - 1]! > 0.99, "bottom-right cell is white");
  assert.throws(() => signature(new Float32Array(10), 4), /expected \[C, 4, 4\]/);
});

test("the nearest picture is the same shape and colour, even shifted by a pixel", () => {
  const size = 16;
  const corpus = [
    square(size, [220, 30, 30], 2, 2, 6), // red, top left
    square(size, [30, 30, 220], 8, 8, 6), // blue, bottom right
    square(size, [220, 30, 30], 8, 8, 6), // red, bottom right
    new Float32Array(3 * size * size).fill(1), // white
  ].map((image) => signature(image, size));
  const query = (image: Float32Array) => nearest(corpus, signature(image, size));
  assert.equal(query(square(size, [210, 40, 30], 3, 2, 6)), 0);
  assert.equal(query(square(size, [40, 30, 200], 9, 9, 5)), 1);
  assert.equal(query(square(size, [200, 20, 20], 7, 8, 6)), 2);
  assert.equal(query(square(size, [250, 250, 250], 0, 0, 16)), 3);
  assert.equal(nearest([], corpus[0]!), -1);
  assert.equal(nearest([corpus[1]!, corpus[1]!], corpus[1]!), 0, "the first of equals");
  assert.equal(squaredDistance([1, 2, 3], [1, 0, 6]), 13);
  assert.throws(() => squaredDistance([1], [1, 2]), /differ in length/);
});

test("the captions chosen are distinct, non-empty, stable and independent of the corpus's order", () => {
  const captions = ["dog", "cat", " dog ", "", "  ", "fish", "bird", "cat", "red heart", "star"];
  const chosen = chooseCaptions(captions, 3);
  assert.equal(chosen.length, 3);
  assert.equal(new Set(chosen).size, 3);
  for (const c of chosen) assert.ok(c !== "" && c === c.trim());
  assert.deepEqual(chooseCaptions([...captions].reverse(), 3), chosen, "order of the corpus does not matter");
  assert.deepEqual(chooseCaptions(captions, 3), chosen, "the same every time");
  const all = chooseCaptions(captions, 100);
  assert.deepEqual([...all].sort(), ["bird", "cat", "dog", "fish", "red heart", "star"]);
  assert.deepEqual(chooseCaptions(captions, 100, new Set(["dog", "cat"])).sort(), [
    "bird",
    "fish",
    "red heart",
    "star",
  ]);
  assert.deepEqual(all.slice(0, 3), chosen, "a larger K extends the smaller one's choice");
  assert.throws(() => chooseCaptions(captions, 0), /positive integer/);
});

test("chance is the mean share of corpus pictures carrying each prompt", () => {
  const corpus = ["a", "a", "b", "c"];
  const counts = captionCounts(corpus);
  assert.deepEqual(
    [...counts],
    [
      ["a", 2],
      ["b", 1],
      ["c", 1],
    ],
  );
  assert.equal(chanceShare(["a", "b"], counts, corpus.length), (2 / 4 + 1 / 4) / 2);
  assert.equal(chanceShare(["z"], counts, corpus.length), 0);
  assert.equal(chanceShare([], counts, corpus.length), 0);
});

test("the match figure counts hits per sample, guided and unguided, beside chance", () => {
  const counts = captionCounts(["a", "a", "b", "c"]);
  const figure = matchFigure(
    [
      { prompt: "a", guided: ["a", "a"], unguided: ["b", "a"] },
      { prompt: "b", guided: ["b", "c"], unguided: ["c", "c"] },
    ],
    counts,
    4,
  );
  assert.deepEqual(figure, { captions: 2, samples: 4, guided: 3 / 4, unguided: 1 / 4, chance: 0.375, ratio: 3 });
  assert.equal(meetsMatchGoal(figure), false, "3× unguided is short of 5×");
  assert.equal(meetsMatchGoal({ ...figure, unguided: 0.1 }), true);
  assert.equal(meetsMatchGoal({ ...figure, guided: 0.2, unguided: 0 }), false, "under 25%");
  const none = matchFigure([], counts, 4);
  assert.deepEqual(none, { captions: 0, samples: 0, guided: null, unguided: null, chance: null, ratio: null });
  assert.equal(meetsMatchGoal(none), false);
  const noUnguidedHit = matchFigure([{ prompt: "a", guided: ["a"], unguided: ["b"] }], counts, 4);
  assert.equal(noUnguidedHit.ratio, null);
  assert.equal(meetsMatchGoal(noUnguidedHit), true);
});

test("the validation batch divides the pairs asked for", () => {
  assert.equal(batchFor(64), 8);
  assert.equal(batchFor(16), 8);
  assert.equal(batchFor(12), 6);
  assert.equal(batchFor(5), 5);
  assert.equal(batchFor(13), 1);
  assert.equal(batchFor(1), 1);
});

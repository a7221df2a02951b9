// The sampler figures' pure parts: which samplers are deterministic, convergence as PSNR per pair,
// the nearest-picture distance on signatures, and the held-out pictures' own distances.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { CorpusIndex } from "../../packages/eval/src/corpus-index.ts";
import { PSNR_CAP } from "../../packages/eval/src/image-quality.ts";
import {
  convergence,
  heldOutDistances,
  isDeterministic,
  nearestDistance,
  trainingSignatures,
} from "../../packages/eval/src/sampler-figures.ts";
import type { RgbImage } from "../../packages/glide-ts/src/image/pixels.ts";

const flat = (v: number): RgbImage => ({ width: 2, height: 2, channels: 3, data: new Uint8Array(12).fill(v) });

test("only DDPM is stochastic", () => {
  assert.deepEqual(["ddpm", "ddim", "plms", "dpm++2m"].map(isDeterministic), [false, true, true, true]);
});

test("convergence: the PSNR of each sample against its reference, pair by pair", () => {
  const figure = convergence([flat(100), flat(100)], [flat(100), flat(110)]);
  assert.equal(figure?.max, PSNR_CAP);
  assert.ok(Math.abs(figure!.min - 10 * Math.log10((255 * 255) / 100)) < 1e-9);
  assert.throws(() => convergence([flat(1)], []), /1 samples and 0 references/);
});

test("nearest distance: RMS per value to the closest signature; held-out pictures against training ones", () => {
  const pool = [Float32Array.of(0, 0, 0, 0), Float32Array.of(1, 1, 1, 1)];
  assert.equal(nearestDistance(pool, Float32Array.of(1, 1, 1, 1)), 0);
  assert.ok(
    Math.abs(nearestDistance(pool, Float32Array.of(0.5, 0.5, 0.5, 0.2)) - Math.sqrt((3 * 0.25 + 0.04) / 4)) < 1e-7,
  );
  const index: CorpusIndex = {
    source: "test",
    captions: ["a", "b", "c"],
    splits: ["train", "validation", "train"],
    signatures: [Float32Array.of(0, 0), Float32Array.of(0.3, 0.4), Float32Array.of(1, 1)],
    skipped: 0,
    kept: new Map(),
  };
  assert.equal(trainingSignatures(index).length, 2);
  const [d] = heldOutDistances(index);
  assert.ok(Math.abs(d! - Math.sqrt(0.25 / 2)) < 1e-7, "the held-out picture is never its own neighbour");
});

// Word gain (packages/eval/src/word-gain.ts): the pictures and swapped captions it compares, the x₀
// error against hand-computed values, and the shipped base model's figures (it uses colour and shape
// words, and ignores place words: the finding this measure was written for).
import assert from "node:assert/strict";
import { test } from "node:test";
import { gainOf, WORD_KINDS, wordGain, wordGainCases, x0Error } from "../../packages/eval/src/word-gain.ts";
import { isHeldOut, PLACE_PHRASES } from "../../packages/glide-ts/src/internals.ts";
import { fixtureModel } from "../pipelines/helpers.ts";

test("word-gain cases: deterministic, one word swapped per kind, never a held-out pair", () => {
  const cases = wordGainCases(40, 5);
  assert.deepEqual(wordGainCases(40, 5), cases);
  assert.notDeepEqual(wordGainCases(40, 6), cases);
  const opposite: Record<string, string> = { left: "right", right: "left", top: "bottom", bottom: "top" };
  for (const c of cases) {
    const { colour, shape } = c.shape;
    assert.ok(!isHeldOut(colour, shape));
    const place = (Object.keys(PLACE_PHRASES) as (keyof typeof PLACE_PHRASES)[]).find((p) =>
      c.caption.endsWith(PLACE_PHRASES[p]),
    )!;
    assert.ok(place in opposite, `a side place: ${c.caption}`);
    // The picture is where the caption says.
    if (place === "left") assert.ok(c.shape.cx < 0.5);
    if (place === "right") assert.ok(c.shape.cx > 0.5);
    if (place === "top") assert.ok(c.shape.cy < 0.5);
    if (place === "bottom") assert.ok(c.shape.cy > 0.5);
    assert.equal(c.caption, `a ${colour} ${shape} ${PLACE_PHRASES[place]}`);
    for (const kind of WORD_KINDS) {
      const words = c.caption.split(" ");
      const other = c.swapped[kind].split(" ");
      const differing = words.filter((w, i) => w !== other[i]);
      assert.equal(differing.length, 1, `${kind}: ${c.caption} → ${c.swapped[kind]}`);
    }
    assert.ok(c.swapped.place.endsWith(PLACE_PHRASES[opposite[place] as keyof typeof PLACE_PHRASES]));
    const [, otherColour, otherShape] = c.swapped.colour.split(" ");
    assert.ok(!isHeldOut(otherColour as never, otherShape as never));
    const [, sameColour, swappedShape] = c.swapped.shape.split(" ");
    assert.ok(!isHeldOut(sameColour as never, swappedShape as never));
  }
});

test("x₀ error: clipped prediction against hand-computed values; gain 1 − right / swapped", () => {
  // ᾱ = 0.25: x₀ = (x_t − √0.75 ε) / 0.5.
  const s = Math.sqrt(0.75);
  const xt = Float32Array.from([0.5, 0.5 + s, 3]);
  const eps = Float32Array.from([0, 1, 0]);
  const x0 = Float32Array.from([1, 0.5, 1]);
  // Predictions: 1, 1, 6 → clipped to 1; errors 0, 0.25, 0.
  assert.ok(Math.abs(x0Error(xt, eps, x0, 0.25) - 0.25 / 3) < 1e-7);
  assert.equal(gainOf(1, 4), 0.75);
  assert.equal(gainOf(2, 2), 0);
  assert.equal(gainOf(0, 0), 0);
});

test("word gain of a fixture model: finite, and 0 for every kind when the swapped caption is the same", async () => {
  const model = await fixtureModel("text2im");
  const gains = await wordGain(model, { pictures: 2, session: { threads: 1 } });
  assert.equal(gains.timesteps.length, 4);
  assert.ok(gains.timesteps[0]! > gains.timesteps[3]!, "noisiest first");
  for (const kind of WORD_KINDS) {
    assert.ok(gains.perTimestep[kind].every(Number.isFinite), `${kind}: ${gains.perTimestep[kind]}`);
    const mean = gains.perTimestep[kind].reduce((a, b) => a + b) / 4;
    assert.ok(Math.abs(gains.mean[kind] - mean) < 1e-12);
  }
  const unchanged = wordGainCases(2, 5).map((c) => ({
    ...c,
    swapped: { colour: c.caption, shape: c.caption, place: c.caption },
  }));
  const none = await wordGain(model, { cases: unchanged, session: { threads: 1 } });
  for (const kind of WORD_KINDS) assert.deepEqual(none.perTimestep[kind], [0, 0, 0, 0], kind);
});

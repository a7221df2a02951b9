// Beta schedules and respacing against the reference's own values (schedules.json of the fixtures).

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { createDiffusion, GaussianDiffusion } from "../../packages/glide-ts/src/diffusion/gaussian.ts";
import { respacedBetas, spaceTimesteps } from "../../packages/glide-ts/src/diffusion/respace.ts";
import { type BetaScheduleName, betaSchedule, linspace } from "../../packages/glide-ts/src/diffusion/schedule.ts";
import { roundHalfEven } from "../../packages/glide-ts/src/util/round.ts";
import { fixturePath } from "../fixtures.ts";

const fixture = JSON.parse(readFileSync(fixturePath("schedules.json"), "utf8")) as {
  betas: Record<BetaScheduleName, number[]>;
  space_timesteps_1000: Record<string, number[]>;
};

// The cosine schedule computes 1 − ᾱ(t2)/ᾱ(t1) with Math.cos instead of libm's cos: an ulp of
// difference in cos, amplified by the cancellation (β ≈ 4e-5 at the start), gives up to ~4e-13
// relative. The linear schedule matches bit for bit.
const BETA_REL_TOL: Record<BetaScheduleName, number> = { squaredcos_cap_v2: 1e-11, linear: 0 };

for (const name of Object.keys(fixture.betas) as BetaScheduleName[]) {
  test(`betas of ${name} match the reference at all ${fixture.betas[name].length} steps`, () => {
    const expected = fixture.betas[name];
    const betas = betaSchedule(name, expected.length);
    assert.equal(betas.length, expected.length);
    for (let i = 0; i < expected.length; i++) {
      const rel = Math.abs(betas[i] - expected[i]) / expected[i];
      assert.ok(rel <= BETA_REL_TOL[name], `${name} beta[${i}] = ${betas[i]}, reference ${expected[i]} (rel ${rel})`);
    }
  });
}

test("the cosine schedule is capped at 0.999 and the linear one spans 1e-4 … 0.02", () => {
  const cos = betaSchedule("squaredcos_cap_v2", 1000);
  assert.equal(cos[999], 0.999);
  const lin = betaSchedule("linear", 1000);
  assert.equal(lin[0], 0.0001);
  assert.equal(lin[999], 0.02);
  // Other step counts rescale (the reference's scale = 1000 / steps).
  const lin100 = betaSchedule("linear", 100);
  assert.equal(lin100[0], 10 * 0.0001);
  assert.equal(lin100[99], 10 * 0.02);
});

for (const [spec, expected] of Object.entries(fixture.space_timesteps_1000)) {
  test(`spaceTimesteps(1000, "${spec}") matches the reference`, () => {
    assert.deepEqual(spaceTimesteps(1000, spec), expected);
  });
}

test("spaceTimesteps: section lists, the full process, and clear errors", () => {
  // The reference docstring's example: 300 steps in sections of 10, 15, 20.
  const steps = spaceTimesteps(300, [10, 15, 20]);
  assert.equal(steps.length, 45);
  assert.deepEqual(steps.slice(0, 3), [0, 11, 22]);
  assert.equal(steps[44], 299);
  assert.deepEqual(spaceTimesteps(5, ""), [0, 1, 2, 3, 4]);
  assert.deepEqual(spaceTimesteps(10, "ddim5"), [0, 2, 4, 6, 8]);
  assert.throws(() => spaceTimesteps(1000, "ddim999"), /integer stride/);
  assert.throws(() => spaceTimesteps(10, "20"), /cannot divide/);
  assert.throws(() => spaceTimesteps(1000, "fast"), /bad timestep respacing/);
});

test("roundHalfEven is Python's round()", () => {
  assert.deepEqual([0.5, 1.5, 2.5, 3.5, 99.5, 2.4999, 2.5001].map(roundHalfEven), [0, 2, 2, 4, 100, 2, 3]);
});

test("linspace is numpy's", () => {
  assert.deepEqual([...linspace(0, 1, 5)], [0, 0.25, 0.5, 0.75, 1]);
  assert.deepEqual([...linspace(3, 7, 1)], [3]);
});

test("respacing keeps ᾱ at the kept steps and maps to the original indices", () => {
  const base = GaussianDiffusion.fromSchedule("squaredcos_cap_v2", 1000);
  for (const spec of Object.keys(fixture.space_timesteps_1000)) {
    const kept = fixture.space_timesteps_1000[spec];
    const spaced = GaussianDiffusion.fromSchedule("squaredcos_cap_v2", 1000, spec);
    assert.deepEqual(spaced.timestepMap, kept);
    assert.equal(spaced.numTimesteps, kept.length);
    kept.forEach((t, k) => {
      // Absolute: 1 − (1 − ᾱ[t]/ᾱ[t']) loses relative precision when the ratio is tiny (near T).
      const diff = Math.abs(spaced.alphasCumprod[k] - base.alphasCumprod[t]);
      assert.ok(diff < 1e-15, `${spec}: ᾱ'[${k}] vs ᾱ[${t}] differ by ${diff}`);
      assert.equal(spaced.modelTimestep(k), t);
    });
  }
  // The first kept beta is 1 − ᾱ[t₀] (from ᾱ = 1), the next ones the ratio of kept ᾱ.
  const { betas, timestepMap } = respacedBetas(base.alphasCumprod, [0, 500, 999]);
  assert.deepEqual(timestepMap, [0, 500, 999]);
  assert.equal(betas[0], 1 - base.alphasCumprod[0]);
  assert.equal(betas[1], 1 - base.alphasCumprod[500] / base.alphasCumprod[0]);
  assert.equal(betas[2], 1 - base.alphasCumprod[999] / base.alphasCumprod[500]);
  // Respacing a respaced process composes the maps.
  assert.deepEqual(base.respace([0, 500, 999]).respace([0, 2]).timestepMap, [0, 999]);
  assert.throws(() => respacedBetas(base.alphasCumprod, [0, 1000]), /outside/);
});

test("createDiffusion builds the reference's process from its configuration keys", () => {
  const spaced = createDiffusion({
    noiseSchedule: "squaredcos_cap_v2",
    diffusionSteps: 1000,
    timestepRespacing: "100",
  });
  assert.deepEqual(spaced.timestepMap, fixture.space_timesteps_1000["100"]);
  const full = createDiffusion({ noiseSchedule: "linear", diffusionSteps: 1000 });
  assert.equal(full.numTimesteps, 1000);
  assert.ok(full.timestepMap.every((t, i) => t === i));
  // "" still goes through respacing, as in the reference: betas recomputed from ᾱ, equal to ~1 ulp.
  const betas = betaSchedule("linear", 1000);
  assert.ok(full.betas.every((b, i) => Math.abs(b - betas[i]) <= 1e-15));
});

// Schedule cases, from `DIR/schedules.json` (not listed in the manifest): the betas of each noise
// schedule, and the timesteps each respacing string keeps.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { type BetaScheduleName, betaSchedule, spaceTimesteps } from "glide-ts/internals";
import { countCheck, maxAbsCheck } from "../compare.ts";
import { numberField, stringField, toleranceOf } from "../manifest.ts";
import { type CaseKind, type ParityCase, ParityCaseError } from "../types.ts";

export const SCHEDULES_FILE = "schedules.json";

/**
 * Betas are float64 on both sides. The cosine schedule's 1 − ᾱ(t2)/ᾱ(t1) amplifies an ulp of
 * difference between Math.cos and libm's cos (~4e-13 relative); the linear one matches exactly.
 */
export const BETA_TOLERANCE = 1e-12;

function numbers(c: ParityCase, key: string): number[] {
  const value = c.entry[key];
  if (!Array.isArray(value) || !value.every((v) => typeof v === "number")) {
    throw new ParityCaseError(`case '${c.name}': field '${key}' must be an array of numbers`);
  }
  return value as number[];
}

export const scheduleKind: CaseKind = {
  kind: "schedule",
  description: `noise schedules and respacing against ${SCHEDULES_FILE} (betas; kept timesteps, exact)`,

  async discover(dir) {
    let text: string;
    try {
      text = await readFile(join(dir, SCHEDULES_FILE), "utf-8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw e;
    }
    const fixture = JSON.parse(text) as Record<string, unknown>;
    const cases: ParityCase[] = [];
    for (const [schedule, betas] of Object.entries((fixture.betas ?? {}) as Record<string, unknown>)) {
      cases.push({ name: `schedule.betas.${schedule}`, kind: "schedule", entry: { schedule, betas } });
    }
    for (const [key, kept] of Object.entries(fixture)) {
      const steps = /^space_timesteps_(\d+)$/.exec(key)?.[1];
      if (!steps) continue;
      for (const [spec, timesteps] of Object.entries(kept as Record<string, unknown>)) {
        cases.push({
          name: `schedule.respacing.${spec}`,
          kind: "schedule",
          entry: { diffusion_steps: Number(steps), respacing: spec, timesteps },
        });
      }
    }
    return cases;
  },

  async run(c) {
    if ("betas" in c.entry) {
      const expected = numbers(c, "betas");
      const betas = betaSchedule(stringField(c, "schedule") as BetaScheduleName, expected.length);
      return [maxAbsCheck("betas", betas, expected, toleranceOf(c, BETA_TOLERANCE))];
    }
    const expected = numbers(c, "timesteps");
    const kept = spaceTimesteps(numberField(c, "diffusion_steps"), stringField(c, "respacing"));
    return [countCheck("timesteps", kept, expected)];
  },
};

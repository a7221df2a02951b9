// What bench:forward and bench:sample share for int8: models at the released shapes whose
// zero-initialized layers are drawn like the others (else the output is identically 0 and its
// error means nothing), the int8 plan's summary, and fp32 against int8 timings taken interleaved.
import type { GlideConfig } from "../packages/glide-ts/src/glide/config.ts";
import { GlideModel } from "../packages/glide-ts/src/glide/model.ts";
import { presetConfig } from "../packages/glide-ts/src/glide/presets.ts";
import { magnitude } from "../packages/glide-ts/src/int8/calibrate.ts";
import type { UNetInt8Plan } from "../packages/glide-ts/src/int8/unet-plan.ts";
import { type InitSpec, seededInitializer } from "../packages/glide-ts/src/nn/params.ts";

/** A model of `preset`'s (or `config`'s) shapes with random weights, none of them all zero. */
export function randomModel(preset: string | GlideConfig): GlideModel {
  const seeded = seededInitializer(1);
  return new GlideModel(typeof preset === "string" ? presetConfig(preset) : preset, {
    init: (name, shape, spec) => {
      const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
      const drawn: InitSpec =
        spec.kind === "zeros" && shape.length > 1 ? { kind: "uniform", bound: 1 / Math.sqrt(fanIn) } : spec;
      return seeded(name, shape, drawn);
    },
  });
}

/** Lines describing a plan: the timesteps, how activation ranges moved with t, the layers kept fp32. */
export function describePlan(plan: UNetInt8Plan, seconds: number): string[] {
  const { sites, perRun } = plan.calibration;
  // How much each conv's input range changes across the calibration timesteps (largest / smallest |range|).
  const spreads = sites.map((site) => {
    const m = perRun.map((run) => magnitude(run.get(site)!.input));
    return Math.max(...m) / Math.max(Math.min(...m), 1e-12);
  });
  const sorted = [...spreads].sort((a, b) => a - b);
  const widest = sites[spreads.indexOf(sorted[sorted.length - 1]!)]!;
  const showRange = (site: string) =>
    `    ${site}: ${plan.timesteps.map((t, i) => `t=${t} ±${magnitude(perRun[i]!.get(site)!.input).toFixed(2)}`).join(", ")}`;
  const sqnr = [...plan.sqnr.values()].filter(Number.isFinite).sort((a, b) => a - b);
  const boundary = [...plan.boundaryErrors.keeping].map(([site, e]) => `${site} fp32 → ${pct(e)}`).join(", ");
  return [
    `  int8 plan in ${seconds.toFixed(1)} s: calibrated at t = ${plan.timesteps.join(", ")}; ${sites.length - plan.keepFp32.size} of ${sites.length} layers int8 (convs and attention projections), fp32: ${[...plan.keepFp32].join(", ") || "none"}`,
    `  layer input ranges across t: max|x| moves by ×${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)} (median layer), ×${sorted[sorted.length - 1]!.toFixed(2)} (widest); e.g.`,
    showRange(sites[0]!),
    showRange(widest),
    showRange(sites[sites.length - 1]!),
    `  per-layer SQNR (only that layer int8): ${sqnr[0]?.toFixed(1)} – ${sqnr[sqnr.length - 1]?.toFixed(1)} dB, median ${sqnr[Math.floor(sqnr.length / 2)]?.toFixed(1)} dB (threshold ${plan.sqnrThresholdDb} dB)`,
    `  output error at low t, all layers int8: ${pct(plan.boundaryErrors.allInt8)}; ${boundary} (kept when ≥ 20 % lower)`,
  ];
}

export function pct(x: number): string {
  return `${(100 * x).toFixed(x < 0.01 ? 2 : 1)} %`;
}

/** Medians of `rounds` interleaved timings of two runs (a, b, a, b, …): load spikes hit both. */
export async function interleaved(
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
  rounds = 3,
): Promise<{ a: number; b: number; all: [number, number][] }> {
  const all: [number, number][] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    await a();
    const t1 = performance.now();
    await b();
    const t2 = performance.now();
    all.push([(t1 - t0) / 1000, (t2 - t1) / 1000]);
  }
  const median = (k: 0 | 1) => [...all.map((x) => x[k])].sort((p, q) => p - q)[Math.floor(rounds / 2)]!;
  return { a: median(0), b: median(1), all };
}

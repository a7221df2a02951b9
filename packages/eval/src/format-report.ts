// `glide eval`'s figures as a table for people (the JSON is the report object itself).
import type { MatchFigure } from "./caption-match.ts";
import { type EvalReport, PROBE_GOALS } from "./run-eval.ts";
import { WORD_KINDS } from "./word-gain.ts";

/** A share as a percentage: one decimal, or two significant digits below 1%. */
export function percent(share: number | null): string {
  if (share === null) return "—";
  const p = 100 * share;
  if (p === 0) return "0%";
  return p >= 1 ? `${p.toFixed(1)}%` : `${p.toPrecision(2)}%`;
}

export function formatReport(report: EvalReport, model: string): string {
  const { settings: s, data: d } = report;
  const lines: string[] = [];
  const skipped = d.skipped > 0 ? `, ${d.skipped} unreadable skipped` : "";
  lines.push(`model  ${model}`);
  lines.push(`data   ${d.source}: ${d.pairs} pairs (${d.train} train, ${d.validation} validation${skipped})`);
  lines.push(
    `sampling  ${s.sampler}, ${s.steps} steps, guidance ${s.guidance}, ${s.seeds} samples a prompt from seed ${s.seed}, U-Net in ${s.precision ?? "fp32"}`,
  );
  lines.push("");

  const c = report.colour;
  lines.push(
    `colour test  ${c.passed}/${c.total} (goal ${c.total}/${c.total}; the corpus's own pictures: ${c.corpusPassed}/${c.total})`,
  );
  const width = Math.max(...c.rows.map((r) => r.prompt.length));
  const hueWidth = Math.max(...c.rows.map((r) => r.hues.join(" ").length));
  for (const r of c.rows) {
    const corpus = r.corpusHues.length > 0 ? hueCounts(r.corpusHues) : "none with this caption";
    lines.push(
      `  ${r.prompt.padEnd(width)}  ${r.pass ? "pass" : "FAIL"}  ${r.hues.join(" ").padEnd(hueWidth)}  (corpus: ${corpus})`,
    );
  }
  lines.push("");

  const f = report.probe.figures;
  const goals = PROBE_GOALS;
  lines.push(
    `caption probe  colour ${percent(f.colour)} (goal ${percent(goals.colour)}), shape ${percent(f.shape)} (goal ${percent(goals.shape)}), ` +
      `place ${percent(f.place)} (goal ${percent(goals.place)}); held-out pairs: colour ${percent(f.heldOutColour)}, shape ${percent(f.heldOutShape)}; ` +
      `white background ${percent(f.whiteBackground)}; ${f.samples} samples`,
  );
  const promptWidth = Math.max(...report.probe.rows.map((r) => r.prompt.length));
  for (const r of report.probe.rows) {
    const read = r.readings.map((x) => `${x.colour}/${x.shape}${r.place ? `/${x.place}` : ""}`).join("  ");
    lines.push(`  ${r.prompt.padEnd(promptWidth)}${r.heldOut ? " (held out)" : "           "}  ${read}`);
  }
  lines.push("");

  const w = report.wordGain;
  lines.push(
    `word gain  colour ${percent(w.mean.colour)}, shape ${percent(w.mean.shape)}, place ${percent(w.mean.place)} ` +
      "(the share of the x₀ error the right word removes against a swapped one; 0: the word is ignored)",
  );
  for (const kind of WORD_KINDS) {
    const perT = w.timesteps.map((t, i) => `t ${t}: ${percent(w.perTimestep[kind][i]!)}`).join(", ");
    lines.push(`  ${kind.padEnd(6)}  ${perT}`);
  }
  lines.push("");

  const m = report.captionMatch;
  lines.push("caption match  (samples whose nearest corpus picture has the prompt's caption)");
  lines.push(`  ${"captions".padEnd(22)}${"guided".padStart(9)}${"unguided".padStart(10)}${"chance".padStart(9)}`);
  const row = (name: string, f: MatchFigure) =>
    `  ${`${name} (${f.captions})`.padEnd(22)}${percent(f.guided).padStart(9)}${percent(f.unguided).padStart(10)}${percent(f.chance).padStart(9)}`;
  lines.push(row("training", m.train));
  lines.push(row("held-out", m.validation));
  lines.push(
    `  goal: guided ≥ 25% on training captions and ≥ 5× unguided: ${report.goals.captionMatch ? "met" : "not met"}`,
  );
  lines.push("");

  const n = report.nearestDistance;
  const dist = (s: typeof n.guided) => (s ? s.mean.toFixed(4) : "—");
  lines.push(
    `nearest training picture  RMS signature distance: guided ${dist(n.guided)}, unguided ${dist(n.unguided)}; held-out corpus pictures ${dist(n.heldOut)}`,
  );
  const k = report.convergence;
  if (k) {
    const p = k.psnr;
    lines.push(
      `convergence  ${p ? `${p.mean.toFixed(2)} dB (${p.min.toFixed(1)}–${p.max.toFixed(1)})` : "—"}: PSNR of the colour test's ${k.images} samples against ${k.sampler} at ${k.steps} steps from the same seeds`,
    );
  }
  lines.push("");

  const v = report.validationLoss;
  lines.push(
    v
      ? `validation loss  ${v.loss.toFixed(5)} (mse ${v.mse.toFixed(5)}, vb ${v.vb.toFixed(5)}; ${v.pairs} pairs)`
      : "validation loss  — (no validation pairs)",
  );
  if (v) {
    lines.push(
      `caption gain  ${percent(v.captionGain)} (ε mse ${v.mse.toFixed(5)} with captions, ${v.uncaptionedMse.toFixed(5)} without: the share of the error the captions remove)`,
    );
  }
  const t = report.secondsPerImage;
  const sec = (x: number | null) => (x === null ? "—" : `${x.toFixed(3)} s`);
  lines.push(
    `seconds per image  ${sec(t.all)} (guided ${sec(t.guided)}, unguided ${sec(t.unguided)}; ${t.images} images)`,
  );
  return `${lines.join("\n")}\n`;
}

/** "58 red, 2 orange of 60": a caption's corpus pictures can be many; their hues, counted. */
export function hueCounts(hues: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const hue of hues) counts.set(hue, (counts.get(hue) ?? 0) + 1);
  const parts = [...counts].sort((a, b) => b[1] - a[1]).map(([hue, n]) => `${n} ${hue}`);
  return `${parts.join(", ")} of ${hues.length}`;
}

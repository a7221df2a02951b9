// The upsampler eval's figures as a table for people (the JSON is the report object itself).
import type { FigureSummary } from "./image-quality.ts";
import type { QualitySummary, UpsampleEvalReport } from "./upsample-eval.ts";

const db = (s: FigureSummary | null) => (s ? `${s.mean.toFixed(2)} dB` : "—");
const range = (s: FigureSummary | null, digits: number) =>
  s ? `${s.min.toFixed(digits)}–${s.max.toFixed(digits)}` : "—";

export function formatUpsampleReport(report: UpsampleEvalReport, model: string): string {
  const { settings: s, data: d } = report;
  const lines: string[] = [];
  const skipped = d.skipped > 0 ? `, ${d.skipped} unreadable skipped` : "";
  const stored = d.sourceSize ? `, stored at ${d.sourceSize.width}×${d.sourceSize.height}` : "";
  lines.push(`model  ${model}`);
  lines.push(`data   ${d.source}: ${report.rows.length} of ${d.validation} held-out pairs${stored}${skipped}`);
  lines.push(
    `sampling  ${s.sampler}, ${s.steps} steps (${s.evaluations} evaluations), temperature ${s.temperature}, ${s.keepLowRes ? "block means kept equal to the low-res input" : "low-res not enforced"}, U-Net in ${s.precision}; low-res ${s.lowResSize}×${s.lowResSize} as in training; pair i from seed ${s.seed} + i`,
  );
  lines.push("");
  const head = `  ${"against the true picture".padEnd(26)}${"mean".padStart(10)}${"range".padStart(14)}`;
  const block = (name: string, q: QualitySummary) => [
    `${name}`,
    `  ${"PSNR".padEnd(26)}${db(q.psnr).padStart(10)}${range(q.psnr, 1).padStart(14)}`,
    `  ${"low-frequency PSNR (4×4)".padEnd(26)}${db(q.lowFrequencyPsnr).padStart(10)}${range(q.lowFrequencyPsnr, 1).padStart(14)}`,
    `  ${"SSIM (luma)".padEnd(26)}${(q.ssim ? q.ssim.mean.toFixed(4) : "—").padStart(10)}${range(q.ssim, 3).padStart(14)}`,
  ];
  lines.push(head);
  lines.push(...block("upsampled", report.upsampled));
  lines.push(...block("bicubic resize of the same input (baseline)", report.bicubic));
  lines.push("");
  const t = report.secondsPerImage;
  lines.push(
    `seconds per image  ${t === null ? "—" : `${t.toFixed(3)} s`} (sampling; ${report.setupSeconds.toFixed(2)} s setup in all)`,
  );
  return `${lines.join("\n")}\n`;
}

// The model card's figures (models/README.md): the loss curves of every stage of the default-model
// recipe, from the runs' metrics.jsonl, drawn as an SVG chart and rendered to a PNG with resvg.
//
//   node --conditions=glide-ts-source --import tsx scripts/model-card-figures.ts [--work DIR] [--out packages/glide-ts/models/loss-curve.png]
import { readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { Resvg } from "@resvg/resvg-js";

interface Row {
  step: number;
  kind: string;
  loss: number;
}

const { values } = parseArgs({
  options: {
    work: { type: "string", default: ".cache/default-model" },
    out: { type: "string", default: "packages/glide-ts/models/loss-curve.png" },
  },
});

async function rows(stage: string): Promise<Row[]> {
  const text = await readFile(join(resolve(values.work!), stage, "metrics.jsonl"), "utf8").catch(() => "");
  return text
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Row);
}

/** A trailing mean over `window` points: single steps' losses scatter with the timestep drawn. */
function smooth(points: [number, number][], window: number): [number, number][] {
  return points.map(([x], i) => {
    const part = points.slice(Math.max(0, i - window + 1), i + 1);
    return [x, part.reduce((s, [, y]) => s + y, 0) / part.length];
  });
}

const WIDTH = 900;
const PANEL = 300;
const MARGIN = { left: 70, right: 20, top: 40, bottom: 45 };

function panel(title: string, series: { label: string; colour: string; points: [number, number][] }[], top: number) {
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return `<text x="${MARGIN.left}" y="${top + 40}">${title}: no data yet</text>`;
  const maxX = Math.max(...all.map(([x]) => x));
  const ys = all.map(([, y]) => Math.log10(y));
  const [minY, maxY] = [Math.floor(Math.min(...ys) * 2) / 2, Math.ceil(Math.max(...ys) * 2) / 2];
  const w = WIDTH - MARGIN.left - MARGIN.right;
  const h = PANEL - MARGIN.top - MARGIN.bottom;
  const px = (x: number) => MARGIN.left + (x / maxX) * w;
  const py = (y: number) => top + MARGIN.top + (1 - (Math.log10(y) - minY) / (maxY - minY || 1)) * h;
  const parts = [
    `<text x="${MARGIN.left}" y="${top + 24}" font-size="16" font-weight="bold">${title}</text>`,
    `<rect x="${MARGIN.left}" y="${top + MARGIN.top}" width="${w}" height="${h}" fill="none" stroke="#999"/>`,
  ];
  for (let e = minY; e <= maxY + 1e-9; e += 0.5) {
    const y = py(10 ** e);
    parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + w}" y1="${y}" y2="${y}" stroke="#eee"/>`);
    parts.push(
      `<text x="${MARGIN.left - 8}" y="${y + 4}" font-size="12" text-anchor="end">${(10 ** e).toPrecision(2)}</text>`,
    );
  }
  for (let k = 0; k <= 4; k++) {
    const x = (maxX * k) / 4;
    parts.push(
      `<text x="${px(x)}" y="${top + MARGIN.top + h + 18}" font-size="12" text-anchor="middle">${Math.round(x)}</text>`,
    );
  }
  parts.push(
    `<text x="${MARGIN.left + w / 2}" y="${top + PANEL - 6}" font-size="12" text-anchor="middle">optimizer step</text>`,
  );
  series.forEach((s, i) => {
    const d = s.points.map(([x, y], j) => `${j ? "L" : "M"}${px(x).toFixed(1)},${py(y).toFixed(1)}`).join("");
    parts.push(`<path d="${d}" fill="none" stroke="${s.colour}" stroke-width="1.5"/>`);
    const lx = MARGIN.left + w - 220;
    const ly = top + MARGIN.top + 18 + i * 18;
    parts.push(
      `<line x1="${lx}" x2="${lx + 24}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.colour}" stroke-width="2"/>`,
    );
    parts.push(`<text x="${lx + 30}" y="${ly}" font-size="12">${s.label}</text>`);
  });
  return parts.join("\n");
}

const stages = [
  ["base", "Base (32×32 text-to-image): loss (log scale)"],
  ["upsample", "Upsampler (32→128): loss (log scale)"],
] as const;
const panels: string[] = [];
for (const [i, [stage, title]] of stages.entries()) {
  const r = await rows(stage);
  const train = r.filter((x) => x.kind === "train").map((x) => [x.step, x.loss] as [number, number]);
  const validation = r.filter((x) => x.kind === "validation").map((x) => [x.step, x.loss] as [number, number]);
  panels.push(
    panel(
      title,
      [
        { label: "training (mean of 100 steps)", colour: "#1f77b4", points: smooth(train, 100) },
        { label: "validation (fixed t and noise)", colour: "#d62728", points: validation },
      ],
      i * PANEL,
    ),
  );
}
const height = PANEL * stages.length;
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="DejaVu Sans, sans-serif">
<rect width="100%" height="100%" fill="white"/>
${panels.join("\n")}
</svg>`;
const png = new Resvg(svg, { font: { loadSystemFonts: true } }).render().asPng();
await writeFile(values.out!, png);
console.log(`wrote ${values.out} (${WIDTH}×${height})`);

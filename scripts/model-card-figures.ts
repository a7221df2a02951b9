// The model card's figures (models/README.md): the loss curves of every stage of the default-model
// recipe and the base's caption probe (colour, shape and place accuracy, logged every
// --probe-every steps), from the runs' metrics.jsonl, drawn as an SVG chart and rendered to a PNG
// with resvg.
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
  /** Probe rows: the fractions of samples read right. */
  colour?: number;
  shape?: number;
  place?: number;
  held_out_colour?: number;
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

const WIDTH = 1000;
const PANEL = 300;
const MARGIN = { left: 70, right: 20, top: 40, bottom: 45 };

/** A y axis: where a value sits (0 bottom … 1 top) and the gridlines with their labels. */
interface Axis {
  at: (y: number) => number;
  grid: { value: number; label: string }[];
}

/** Log scale over the data's half-decades (losses). */
function logAxis(ys: number[]): Axis {
  const logs = ys.map((y) => Math.log10(y));
  const [min, max] = [Math.floor(Math.min(...logs) * 2) / 2, Math.ceil(Math.max(...logs) * 2) / 2];
  const grid: Axis["grid"] = [];
  for (let e = min; e <= max + 1e-9; e += 0.5) grid.push({ value: 10 ** e, label: (10 ** e).toPrecision(2) });
  return { at: (y) => (Math.log10(y) - min) / (max - min || 1), grid };
}

/** 0 … 100 % (accuracies). */
const PERCENT_AXIS: Axis = {
  at: (y) => y,
  grid: [0, 0.2, 0.4, 0.6, 0.8, 1].map((value) => ({ value, label: `${Math.round(value * 100)} %` })),
};

function panel(
  title: string,
  series: { label: string; colour: string; points: [number, number][]; goal?: number }[],
  top: number,
  scale: "log" | "percent" = "log",
) {
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return `<text x="${MARGIN.left}" y="${top + 40}">${title}: no data yet</text>`;
  const maxX = Math.max(...all.map(([x]) => x));
  const axis = scale === "log" ? logAxis(all.map(([, y]) => y)) : PERCENT_AXIS;
  const w = WIDTH - MARGIN.left - MARGIN.right;
  const h = PANEL - MARGIN.top - MARGIN.bottom;
  const px = (x: number) => MARGIN.left + (x / maxX) * w;
  const py = (y: number) => top + MARGIN.top + (1 - axis.at(y)) * h;
  const parts = [
    `<text x="${MARGIN.left}" y="${top + 24}" font-size="16" font-weight="bold">${title}</text>`,
    `<rect x="${MARGIN.left}" y="${top + MARGIN.top}" width="${w}" height="${h}" fill="none" stroke="#999"/>`,
  ];
  for (const { value, label } of axis.grid) {
    const y = py(value);
    parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + w}" y1="${y}" y2="${y}" stroke="#eee"/>`);
    parts.push(`<text x="${MARGIN.left - 8}" y="${y + 4}" font-size="12" text-anchor="end">${label}</text>`);
  }
  for (let k = 0; k <= 4; k++) {
    const x = (maxX * k) / 4;
    parts.push(
      `<text x="${px(x)}" y="${top + MARGIN.top + h + 18}" font-size="12" text-anchor="middle">${Math.round(x)}</text>`,
    );
  }
  parts.push(
    `<text x="${MARGIN.left + w}" y="${top + PANEL - 6}" font-size="12" text-anchor="end">optimizer step</text>`,
  );
  series.forEach((s, i) => {
    const d = s.points.map(([x, y], j) => `${j ? "L" : "M"}${px(x).toFixed(1)},${py(y).toFixed(1)}`).join("");
    parts.push(`<path d="${d}" fill="none" stroke="${s.colour}" stroke-width="1.5"/>`);
    // Sparse series (a probe every few hundred steps) get a dot per point, and their goal a dashed line.
    if (s.points.length < 200) {
      for (const [x, y] of s.points) {
        parts.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${s.colour}"/>`);
      }
    }
    if (s.goal !== undefined) {
      const y = py(s.goal).toFixed(1);
      parts.push(
        `<line x1="${MARGIN.left}" x2="${MARGIN.left + w}" y1="${y}" y2="${y}" stroke="${s.colour}" stroke-dasharray="6 4"/>`,
      );
    }
    // The legend runs along the bottom, left of the axis label, clear of the data and the goals.
    const lx = MARGIN.left + i * 190;
    const ly = top + PANEL - 6;
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
for (const [stage, title] of stages) {
  const r = await rows(stage);
  if (r.length === 0) continue; // a stage not trained on this machine
  const train = r.filter((x) => x.kind === "train").map((x) => [x.step, x.loss] as [number, number]);
  const validation = r.filter((x) => x.kind === "validation").map((x) => [x.step, x.loss] as [number, number]);
  panels.push(
    panel(
      title,
      [
        { label: "training (100-step mean)", colour: "#1f77b4", points: smooth(train, 100) },
        { label: "validation", colour: "#d62728", points: validation },
      ],
      panels.length * PANEL,
    ),
  );
}
const probes = (await rows("base")).filter((x) => x.kind === "probe");
const probeSeries = (
  [
    ["colour", "colour (goal 90 %)", "#d62728", 0.9],
    ["shape", "shape (goal 80 %)", "#1f77b4", 0.8],
    ["place", "place (goal 75 %)", "#2ca02c", 0.75],
    ["held_out_colour", "colour (unseen pairs)", "#ff7f0e", undefined],
  ] as const
).map(([key, label, colour, goal]) => ({
  label,
  colour,
  goal,
  points: probes.filter((x) => x[key] !== undefined).map((x) => [x.step, x[key]!] as [number, number]),
}));
panels.push(
  panel(
    "Base: caption probe (EMA weights; dpm++2m 25 steps, guidance 3)",
    probeSeries,
    panels.length * PANEL,
    "percent",
  ),
);
const height = PANEL * panels.length;
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="DejaVu Sans, sans-serif">
<rect width="100%" height="100%" fill="white"/>
${panels.join("\n")}
</svg>`;
const png = new Resvg(svg, { font: { loadSystemFonts: true } }).render().asPng();
await writeFile(values.out!, png);
console.log(`wrote ${values.out} (${WIDTH}×${height})`);

// `glide info CHECKPOINT [--json]`: what a checkpoint holds (parameter count, dtypes) and the GLIDE
// configuration its shapes imply, with the preset it matches exactly, if any.
import { open, readFile } from "node:fs/promises";
import type { Command } from "commander";
import {
  type CheckpointFormat,
  compareShapes,
  configFromInferred,
  countParameters,
  GlideError,
  InferConfigError,
  type InferredConfig,
  inferConfig,
  isExactMatch,
  isUserError,
  loadCheckpointFile,
  matchingPresets,
  NOT_INFERABLE,
  PARAMETERS_KEY,
  parameterShapes,
  presetConfig,
  readPictureParameters,
  readPngText,
  resolveConfig,
  sourceDtypes,
} from "glide-ts";
import { SPARSE_ROWS_METADATA, sparseRowsSummary } from "glide-ts/internals";

export interface CheckpointInfo {
  path: string;
  format: CheckpointFormat;
  bytes: number;
  tensors: number;
  parameters: number;
  /** The dtypes the file stores, with how many tensors and values of each. */
  dtypes: { dtype: string; tensors: number; parameters: number }[];
  /** safetensors `__metadata__` (e.g. the source of a converted file). */
  metadata: Record<string, string>;
  /** Null when the shapes are not a GLIDE network (see configError). */
  config: InferredConfig | null;
  configError?: string;
  /** Configuration keys no parameter shape records. */
  notInferable: string[];
  /** Presets whose parameter names and shapes equal the checkpoint's exactly. */
  presets: string[];
  /** Heads of the matching preset (the checkpoint cannot tell them). */
  presetHeads?: { num_heads: number; num_head_channels: number; xf_heads: number };
  /** Whether the inferred configuration rebuilds every key and shape of the checkpoint. */
  verified: boolean;
  /** The configuration stored in the file's metadata (what loading uses): "valid", or why not. */
  storedConfig?: string;
}

export async function inspectCheckpoint(path: string): Promise<CheckpointInfo> {
  const file = await loadCheckpointFile(path);
  const sd = file.stateDict;
  const info: CheckpointInfo = {
    path,
    format: file.format,
    bytes: file.bytes,
    tensors: sd.size,
    parameters: countParameters(sd),
    dtypes: [...sourceDtypes(sd)].map(([dtype, counts]) => ({ dtype, ...counts })),
    metadata: file.metadata,
    config: null,
    notInferable: [...NOT_INFERABLE],
    presets: [],
    verified: false,
  };
  if (file.metadata.config !== undefined) info.storedConfig = checkStoredConfig(file.metadata.config);
  try {
    info.config = inferConfig(sd);
  } catch (e) {
    if (!(e instanceof InferConfigError)) throw e;
    info.configError = e.message;
    return info;
  }
  info.verified = isExactMatch(compareShapes(parameterShapes(configFromInferred(info.config)), sd));
  info.presets = matchingPresets(sd, info.config);
  if (info.presets.length > 0) {
    const preset = presetConfig(info.presets[0]!);
    info.presetHeads = {
      num_heads: preset.num_heads,
      num_head_channels: preset.num_head_channels,
      xf_heads: preset.xf_heads,
    };
  }
  return info;
}

function checkStoredConfig(text: string): string {
  try {
    resolveConfig(JSON.parse(text) as Record<string, unknown>);
    return "valid";
  } catch (error) {
    if (error instanceof SyntaxError || isUserError(error)) return `INVALID: ${error.message}`;
    throw error;
  }
}

function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return String(n);
}

/** The human-readable report: one "key  value" line each. */
export function formatInfo(info: CheckpointInfo): string {
  const rows: [string, string][] = [
    ["file", `${info.path} (${info.format === "torch" ? "torch.save" : "safetensors"}, ${formatCount(info.bytes)}B)`],
    ["parameters", `${info.parameters} (${formatCount(info.parameters)}) in ${info.tensors} tensors`],
    ["dtype", info.dtypes.map((d) => `${d.dtype} (${d.tensors} tensors)`).join(", ") || "none"],
  ];
  for (const [key, value] of Object.entries(info.metadata)) {
    if (key !== SPARSE_ROWS_METADATA) rows.push([`metadata.${key}`, value]);
  }
  // The stored rows' list is long: a count says what matters (--json has it whole).
  for (const t of sparseRowsSummary(info.metadata, info.path)) {
    rows.push([
      `sparse ${t.name}`,
      `${t.stored} of ${t.total} rows stored; the rest are their initial values (init seed ${t.seed})`,
    ]);
  }
  if (info.storedConfig !== undefined) rows.push(["stored configuration", info.storedConfig]);
  const c = info.config;
  if (!c) {
    rows.push(["configuration", `not inferable: ${info.configError}`]);
  } else {
    const heads = info.presetHeads;
    rows.push(
      ["variant", `${c.variant} (${c.in_channels} input channels)`],
      ["image_size", String(c.image_size)],
      ["num_channels", String(c.num_channels)],
      ["num_res_blocks", String(c.num_res_blocks)],
      ["channel_mult", c.channel_mult],
      ["attention_resolutions", c.attention_resolutions || "none (middle block only)"],
      [
        "num_heads/num_head_channels",
        heads
          ? `${heads.num_heads}/${heads.num_head_channels} (from preset ${info.presets[0]}; not in the shapes)`
          : "not inferable (heads change no parameter shape)",
      ],
      ["use_scale_shift_norm", String(c.use_scale_shift_norm)],
      ["resblock_updown", c.resblock_updown === null ? "not inferable (one level)" : String(c.resblock_updown)],
    );
    if (c.xf_width === 0) {
      rows.push(["text", "none (xf_width 0)"]);
    } else {
      rows.push(
        ["text_ctx", String(c.text_ctx)],
        ["xf_width", String(c.xf_width)],
        ["xf_layers", String(c.xf_layers)],
        ["xf_heads", heads ? `${heads.xf_heads} (from preset ${info.presets[0]})` : "not inferable"],
        ["xf_final_ln", String(c.xf_final_ln)],
        ["xf_padding", String(c.xf_padding)],
      );
    }
    rows.push(
      ["preset", info.presets.length > 0 ? `${info.presets.join(", ")} (exact match)` : "none matches exactly"],
      [
        "check",
        info.verified
          ? `the inferred configuration rebuilds all ${info.tensors} keys and shapes`
          : "the inferred configuration does NOT rebuild every key and shape (unusual layout?)",
      ],
    );
  }
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join("\n");
}

export function registerInfo(program: Command): void {
  program
    .command("info")
    .description(
      "show a checkpoint's parameter count, dtype and the GLIDE configuration its shapes imply, or how a picture was made",
    )
    .argument("<file>", "a torch.save .pt file, a .safetensors file, or a PNG that glide wrote")
    .option("--json", "print JSON")
    .action(async (path: string, options: { json?: boolean }) => {
      if (await isPng(path)) {
        process.stdout.write(`${await pictureInfo(path, options.json === true)}\n`);
        return;
      }
      const info = await inspectCheckpoint(path);
      process.stdout.write(options.json ? `${JSON.stringify(info, null, 2)}\n` : `${formatInfo(info)}\n`);
    });
}

async function isPng(path: string): Promise<boolean> {
  try {
    const handle = await open(path, "r");
    try {
      const { buffer, bytesRead } = await handle.read(Buffer.alloc(8), 0, 8, 0);
      return bytesRead === 8 && buffer.equals(PNG_SIGNATURE);
    } finally {
      await handle.close();
    }
  } catch {
    return false; // the checkpoint reader says what is wrong with the path
  }
}

const PNG_SIGNATURE = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);

/** The parameters a picture carries: the A1111-style text, or every setting as JSON. */
async function pictureInfo(path: string, json: boolean): Promise<string> {
  const texts = readPngText(await readFile(path));
  const parameters = readPictureParameters(texts);
  if (!parameters) throw new GlideError(`${path}: a PNG without glide-ts parameters (it was not written by glide)`);
  if (json) return JSON.stringify(parameters, null, 2);
  const base = parameters.base;
  const rows: [string, string][] = [
    ["picture", `${path} (${parameters.width}×${parameters.height})`],
    ["prompt", parameters.prompt],
    [
      "seed",
      `${parameters.seed}${parameters.batchSize > 1 ? ` (image ${parameters.index + 1} of ${parameters.batchSize} of a run with seed ${parameters.seed - parameters.index}; -n 1 with this seed remakes it)` : ""}`,
    ],
    [
      "model",
      `${parameters.model.name}${parameters.model.sha256 ? ` (sha256 ${parameters.model.sha256.slice(0, 16)}…)` : ""}`,
    ],
  ];
  if (base) {
    rows.push(["sampling", `${base.sampler}, ${base.steps} steps, guidance ${base.guidanceScale ?? "none"}`]);
  }
  if (parameters.upsample) {
    const up = parameters.upsample;
    rows.push([
      "upsampler",
      `${parameters.upsampler?.name ?? "?"}: ${up.sampler}, ${up.steps} steps, temperature ${up.temperature}`,
    ]);
  }
  rows.push(["made by", parameters.software], ["A1111 parameters", texts[PARAMETERS_KEY]!.replaceAll("\n", " | ")]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join("\n");
}

// Where a sampling command writes, checked before any work: a bad --out fails at once instead of
// after minutes of sampling, and never overwrites the command's own input picture or mask.

import { stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { checkWritableDirectory, GlideError, makeDirectory, numberedPath, sameFile } from "glide-ts";
import { catalogFiles } from "glide-ts/internals";

export interface InputFile {
  /** What the command calls it: "image", "mask". */
  label: string;
  path: string;
}

/**
 * The files a run of `count` images writes at `out` (out itself, and out-1.png… for a batch):
 * each may be created or replaced, none is a directory or an input. Missing parent directories
 * are created (as writing would). Returns `out`.
 */
export async function checkOutputPath(out: string, count: number, inputs: readonly InputFile[] = []): Promise<string> {
  const paths = count === 1 ? [out] : [out, ...Array.from({ length: count }, (_, i) => numberedPath(out, i + 1))];
  for (const path of paths) {
    const stats = await statOrNull(path);
    if (stats?.isDirectory()) throw new GlideError(`--out ${path} is a directory; give the PNG file to write`);
    if (stats && !stats.isFile()) throw new GlideError(`--out ${path} is not a regular file`);
    const input = await sameFileAs(path, inputs);
    if (input) throw new GlideError(`--out ${path} is the input ${input.label} '${input.path}'; choose another --out`);
  }
  const dir = dirname(resolve(out));
  try {
    if ((await statOrNull(dir)) === null)
      process.stderr.write(`glide: creating the folder ${dirname(out)} for --out\n`);
    await makeDirectory(dir);
    await checkWritableDirectory(dir);
  } catch (error) {
    throw new GlideError(`--out ${out}: ${(error as Error).message}`);
  }
  return out;
}

/** The first of `files` that `path` names: the same path, or another name (a link) of the same file. */
export async function sameFileAs(path: string, files: readonly InputFile[]): Promise<InputFile | null> {
  for (const file of files) if (await sameFile(path, file.path)) return file;
  return null;
}

/**
 * The model files a command was given (--checkpoint, --config, --upsampler, the CLIP files), and
 * those of every named model (shipped, downloaded, and their digests): never an output.
 */
export function modelFileInputs(options: {
  checkpoint?: string;
  config?: string;
  upsampler?: string;
  upsamplerConfig?: string;
  clipImageEnc?: string;
  clipTextEnc?: string;
  clipVocab?: string;
  clipConfig?: string;
}): InputFile[] {
  const labels: [keyof typeof options, string][] = [
    ["checkpoint", "checkpoint"],
    ["config", "config"],
    ["upsampler", "upsampler checkpoint"],
    ["upsamplerConfig", "upsampler config"],
    ["clipImageEnc", "CLIP image encoder"],
    ["clipTextEnc", "CLIP text encoder"],
    ["clipVocab", "CLIP vocabulary"],
    ["clipConfig", "CLIP config"],
  ];
  const given = labels.flatMap(([key, label]) => (options[key] ? [{ label, path: options[key] }] : []));
  return [...given, ...catalogFiles()];
}

async function statOrNull(path: string) {
  try {
    return await stat(path);
  } catch {
    return null;
  }
}

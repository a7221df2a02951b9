// Shared by the pipeline tests: the tiny fixture models (16×16; the upsampler takes any low-res
// size up to 16), their configurations as files, and small test pictures.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import type { GlideModel } from "../../packages/glide-ts/src/glide/model.ts";
import { loadModel } from "../../packages/glide-ts/src/pipelines/load-model.ts";
import { FIXTURES, fixtureManifest } from "../fixtures.ts";

export { FIXTURES };

const manifest = fixtureManifest<{
  cases: Record<string, { config: Record<string, unknown>; checkpoint: string }>;
}>();

export type FixtureName = "text2im" | "inpaint" | "superres";

/** A fresh temporary directory. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "glide-pipelines-"));
}

const configDir = tempDir();

/** The fixture model's checkpoint path and the path of a JSON file with its configuration. */
export function fixtureFiles(name: FixtureName): { checkpoint: string; config: string } {
  const c = manifest.cases[name]!;
  const config = join(configDir, `${name}.json`);
  writeFileSync(config, JSON.stringify(c.config));
  return { checkpoint: join(FIXTURES, c.checkpoint), config };
}

const loaded = new Map<FixtureName, Promise<GlideModel>>();

/** The fixture model, loaded once per test file (its sessions are cached with it). */
export function fixtureModel(name: FixtureName): Promise<GlideModel> {
  let model = loaded.get(name);
  if (!model) {
    model = loadModel({
      checkpoint: join(FIXTURES, manifest.cases[name]!.checkpoint),
      config: manifest.cases[name]!.config,
    }).then((m) => m.model);
    loaded.set(name, model);
  }
  return model;
}

/** A colourful RGB picture of width × height, written as PNG; returns its path. */
export async function writePicture(dir: string, name: string, width: number, height: number): Promise<string> {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = (x * 255) / Math.max(1, width - 1);
      data[i + 1] = (y * 255) / Math.max(1, height - 1);
      data[i + 2] = ((x + y) * 37) % 256;
    }
  }
  const path = join(dir, name);
  await sharp(data, { raw: { width, height, channels: 3 } })
    .png()
    .toFile(path);
  return path;
}

/**
 * A grey mask (white = keep) of width × height with a black rectangle covering the fractions
 * [x0, x1) × [y0, y1) of the picture; returns its path.
 */
export async function writeMask(
  dir: string,
  name: string,
  width: number,
  height: number,
  hole: { x0: number; x1: number; y0: number; y1: number },
): Promise<string> {
  const data = Buffer.alloc(width * height, 255);
  for (let y = Math.round(hole.y0 * height); y < Math.round(hole.y1 * height); y++) {
    for (let x = Math.round(hole.x0 * width); x < Math.round(hole.x1 * width); x++) data[y * width + x] = 0;
  }
  const path = join(dir, name);
  await sharp(data, { raw: { width, height, channels: 1 } })
    .png()
    .toFile(path);
  return path;
}

/** A PNG's size and RGB bytes. */
export async function readPng(path: string): Promise<{ width: number; height: number; data: Uint8Array }> {
  const { data, info } = await sharp(path).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data) };
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

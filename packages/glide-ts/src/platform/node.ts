// The Node platform: onnxruntime-node, sharp and the file system. Importing this module sets it
// (src/node.ts, the CLI, worker threads and the tests do).

import { existsSync, readdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as ort from "onnxruntime-node";
import sharp from "sharp";
import type { RawImage } from "../image/pixels.ts";
import { loadCheckpointFile } from "../io/checkpoint-file.ts";
import { createWeightFiles } from "../io/weight-files.ts";
import { type ImageCodec, type Platform, setPlatform } from "./platform.ts";

const images: ImageCodec = {
  async decode(bytes) {
    const { data, info } = await sharp(bytes)
      .autoOrient()
      .toColourspace("srgb")
      .ensureAlpha()
      .raw({ depth: "uchar" })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 4) throw new Error(`decoded to ${info.channels} channels, expected RGBA`);
    return { width: info.width, height: info.height, channels: 4, data: new Uint8Array(data) };
  },
  async resize(image, size, fit, kernel) {
    const { width, height, channels } = image;
    let pipeline = sharp(image.data, { raw: { width, height, channels } }).resize(size, size, {
      fit: fit === "crop" ? "cover" : "fill",
      position: "centre",
      kernel,
    });
    if (channels === 1) pipeline = pipeline.toColourspace("b-w"); // else sharp returns sRGB
    const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== channels) {
      throw new Error(`resize changed the channel count from ${channels} to ${info.channels}`);
    }
    return { width: size, height: size, channels, data: new Uint8Array(data) } satisfies RawImage;
  },
  async encodePng(image) {
    const { width, height, channels } = image;
    return new Uint8Array(await sharp(image.data, { raw: { width, height, channels } }).png().toBuffer());
  },
};

/** Dawn runs WebGPU over Vulkan on Linux: a driver's manifest must be named or installed. */
function hasVulkanDriver(): boolean {
  if (process.env.VK_ICD_FILENAMES || process.env.VK_DRIVER_FILES) return true;
  const folders = ["/usr/share/vulkan/icd.d", "/etc/vulkan/icd.d", "/usr/local/share/vulkan/icd.d"];
  return folders.some((folder) => existsSync(folder) && readdirSync(folder).some((f) => f.endsWith(".json")));
}

/**
 * onnxruntime-node loads the CUDA provider from libraries its install step downloads (skipped
 * unless asked for): without them a session would fail with a native error dump.
 */
function missingProvider(name: string): string | null {
  if (name === "webgpu")
    return process.platform === "linux" && !hasVulkanDriver() ? "no Vulkan driver is installed" : null;
  if (name !== "cuda") return null;
  const binary = dirname(createRequire(import.meta.url).resolve("onnxruntime-node"));
  const folder = join(binary, "..", "bin", "napi-v6", process.platform, process.arch);
  const library = process.platform === "win32" ? "onnxruntime_providers_cuda.dll" : "libonnxruntime_providers_cuda.so";
  return existsSync(join(folder, library)) ? null : "the CUDA provider's library is not installed";
}

export const nodePlatform: Platform = {
  name: "node",
  inference: { InferenceSession: ort.InferenceSession, Tensor: ort.Tensor, defaultProvider: "cpu", missingProvider },
  images,
  files: {
    async readBytes(path) {
      try {
        return new Uint8Array(await readFile(path));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new Error(
          code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : (error as Error).message,
        );
      }
    },
    readCheckpoint: loadCheckpointFile,
  },
  weights: createWeightFiles(),
};

setPlatform(nodePlatform);

// The browser platform: onnxruntime-web (WebAssembly, or WebGPU where asked for), the browser's
// own image decoding and canvas, and fetch for files (URLs). Importing this module sets it.
/// <reference lib="dom" />
import * as ort from "onnxruntime-web";
import type { RawImage } from "../image/pixels.ts";
import { type ImageCodec, type Platform, setPlatform } from "./platform.ts";

function canvas(width: number, height: number): OffscreenCanvasRenderingContext2D {
  const context = new OffscreenCanvas(width, height).getContext("2d", { willReadFrequently: true });
  if (!context) throw new Error("this browser has no 2D canvas");
  return context;
}

/** RGBA pixels of any RawImage (grey and RGB are widened). */
function rgba(image: RawImage): Uint8ClampedArray<ArrayBuffer> {
  const { width, height, channels, data } = image;
  const out = new Uint8ClampedArray(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 3; c++) out[p * 4 + c] = data[p * channels + (channels < 3 ? 0 : c)]!;
    out[p * 4 + 3] = channels === 4 ? data[p * 4 + 3]! : 255;
  }
  return out;
}

/** Back to `channels` channels from canvas RGBA. */
function narrow(data: Uint8ClampedArray, width: number, height: number, channels: RawImage["channels"]): RawImage {
  const out = new Uint8Array(width * height * channels);
  for (let p = 0; p < width * height; p++) for (let c = 0; c < channels; c++) out[p * channels + c] = data[p * 4 + c]!;
  return { width, height, channels, data: out };
}

const images: ImageCodec = {
  async decode(bytes) {
    const bitmap = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>]), {
      premultiplyAlpha: "none",
      colorSpaceConversion: "default",
    });
    const context = canvas(bitmap.width, bitmap.height);
    context.drawImage(bitmap, 0, 0);
    const { data } = context.getImageData(0, 0, bitmap.width, bitmap.height);
    return { width: bitmap.width, height: bitmap.height, channels: 4, data: new Uint8Array(data.buffer) };
  },
  async resize(image, size, fit, kernel) {
    const source = canvas(image.width, image.height);
    source.putImageData(new ImageData(rgba(image), image.width, image.height), 0, 0);
    const target = canvas(size, size);
    target.imageSmoothingEnabled = kernel !== "nearest";
    target.imageSmoothingQuality = "high";
    // "crop": scale to cover the square and take the centre; "stretch": scale each axis.
    const scale = fit === "crop" ? Math.max(size / image.width, size / image.height) : 0;
    const [w, h] = fit === "crop" ? [image.width * scale, image.height * scale] : [size, size];
    target.drawImage(source.canvas, (size - w) / 2, (size - h) / 2, w, h);
    return narrow(target.getImageData(0, 0, size, size).data, size, size, image.channels);
  },
  async encodePng(image) {
    const context = canvas(image.width, image.height);
    context.putImageData(new ImageData(rgba(image), image.width, image.height), 0, 0);
    const blob = await (context.canvas as OffscreenCanvas).convertToBlob({ type: "image/png" });
    return new Uint8Array(await blob.arrayBuffer());
  },
};

export const browserPlatform: Platform = {
  name: "browser",
  inference: {
    InferenceSession: ort.InferenceSession,
    Tensor: ort.Tensor,
    defaultProvider: "wasm",
    fillsPreallocatedOutputs: false,
  },
  images,
  files: {
    async readBytes(url) {
      const response = await fetch(url);
      if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
      return new Uint8Array(await response.arrayBuffer());
    },
  },
};

/** onnxruntime-web's own settings (threads, where its .wasm files are), for the page to adjust. */
export const webEnvironment = ort.env;

setPlatform(browserPlatform);

// What travels through Redis between `glide serve` and `glide worker`: plain JSON. Uploaded pictures
// and results are PNG files in base64; the previews of progress events are raw RGB in base64 (a
// preview is decoded on every step, and raw bytes decode synchronously, keeping the events in order).

import type { PipelineResult, ProgressEvent, RawImage, RgbImage } from "glide-ts";
import { decodeImage, encodePng } from "glide-ts";
import { imageToTensor, revive, type SerializedError, serializedError } from "glide-ts/internals";
import type { ImageJob, JobSampling } from "../image-job.ts";
import { JobTimeoutError } from "./job-queue.ts";

export type WireJob =
  | ({ kind: "generate" } & JobSampling)
  | ({ kind: "edit"; image: string; mask: string } & JobSampling)
  | ({ kind: "variation"; image: string; strength?: number } & JobSampling);

/** A BullMQ job's data. */
export interface WireJobData {
  job: WireJob;
  /** The channel of the server that waits for it: progress events go there. */
  replyTo: string;
  /** The worker stops the job after this long (null: no limit). */
  timeoutMs: number | null;
}

export interface WireResult extends Omit<PipelineResult, "images" | "lowRes" | "samples"> {
  images: string[];
  lowRes: string[] | null;
}

/** A BullMQ job's return value: a job that failed on its worker still completes in BullMQ, with its error. */
export type WireOutcome = { result: WireResult } | { error: SerializedError };

interface WireImage {
  width: number;
  height: number;
  rgb: string;
}

export type WireProgressEvent = Exclude<ProgressEvent, { kind: "step" }> | WireStepEvent;
type WireStepEvent = Omit<Extract<ProgressEvent, { kind: "step" }>, "preview"> & { preview?: WireImage[] };

/** A progress message on a server's channel. `attempt` tells a job's runs apart (a worker died, another took it). */
export interface WireProgress {
  jobId: string;
  attempt: number;
  event: WireProgressEvent;
}

const base64 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
const bytesOf = (text: string) => new Uint8Array(Buffer.from(text, "base64"));

export function encodeJob(job: ImageJob): WireJob {
  switch (job.kind) {
    case "generate":
      return job;
    case "edit":
      return { ...job, image: base64(job.image), mask: base64(job.mask) };
    case "variation":
      return { ...job, image: base64(job.image) };
  }
}

export function decodeJob(job: WireJob): ImageJob {
  switch (job.kind) {
    case "generate":
      return job;
    case "edit":
      return { ...job, image: bytesOf(job.image), mask: bytesOf(job.mask) };
    case "variation":
      return { ...job, image: bytesOf(job.image) };
  }
}

export async function encodeResult(result: PipelineResult): Promise<WireResult> {
  const pngs = (images: readonly RgbImage[]) =>
    Promise.all(images.map(async (image) => base64(await encodePng(image))));
  const { images, lowRes, samples: _samples, ...rest } = result;
  return { ...rest, images: await pngs(images), lowRes: lowRes && (await pngs(lowRes)) };
}

/** The result as the pipeline gave it, but `samples`: rebuilt from the 8-bit images (floats do not travel). */
export async function decodeResult(wire: WireResult): Promise<PipelineResult> {
  const rgbs = (pngs: readonly string[]) =>
    Promise.all(pngs.map(async (png) => rgb(await decodeImage(bytesOf(png), "a result"))));
  const { images: pngs, lowRes: lowResPngs, ...rest } = wire;
  const images = await rgbs(pngs);
  const plane = images[0] ? 3 * images[0].width * images[0].height : 0;
  const samples = new Float32Array(plane * images.length);
  for (const [i, image] of images.entries()) samples.set(imageToTensor(image), i * plane);
  return { ...rest, images, samples, lowRes: lowResPngs && (await rgbs(lowResPngs)) };
}

export function encodeProgress(event: ProgressEvent): WireProgressEvent {
  if (event.kind !== "step" || !event.preview) return event as WireProgressEvent;
  return {
    ...event,
    preview: event.preview.map((image) => ({ width: image.width, height: image.height, rgb: base64(image.data) })),
  };
}

export function decodeProgress(event: WireProgressEvent): ProgressEvent {
  if (event.kind !== "step" || !event.preview) return event as ProgressEvent;
  return {
    ...event,
    preview: event.preview.map((image) => ({
      width: image.width,
      height: image.height,
      channels: 3,
      data: bytesOf(image.rgb),
    })),
  };
}

export function serializeError(error: unknown): SerializedError {
  return serializedError(error);
}

/** A worker's error as an error of its class here (JobTimeoutError, CancelledError, PipelineError, …). */
export function reviveError(error: SerializedError): Error {
  if (error.name === "JobTimeoutError") return new JobTimeoutError(error.message);
  return revive(error);
}

function rgb(image: RawImage): RgbImage {
  if (image.channels === 3) return image as RgbImage;
  const pixels = image.width * image.height;
  const data = new Uint8Array(pixels * 3);
  for (let p = 0; p < pixels; p++) {
    for (let c = 0; c < 3; c++) data[p * 3 + c] = image.data[p * image.channels + (image.channels === 1 ? 0 : c)]!;
  }
  return { width: image.width, height: image.height, channels: 3, data };
}

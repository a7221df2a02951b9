// Shared by the server tests: a real server on 127.0.0.1 (a free port) serving the tiny fixture
// models, and small pictures to send it.
import sharp from "sharp";
import { type GlideServer, type ServeOptions, startServer } from "../../packages/app/src/server/server.ts";
import type { ServedModel } from "../../packages/app/src/server/worker-pool.ts";
import { fixtureFiles } from "../pipelines/helpers.ts";

/** The fixture text2im model (16×16) and, with `upsampler`, the fixture upsampler (16 → 16). */
export function fixtureModels(upsampler = false): ServeOptions["models"] {
  const base = fixtureFiles("text2im");
  const up = fixtureFiles("superres");
  const stages = {
    base: { checkpoint: base.checkpoint, config: base.config },
    upsampler: upsampler ? { checkpoint: up.checkpoint, config: up.config } : null,
  };
  return { id: "fixture", generate: stages, edit: stages };
}

/** A started server whose models are loaded. */
export async function fixtureServer(options: Partial<ServeOptions> = {}): Promise<GlideServer> {
  const server = await startServer({
    models: fixtureModels(),
    port: 0,
    threads: 1,
    log: () => undefined,
    ...options,
  });
  await server.ready;
  return server;
}

/** A PNG of width × height RGBA pixels; `transparent(x, y)` pixels get alpha 0. */
export async function pngBytes(
  width: number,
  height: number,
  transparent: (x: number, y: number) => boolean = () => false,
): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      data[i] = (x * 255) / Math.max(1, width - 1);
      data[i + 1] = (y * 255) / Math.max(1, height - 1);
      data[i + 2] = 128;
      data[i + 3] = transparent(x, y) ? 0 : 255;
    }
  }
  return sharp(data, { raw: { width, height, channels: 4 } })
    .png()
    .toBuffer();
}

/** The size of a base64 PNG. */
export async function pngSize(b64: string): Promise<{ width: number; height: number; format: string }> {
  const meta = await sharp(Buffer.from(b64, "base64")).metadata();
  return { width: meta.width!, height: meta.height!, format: meta.format! };
}

/** The events of a text/event-stream body: name and parsed data. */
export function parseEvents(text: string): { event: string; data: Record<string, unknown> }[] {
  return text
    .split("\n\n")
    .filter((block) => block.trim() !== "")
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
      const data = JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? "null") as Record<string, unknown>;
      return { event, data };
    });
}

/** A counter or gauge from the server's Prometheus /metrics (NaN when it is not there). */
export async function readMetric(serverUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${serverUrl}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return Number(line?.split(" ")[1] ?? Number.NaN);
}

/** The side of a fake executor's pictures, and what a queue worker with such an executor serves. */
export const FAKE_SIDE = 8;
export const FAKE_SERVED: ServedModel = {
  id: "fake",
  sizes: {
    generate: { base: FAKE_SIDE, upsampled: null },
    edit: { base: FAKE_SIDE, upsampled: null },
    variation: { base: FAKE_SIDE, upsampled: null },
  },
};

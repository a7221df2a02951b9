// Server-Sent Events in OpenAI's image streaming shape: `image_generation.partial_image` (or
// `image_edit.…`) events with the predicted x₀ every few steps, `glide.progress` events with the
// step, total and ETA, then one `….completed` event per image, or an `error` event.
import { PassThrough } from "node:stream";
import type { PipelineResult, ProgressEvent, RgbImage, StepEvent } from "glide-ts";
import { encodePng } from "glide-ts";
import type { ApiErrorBody } from "./errors.ts";

export type EventPrefix = "image_generation" | "image_edit";

const IMAGE_FIELDS = { background: "opaque", output_format: "png", quality: "auto" } as const;
const NO_USAGE = {
  input_tokens: 0,
  output_tokens: 0,
  total_tokens: 0,
  input_tokens_details: { image_tokens: 0, text_tokens: 0 },
};

const base64Png = async (image: RgbImage) => Buffer.from(await encodePng(image)).toString("base64");
const now = () => Math.floor(Date.now() / 1000);

export class ImageEventStream {
  /** What the reply sends. */
  readonly body = new PassThrough();
  /** Writes in the order their events happened, though encoding a preview is asynchronous. */
  private written: Promise<void> = Promise.resolve();
  private partialIndex = 0;
  private partialsInStage = 0;

  constructor(
    private readonly prefix: EventPrefix,
    private readonly size: string,
    private readonly partialImages: number,
  ) {
    // A client that went away leaves nothing to write to: events after that are dropped.
    this.body.on("error", () => undefined);
  }

  /** The job's progress events: every step, and a chosen few of the previews. */
  readonly onProgress = (event: ProgressEvent): void => {
    if (event.kind !== "step") return;
    if (event.step === 0) this.partialsInStage = 0;
    this.send("glide.progress", {
      type: "glide.progress",
      stage: event.stage,
      step: event.step,
      total: event.total,
      elapsed_seconds: round(event.elapsedSeconds),
      eta_seconds: event.etaSeconds === null ? null : round(event.etaSeconds),
    });
    if (event.preview && this.wantsPartial(event)) {
      this.partialsInStage++;
      const index = this.partialIndex++;
      const stage = event.stage;
      for (const [image, preview] of event.preview.entries()) {
        this.later(async () => {
          const b64 = await base64Png(preview);
          return this.event(`${this.prefix}.partial_image`, {
            type: `${this.prefix}.partial_image`,
            b64_json: b64,
            created_at: now(),
            size: `${preview.width}x${preview.height}`,
            ...IMAGE_FIELDS,
            partial_image_index: index,
            image_index: image,
            stage,
          });
        });
      }
    }
  };

  /** One event per image: `pngs` are the result's pictures as sent (with their parameters). */
  async completed(result: PipelineResult, pngs: readonly Uint8Array[]): Promise<void> {
    for (const [image, png] of pngs.entries()) {
      this.later(async () =>
        this.event(`${this.prefix}.completed`, {
          type: `${this.prefix}.completed`,
          b64_json: Buffer.from(png).toString("base64"),
          created_at: now(),
          size: this.size,
          ...IMAGE_FIELDS,
          usage: NO_USAGE,
          image_index: image,
          seed: result.seeds[image],
        }),
      );
    }
    await this.end();
  }

  async failed(error: ApiErrorBody): Promise<void> {
    this.send("error", { type: "error", ...error });
    await this.end();
  }

  /** `partialImages` previews per stage, spread over its steps, none at the last (the result comes then). */
  private wantsPartial(event: StepEvent): boolean {
    if (this.partialsInStage >= this.partialImages || event.step >= event.total) return false;
    const every = Math.max(1, Math.floor(event.total / (this.partialImages + 1)));
    return event.step % every === 0;
  }

  private send(name: string, data: object): void {
    this.later(async () => this.event(name, data));
  }

  private later(make: () => Promise<string>): void {
    const text = make();
    this.written = this.written.then(async () => {
      const event = await text.catch(() => "");
      if (!this.body.destroyed && !this.body.writableEnded) this.body.write(event);
    });
  }

  private event(name: string, data: object): string {
    return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
  }

  private async end(): Promise<void> {
    await this.written.catch(() => undefined);
    if (!this.body.destroyed) this.body.end();
  }
}

const round = (x: number) => Math.round(x * 1000) / 1000;

// The workers that run the networks: one JobRunner thread per slot, each with every served model
// loaded once, so the HTTP thread never runs a network. Variations run in a second thread of the
// slot (started on first use) until the JobRunner has a variation pipeline.
import { JobRunner } from "../jobs/job-runner.ts";
import type { JobRequest, LoadedModelInfo } from "../jobs/protocol.ts";
import { PipelineError } from "../pipelines/errors.ts";
import type { ModelSource } from "../pipelines/load-model.ts";
import type { PipelineResult } from "../pipelines/types.ts";
import type { ImageJob, JobKind } from "./image-job.ts";
import type { JobExecutor, SubmitOptions } from "./queue/job-queue.ts";
import type { ServedModelSources, StageSources } from "./served-models.ts";
import { VariationRunner } from "./variation-runner.ts";

/** The square sides a job kind makes: the base model's, and the upsampler's (null: none). */
export interface StageSizes {
  base: number;
  upsampled: number | null;
}

/** What the HTTP side knows of the served models. */
export interface ServedModel {
  id: string;
  sizes: Record<JobKind, StageSizes | { unavailable: string }>;
}

export interface PoolOptions {
  workers: number;
  /** onnxruntime threads per worker. */
  threads: number;
}

interface StageKeys {
  base: string;
  upsampler: string | null;
}

export class WorkerPool implements JobExecutor<ImageJob> {
  private readonly variations: (Promise<VariationRunner> | null)[];

  private constructor(
    private readonly runners: JobRunner[],
    private readonly sources: ServedModelSources,
    private readonly keys: { generate: StageKeys; edit: StageKeys | null },
    readonly served: ServedModel,
    private readonly threads: number,
  ) {
    this.variations = runners.map(() => null);
  }

  get slots(): number {
    return this.runners.length;
  }

  /** Starts the workers and loads the models in each (each distinct model once per worker). */
  static async start(sources: ServedModelSources, options: PoolOptions): Promise<WorkerPool> {
    const distinct = new Map<string, { key: string; source: ModelSource }>();
    const keyOf = (source: ModelSource) => {
      const id = JSON.stringify(source);
      if (!distinct.has(id)) distinct.set(id, { key: `model-${distinct.size}`, source });
      return distinct.get(id)!.key;
    };
    const stageKeys = (stage: StageSources): StageKeys => ({
      base: keyOf(stage.base),
      upsampler: stage.upsampler ? keyOf(stage.upsampler) : null,
    });
    const keys = {
      generate: stageKeys(sources.generate),
      edit: "unavailable" in sources.edit ? null : stageKeys(sources.edit),
    };
    const runners = Array.from({ length: options.workers }, () => JobRunner.start());
    try {
      const infos = await Promise.all(
        runners.map(async (runner) => {
          const loaded = new Map<string, LoadedModelInfo>();
          for (const { key, source } of distinct.values()) loaded.set(key, await runner.load(key, source));
          return loaded;
        }),
      );
      const info = infos[0]!;
      const sizes = (stage: StageKeys | null, reason: string): StageSizes | { unavailable: string } =>
        stage
          ? {
              base: info.get(stage.base)!.imageSize,
              upsampled: stage.upsampler ? info.get(stage.upsampler)!.imageSize : null,
            }
          : { unavailable: reason };
      const editReason = "unavailable" in sources.edit ? sources.edit.unavailable : "";
      const served: ServedModel = {
        id: sources.id,
        sizes: {
          generate: sizes(keys.generate, ""),
          edit: sizes(keys.edit, editReason),
          variation: sizes(keys.generate, ""),
        },
      };
      return new WorkerPool(runners, sources, keys, served, options.threads);
    } catch (error) {
      await Promise.all(runners.map((r) => r.close()));
      throw error;
    }
  }

  run(slot: number, job: ImageJob, options: SubmitOptions & { signal: AbortSignal }): Promise<PipelineResult> {
    const runner = this.runners[slot];
    if (!runner) throw new RangeError(`no worker slot ${slot}`);
    const common = {
      prompt: job.prompt,
      batchSize: job.n,
      seed: job.seed,
      sampler: job.sampler,
      steps: job.steps,
      guidanceScale: job.guidance,
      threads: this.threads,
      previewEvery: job.previewEvery,
    };
    switch (job.kind) {
      case "generate": {
        const { base, upsampler } = this.keys.generate;
        return runner.run(
          { pipeline: "textToImage", model: base, upsampler: job.upsample ? upsampler : null, options: common },
          options,
        );
      }
      case "edit": {
        if (!this.keys.edit) throw new PipelineError("edits are not available on this server");
        const { base, upsampler } = this.keys.edit;
        const request: JobRequest = {
          pipeline: "edit",
          model: base,
          upsampler: job.upsample ? upsampler : null,
          options: { ...common, image: job.image, mask: job.mask },
        };
        return runner.run(request, options);
      }
      case "variation":
        return this.variation(slot, job, common, options);
    }
  }

  async close(): Promise<void> {
    const variations = await Promise.all(this.variations.map((v) => v?.catch(() => null)));
    await Promise.all([...this.runners.map((r) => r.close()), ...variations.map((v) => v?.close())]);
  }

  private async variation(
    slot: number,
    job: Extract<ImageJob, { kind: "variation" }>,
    common: Record<string, unknown> & { prompt: string; threads: number; previewEvery: number },
    options: SubmitOptions & { signal: AbortSignal },
  ): Promise<PipelineResult> {
    let started = this.variations[slot];
    if (!started) {
      started = VariationRunner.start(this.sources.generate.base);
      // A failed start is retried by the next variation.
      started.catch(() => {
        this.variations[slot] = null;
      });
      this.variations[slot] = started;
    }
    const varied = await (await started).run({ ...common, image: job.image, strength: job.strength }, options);
    const upsampler = this.keys.generate.upsampler;
    if (!job.upsample || !upsampler) return varied;
    // The variations at the base resolution, each upsampled by the slot's JobRunner.
    const images: PipelineResult["images"] = [];
    const samples: Float32Array[] = [];
    const timing = { setup: 0, sampling: 0, steps: 0 };
    let seconds = 0;
    let last: PipelineResult | null = null;
    for (const [k, image] of varied.images.entries()) {
      last = await this.runners[slot]!.run(
        {
          pipeline: "upsample",
          upsampler,
          options: {
            prompt: job.prompt,
            image,
            seed: (varied.seed + 1 + k) % 2 ** 32,
            threads: this.threads,
            previewEvery: job.previewEvery,
          },
        },
        options,
      );
      images.push(...last.images);
      samples.push(last.samples);
      seconds += last.timings.totalSeconds;
      const t = last.timings.upsample;
      if (t) {
        timing.setup += t.setup;
        timing.sampling += t.sampling;
        timing.steps += t.steps;
      }
    }
    const joined = new Float32Array(samples.reduce((sum, s) => sum + s.length, 0));
    let offset = 0;
    for (const s of samples) {
      joined.set(s, offset);
      offset += s.length;
    }
    return {
      ...varied,
      images,
      samples: joined,
      shape: [images.length, ...last!.shape.slice(1)],
      lowRes: varied.images,
      settings: { ...varied.settings, upsample: last!.settings.upsample },
      timings: { base: varied.timings.base, upsample: timing, totalSeconds: varied.timings.totalSeconds + seconds },
    };
  }
}

// The workers that run the networks: one JobRunner thread per slot, each with every served model
// loaded once, so the HTTP thread never runs a network.

import type {
  JobRequest,
  LoadedModelInfo,
  ModelSource,
  PipelineResult,
  RecommendedSampling,
  ResolvedDevice,
} from "glide-ts";
import { JobRunner, PipelineError } from "glide-ts";
import type { ImageJob, JobKind } from "./image-job.ts";
import { type StagePictures, stagePictures } from "./picture-pngs.ts";
import type { JobExecutor, SubmitOptions } from "./queue/job-queue.ts";
import type { ServedModelSources, StageSources } from "./served-models.ts";

/** The square sides a job kind makes: the base model's, and the upsampler's (null: none). */
export interface StageSizes {
  base: number;
  upsampled: number | null;
}

/** What the HTTP side knows of the served models. */
export interface ServedModel {
  id: string;
  sizes: Record<JobKind, StageSizes | { unavailable: string }>;
  /** The model files each kind's pictures name in their parameters (absent: named by `id`). */
  pictures?: Partial<Record<JobKind, StagePictures>>;
  /** Where the networks run (absent from workers older than --device: the CPU). */
  device?: ResolvedDevice;
  /** The sampling settings the generating base model recommends (absent or null: the pipelines' defaults). */
  sampling?: RecommendedSampling | null;
}

export interface PoolOptions {
  workers: number;
  /** onnxruntime threads per worker. */
  threads: number;
  /**
   * Where every job's networks run (default cpu), settled before the pool starts. Each worker keeps
   * its sessions, and so the weights on the device, for its life: one upload per model and batch size.
   */
  device?: ResolvedDevice;
}

interface StageKeys {
  base: string;
  upsampler: string | null;
}

export class WorkerPool implements JobExecutor<ImageJob> {
  private constructor(
    private readonly runners: JobRunner[],
    private readonly keys: { generate: StageKeys; edit: StageKeys | null },
    readonly served: ServedModel,
    private readonly threads: number,
    private readonly device: ResolvedDevice,
  ) {}

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
      const generatePictures = await stagePictures(sources.generate);
      const pictures: ServedModel["pictures"] = {
        generate: generatePictures,
        variation: generatePictures,
        ...("unavailable" in sources.edit ? {} : { edit: await stagePictures(sources.edit) }),
      };
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
        device: options.device ?? "cpu",
        sizes: {
          generate: sizes(keys.generate, ""),
          edit: sizes(keys.edit, editReason),
          variation: sizes(keys.generate, ""),
        },
        pictures,
        sampling: keys.generate ? (info.get(keys.generate.base)?.recommendedSampling ?? null) : null,
      };
      return new WorkerPool(runners, keys, served, options.threads, options.device ?? "cpu");
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
      device: this.device,
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
      case "variation": {
        // Variations vary the generation model's pictures, upsampled by its upsampler.
        const { base, upsampler } = this.keys.generate;
        const request: JobRequest = {
          pipeline: "variation",
          model: base,
          upsampler: job.upsample ? upsampler : null,
          options: { ...common, image: job.image, strength: job.strength },
        };
        return runner.run(request, options);
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.runners.map((r) => r.close()));
  }
}

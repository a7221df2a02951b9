// The PNGs the server answers with and stores: each carries its parameters (the `parameters` and
// `glide-ts` text chunks, with that image's own seed), as the files of `glide generate` do.

import type { ModelSource, PipelineResult } from "glide-ts";
import { addPngText, encodePng, type PictureModel, parameterTexts, pictureParameters } from "glide-ts";
import { pictureModelOf, SOFTWARE } from "glide-ts/internals";
import type { StageSources } from "./served-models.ts";

/** The models of a job kind, as its pictures name them. */
export interface StagePictures {
  model: PictureModel;
  upsampler: PictureModel | null;
}

/** Names and digests of a kind's model files (bytes given in memory are named by their label). */
export async function stagePictures(stage: StageSources): Promise<StagePictures> {
  const named = (source: ModelSource): Promise<PictureModel> | PictureModel =>
    typeof source.checkpoint === "string"
      ? pictureModelOf(source.checkpoint)
      : { name: source.label ?? "checkpoint bytes" };
  return { model: await named(stage.base), upsampler: stage.upsampler ? await named(stage.upsampler) : null };
}

/** One PNG per image of the result, each with its own parameters. */
export function resultPngs(result: PipelineResult, models: StagePictures): Promise<Uint8Array[]> {
  return Promise.all(
    result.images.map(async (image, index) => {
      const texts = parameterTexts(pictureParameters(result, index, models, SOFTWARE));
      return addPngText(await encodePng(image), texts);
    }),
  );
}

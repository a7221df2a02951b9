// The sample grid `glide train` writes every --sample-every steps, for each model kind: text2im
// draws the prompts; an inpainting model redraws the centre of a picture; an upsampler (with or
// without inpainting) upsamples the picture brought down to its low-res input size.
import {
  edit,
  type GlideConfig,
  type ImageSource,
  imageGrid,
  openDataset,
  PipelineError,
  type RawImage,
  type RgbImage,
  type TrainOptions,
  tensorToImages,
  textToImage,
  upsample,
  writePng,
} from "glide-ts";

export interface SampleGridOptions {
  prompts: readonly string[];
  steps: number;
  seed: number;
  threads?: number;
  /** The picture inpainting and upsampling models start from (text2im needs none). */
  image?: ImageSource;
}

/** White (kept) with the centre half of each side black (redrawn): the inpainting grid's mask. */
export function centreMask(size: number): RawImage {
  const data = new Uint8Array(size * size).fill(255);
  const lo = Math.floor(size / 4);
  const hi = size - lo;
  for (let y = lo; y < hi; y++) data.fill(0, y * size + lo, y * size + hi);
  return { width: size, height: size, channels: 1, data };
}

/** The first picture of a dataset, in its order on disk, at `size` pixels. */
export async function firstPicture(data: string | readonly string[], size: number): Promise<RgbImage> {
  const dataset = await openDataset(data, { resolution: size, shuffle: false, epochs: 1 });
  for await (const sample of dataset) return tensorToImages(sample.image, [1, 3, size, size])[0]!;
  throw new PipelineError(`${dataset.source}: no readable picture for the sample grid`);
}

/** Renders the grid with the trainer's model of the current EMA weights. */
export function sampleGrid(config: GlideConfig, options: SampleGridOptions): NonNullable<TrainOptions["sample"]> {
  const common = { steps: options.steps, seed: options.seed, batchSize: 1, threads: options.threads };
  const { image } = options;
  if ((config.inpaint || config.super_res) && image === undefined) {
    throw new PipelineError("the sample grid of an inpainting or upsampling model needs a picture to start from");
  }
  return async (model, _step, path) => {
    const images: RgbImage[] = [];
    for (const prompt of options.prompts) {
      const result = config.super_res
        ? await upsample({ ...common, prompt, upsampler: model, image: image! })
        : config.inpaint
          ? await edit({
              ...common,
              prompt,
              model,
              sampler: "dpm++2m",
              image: image!,
              mask: centreMask(config.image_size),
            })
          : await textToImage({ ...common, prompt, model, sampler: "dpm++2m" });
      images.push(...result.images);
    }
    await writePng(path, imageGrid(images));
  };
}

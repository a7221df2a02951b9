// A downloaded picture carries how it was made: a PNG that has no `parameters` text chunk yet (the
// browser build's pictures, or an older server's) gets one written here, in the form the CLI and
// the server write (src/pipelines/picture-parameters.ts, through src/image/png-text.ts): the
// prompt, then "Steps: …, Sampler: …, CFG scale: …, Seed: …, Size: WxH, …". What the page does not
// know (the model's hash, the upsampler's steps) is left out rather than guessed.
import { addPngText, PARAMETERS_KEY, parameterTexts, readPngText } from "glide-ts/png-parameters";
import type { GalleryItem } from "./gallery.ts";

/** The picture's PNG, with a `parameters` chunk when it had none and its seed is known. */
export async function withParameters(item: GalleryItem): Promise<Blob> {
  const { picture, note } = item;
  const png = new Uint8Array(await picture.blob.arrayBuffer());
  let texts: Record<string, string>;
  try {
    texts = readPngText(png);
  } catch {
    return picture.blob; // not a PNG: downloaded as it is
  }
  if (texts[PARAMETERS_KEY] !== undefined || picture.seed === undefined) return picture.blob;
  const { width, height } = pngSize(png);
  const { options } = note;
  const stage = {
    sampler: options.sampler ?? "",
    steps: options.steps ?? "default",
    evaluations: 0,
    guidanceScale: options.guidance ?? null,
    temperature: 1,
    model: { variant: "", imageSize: width },
  };
  const parameters = parameterTexts({
    prompt: options.prompt,
    seed: picture.seed,
    batchSize: 1,
    index: 0,
    width,
    height,
    model: { name: "glide-ts" },
    base: stage,
    upsampler: null,
    upsample: null,
    software: "glide-ts web page",
  })[PARAMETERS_KEY]!;
  return new Blob([addPngText(png, { [PARAMETERS_KEY]: parameters }) as Uint8Array<ArrayBuffer>], {
    type: "image/png",
  });
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(png: Uint8Array): { width: number; height: number } {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

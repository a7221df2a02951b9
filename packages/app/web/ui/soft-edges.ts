// Softened edges for an edit: the model redraws the marked pixels outright, so a result is blended
// with the picture it started from through the blurred mask (MaskPainter.softMask): the original
// where the mask is opaque, the result where it is transparent, a mix along the edge.
import { el } from "./dom.ts";

/** The result with the original laid over it through the soft mask (both scaled to the result's size). */
export async function blendEdges(result: Blob, original: Blob, softMask: HTMLCanvasElement): Promise<Blob> {
  const [after, before] = await Promise.all([createImageBitmap(result), createImageBitmap(original)]);
  const { width, height } = after;
  const kept = el("canvas", { width, height });
  const keptContext = kept.getContext("2d")!;
  keptContext.imageSmoothingQuality = "high";
  keptContext.drawImage(softMask, 0, 0, width, height);
  keptContext.globalCompositeOperation = "source-in"; // the original, as opaque as the mask
  keptContext.drawImage(before, 0, 0, width, height);
  const canvas = el("canvas", { width, height });
  const context = canvas.getContext("2d")!;
  context.drawImage(after, 0, 0);
  context.drawImage(kept, 0, 0);
  after.close();
  before.close();
  return new Promise((resolve, reject) =>
    canvas.toBlob(
      (blob) => (blob ? resolve(blob) : reject(new Error("the blended picture could not be encoded"))),
      "image/png",
    ),
  );
}

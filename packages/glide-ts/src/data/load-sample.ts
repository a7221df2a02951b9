// Turns one stored pair into a Sample, or into the reason it has to be skipped.
import type { Sample } from "./dataset.ts";
import { trainingPicture } from "./decode-image.ts";

export type Loaded = { ok: true; sample: Sample } | { ok: false; key: string; reason: string };

/** Never throws: every failure (missing file, corrupt image, unreadable caption) becomes a skip. */
export async function loadSample(
  key: string,
  readImage: () => Promise<Uint8Array>,
  readCaption: () => Promise<string>,
  resolution: number,
): Promise<Loaded> {
  try {
    const [bytes, caption] = await Promise.all([readImage(), readCaption()]);
    const { image, sourceSize } = await trainingPicture(bytes, resolution);
    return { ok: true, sample: { key, caption: caption.trim(), image, sourceSize } };
  } catch (error) {
    return { ok: false, key, reason: error instanceof Error ? error.message.split("\n")[0]! : String(error) };
  }
}

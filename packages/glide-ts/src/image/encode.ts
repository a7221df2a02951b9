// Encoding pictures, by the platform's codec (sharp in Node, the browser's own in a page).
import { platform } from "../platform/platform.ts";
import type { RawImage } from "./pixels.ts";

/** A PNG file of an RGB or RGBA picture. */
export function encodePng(image: RawImage): Promise<Uint8Array> {
  return platform().images.encodePng(image);
}

// The `shapes` source: synthetic pictures drawn here (src/data/shapes), whose captions name the
// colour, shape, size and place of what is drawn. Many share a caption on purpose (each picture
// differs by a small jitter), so the builder keeps them all.
import { generateShapeScenes, sceneSvg } from "glide-ts/internals";
import type { License, SourceCatalog } from "./types.ts";

export interface ShapesSourceOptions {
  count: number;
  seed: number;
  /** Share of one-object captions that name the place (unset: 0.4, the shipped models' corpus). */
  placeShare?: number;
}

export const DEFAULT_SHAPES: ShapesSourceOptions = { count: 30000, seed: 1 };

const CC0: License = {
  title: "CC0 1.0",
  spdx: "CC0-1.0",
  url: "https://creativecommons.org/publicdomain/zero/1.0/",
};

export function loadShapes(options: ShapesSourceOptions = DEFAULT_SHAPES): SourceCatalog {
  const items = generateShapeScenes(options).map((scene) => ({
    source: "shapes" as const,
    id: scene.id,
    caption: scene.caption,
    svg: sceneSvg(scene.shapes),
    cropToContent: false,
    license: CC0,
    origin: `generated (seed ${options.seed})`,
  }));
  return {
    source: "shapes",
    title: `glide-ts shapes (${options.count} pictures, seed ${options.seed}${options.placeShare === undefined ? "" : `, place named in ${options.placeShare} of one-object captions`})`,
    author: "glide-ts",
    homepage: "https://www.npmjs.com/package/glide-ts",
    license: CC0,
    items,
    excluded: [],
    captionsRepeat: true,
    notice:
      `Drawn by glide-ts itself from seed ${options.seed}, not rendered from files; each caption names the ` +
      "colour, shape, size and place of what is drawn. Dedicated to the public domain.",
  };
}

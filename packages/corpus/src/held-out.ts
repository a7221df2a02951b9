// The shapes source never draws its held-out colour–shape pairs, so the caption probe can measure
// composition. Other sources name some of them too (the emoji "yellow heart", "green circle",
// "purple square"): those pictures are left out of the whole corpus, or the pairs would be seen.
import { HELD_OUT_PAIRS } from "glide-ts/internals";
import type { SourceCatalog } from "./types.ts";

const HELD_OUT_PHRASES = HELD_OUT_PAIRS.map(([colour, shape]) => ({
  pair: `${colour} ${shape}`,
  pattern: new RegExp(`\\b${colour}\\s+${shape}s?\\b`, "i"),
}));

/** The held-out pair a caption names ("a Yellow Hearts sticker" → "yellow heart"), or null. */
export function heldOutPairNamed(caption: string): string | null {
  return HELD_OUT_PHRASES.find(({ pattern }) => pattern.test(caption))?.pair ?? null;
}

/** The catalog without the items whose caption names a held-out pair; they join its excluded list. */
export function withoutHeldOutPairs(catalog: SourceCatalog): SourceCatalog {
  const items = [];
  const excluded = [...catalog.excluded];
  for (const item of catalog.items) {
    const pair = heldOutPairNamed(item.caption);
    if (pair === null) items.push(item);
    else excluded.push({ origin: item.id, reason: `its caption names the held-out pair "${pair}"` });
  }
  return { ...catalog, items, excluded };
}

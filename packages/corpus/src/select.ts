// Which collected items get rendered: one per caption within a source, then an optional limit.
import { keyFraction } from "glide-ts/internals";
import { captionKey } from "./captions.ts";
import type { CorpusItem } from "./types.ts";

/** Keeps the first item (in id order) of each caption; returns the kept items and the number dropped. */
export function dedupeCaptions(items: readonly CorpusItem[]): { kept: CorpusItem[]; dropped: number } {
  const seen = new Set<string>();
  const kept: CorpusItem[] = [];
  for (const item of [...items].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    const key = captionKey(item.caption);
    if (seen.has(key)) continue;
    seen.add(key);
    kept.push(item);
  }
  return { kept, dropped: items.length - kept.length };
}

/**
 * At most `limit` items, taken in turn from each source (so every source is represented), each
 * source's items in the order of their key hash (a spread over the whole set, not its first letters).
 */
export function limitItems(bySource: readonly CorpusItem[][], limit: number): CorpusItem[][] {
  const ranked = bySource.map((items) =>
    items
      // Salted, so the chosen items are not all from the low end of the split hash (all validation).
      .map((item) => ({ item, rank: keyFraction(`limit:${itemKey(item)}`) }))
      .sort((a, b) => a.rank - b.rank)
      .map((r) => r.item),
  );
  const taken = bySource.map(() => [] as CorpusItem[]);
  let total = 0;
  for (let round = 0; total < limit; round++) {
    let progressed = false;
    for (let s = 0; s < ranked.length && total < limit; s++) {
      const item = ranked[s]![round];
      if (!item) continue;
      taken[s]!.push(item);
      total++;
      progressed = true;
    }
    if (!progressed) break;
  }
  return taken;
}

/** The dataset key of an item: "<source>/<id>" (its path under <size>/<split>/, without ".png"). */
export function itemKey(item: CorpusItem): string {
  return `${item.source}/${item.id}`;
}

// The held-out colour–shape pairs are never seen: the shapes source never draws them, and pictures of
// other sources whose captions name them (OpenMoji's "yellow heart", "green circle", "purple square")
// are left out of the corpus, listed as excluded with the pair.
import assert from "node:assert/strict";
import { test } from "node:test";
import { heldOutPairNamed, withoutHeldOutPairs } from "../../packages/corpus/src/held-out.ts";
import { loadOpenmoji } from "../../packages/corpus/src/openmoji.ts";
import { HELD_OUT_PAIRS } from "../../packages/glide-ts/src/data/shapes/vocabulary.ts";

test("a caption names a held-out pair as words, in any case, singular or plural", () => {
  assert.equal(heldOutPairNamed("yellow heart"), "yellow heart");
  assert.equal(heldOutPairNamed("Two Blue Stars"), "blue star");
  assert.equal(heldOutPairNamed("a green  circle on the left"), "green circle");
  assert.equal(heldOutPairNamed("green heart"), null);
  assert.equal(heldOutPairNamed("a yellow hearth"), null);
  assert.equal(heldOutPairNamed("a blue star-shaped badge"), "blue star");
  assert.equal(heldOutPairNamed("a heart, yellow"), null, "only the pair as a phrase");
});

test("OpenMoji's pictures of held-out pairs are excluded, with the pair named; the rest stay", async () => {
  const catalog = await loadOpenmoji();
  const filtered = withoutHeldOutPairs(catalog);
  const gone = catalog.items.filter((item) => !filtered.items.includes(item));
  const captions = gone.map((item) => item.caption).sort();
  for (const pair of ["yellow heart", "green circle", "purple square"]) assert.ok(captions.includes(pair), pair);
  for (const item of filtered.items) assert.equal(heldOutPairNamed(item.caption), null, item.caption);
  assert.equal(filtered.excluded.length, catalog.excluded.length + gone.length);
  assert.match(filtered.excluded.at(-1)!.reason, /held-out pair "(?:\w+) (?:\w+)"/);
  assert.equal(HELD_OUT_PAIRS.length, 4);
});

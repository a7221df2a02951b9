// Shuffling is seeded, and a saved position resumes the exact same stream: for every stopping
// point, a fresh dataset opened at the saved position continues with the same keys in the same order.
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { DataPosition, DatasetOptions } from "../../packages/glide-ts/src/data/index.ts";
import { openDataset, splitOf } from "../../packages/glide-ts/src/data/index.ts";
import { keysOf, makeImage, shade, take, withTempDir, writeFile, writeTar } from "./helpers.ts";

const N = 11;
const key = (i: number) => `img-${String(i).padStart(2, "0")}`;

/** One dataset in all three formats (tar: three shards of 4, 4 and 3 pairs); index 5 is corrupt. */
async function writeAllFormats(dir: string): Promise<Record<string, string>> {
  const lines: string[] = [];
  const members: [string, string | Uint8Array][][] = [[], [], []];
  for (let i = 0; i < N; i++) {
    const bytes = i === 5 ? Buffer.from("corrupt") : await makeImage([shade(i)], { height: 4 });
    await writeFile(join(dir, "folder", `${key(i)}.png`), bytes);
    await writeFile(join(dir, "folder", `${key(i)}.txt`), `caption ${i}`);
    lines.push(JSON.stringify({ key: key(i), image: `folder/${key(i)}.png`, caption: `caption ${i}` }));
    members[Math.floor(i / 4)]!.push([`${key(i)}.png`, bytes], [`${key(i)}.txt`, `caption ${i}`]);
  }
  await writeFile(join(dir, "manifest.jsonl"), lines.join("\n"));
  for (let s = 0; s < 3; s++) await writeTar(join(dir, `shard-${s}.tar`), members[s]!);
  return {
    folder: join(dir, "folder"),
    jsonl: join(dir, "manifest.jsonl"),
    webdataset: join(dir, "shard-{0..2}.tar"),
  };
}

const base: DatasetOptions = { resolution: 4, seed: 7, shuffleBuffer: 3, prefetch: 3 };

describe("shuffle and resume", () => {
  test("same seed, same order; each epoch a new order over every pair", async () => {
    await withTempDir(async (dir) => {
      const specs = await writeAllFormats(dir);
      for (const [format, spec] of Object.entries(specs)) {
        const a = keysOf(await take(await openDataset(spec, { ...base, epochs: 3 }), 100));
        const b = keysOf(await take(await openDataset(spec, { ...base, epochs: 3 }), 100));
        const c = keysOf(await take(await openDataset(spec, { ...base, seed: 8, epochs: 3 }), 100));
        assert.equal(a.length, 3 * (N - 1), `${format}: three epochs of ten decodable pairs`);
        assert.deepEqual(a, b, `${format}: the same seed gives the same stream`);
        assert.notDeepEqual(a, c, `${format}: another seed gives another stream`);
        const epochs = [a.slice(0, 10), a.slice(10, 20), a.slice(20)];
        const expected = Array.from({ length: N }, (_, i) => key(i)).filter((k) => k !== key(5));
        for (const e of epochs) assert.deepEqual([...e].sort(), expected, `${format}: an epoch holds each pair once`);
        assert.notDeepEqual(epochs[0], epochs[1], `${format}: epochs are shuffled differently`);
        const plain = keysOf(await take(await openDataset(spec, { ...base, shuffle: false, epochs: 1 }), 100));
        assert.deepEqual(plain, expected, `${format}: unshuffled reads in stored order`);
      }
    });
  });

  test("resuming from any saved position gives the same subsequent samples", async () => {
    await withTempDir(async (dir) => {
      const specs = await writeAllFormats(dir);
      for (const [format, spec] of Object.entries(specs)) {
        const full = keysOf(await take(await openDataset(spec, { ...base, epochs: 3 }), 100));
        for (let stop = 0; stop <= full.length; stop++) {
          const first = await openDataset(spec, { ...base, epochs: 3 });
          const before = keysOf(await take(first, stop));
          const saved: DataPosition = JSON.parse(JSON.stringify(first.position()));
          const resumed = await openDataset(spec, { ...base, epochs: 3, position: saved });
          const after = keysOf(await take(resumed, 100));
          assert.deepEqual([...before, ...after], full, `${format}: stop after ${stop} at ${JSON.stringify(saved)}`);
        }
      }
    });
  });

  test("a broken-off loop continues where it stopped; the position rolls over at an epoch's end", async () => {
    await withTempDir(async (dir) => {
      const specs = await writeAllFormats(dir);
      const dataset = await openDataset(specs.jsonl!, { ...base, epochs: 2 });
      const first = keysOf(await take(dataset, 4));
      const rest = keysOf(await take(dataset, 6));
      const whole = keysOf(await take(await openDataset(specs.jsonl!, { ...base, epochs: 2 }), 10));
      assert.deepEqual([...first, ...rest], whole, "iterating again continues from the position");
      assert.deepEqual(dataset.position(), { epoch: 1, index: 0 }, "after the last pair the next epoch starts");
      assert.equal(dataset.size, N, "size counts every listed pair");
    });
  });

  test("held-out split: deterministic by key, train and validation partition the pairs", async () => {
    await withTempDir(async (dir) => {
      const specs = await writeAllFormats(dir);
      const fraction = 0.3;
      for (const [format, spec] of Object.entries(specs)) {
        const read = async (split: "train" | "validation") =>
          keysOf(
            await take(
              await openDataset(spec, { ...base, epochs: 1, split: { split, validationFraction: fraction } }),
              100,
            ),
          ).sort();
        const train = await read("train");
        const validation = await read("validation");
        assert.ok(validation.length > 0 && train.length > 0, `${format}: both splits are non-empty`);
        assert.deepEqual([...train, ...validation].sort().length, N - 1, `${format}: together they cover the pairs`);
        for (const k of validation) assert.equal(splitOf(k, fraction), "validation", `${format}: ${k} by hash`);
      }
      assert.equal(splitOf("anything", 0), "train", "fraction 0 keeps everything for training");
      assert.equal(splitOf("anything", 1), "validation", "fraction 1 holds everything out");
    });
  });
});

// The two manifests of the model card's place-word calibrations (issue #20), next to a corpus's
// all.jsonl: place-only.jsonl (the pairs whose caption ends in a side place) and all-place4.jsonl
// (every pair, then three more copies of each side-place pair under the keys shapes-rep1/… to
// shapes-rep3/…, so that 37 % of the pairs name a side place instead of 13 %). Only pairs of the
// training split are copied, and only under keys that fall in the training split too: a copy of a
// held-out pair would train on the validation set under another key (the trainer splits by key hash).
//
//   node --conditions=glide-ts-source --import tsx scripts/place-manifests.mts CORPUS/32
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DEFAULT_VALIDATION_FRACTION, PLACE_PHRASES, splitOf } from "../packages/glide-ts/src/internals.ts";

const { middle: _centre, ...SIDE_PHRASES } = PLACE_PHRASES;
const SIDE_PLACE = new RegExp(` (${Object.values(SIDE_PHRASES).join("|")})$`);
const COPIES = 3;

interface Pair {
  key: string;
  caption: string;
}

/** Writes atomically: a half-written manifest never replaces a whole one. */
async function writeManifest(path: string, lines: string[]): Promise<void> {
  await writeFile(`${path}.tmp`, `${lines.join("\n")}\n`);
  await rename(`${path}.tmp`, path);
}

const dir = process.argv[2];
if (!dir) {
  console.error("usage: place-manifests.mts CORPUS_SIZE_FOLDER (the folder of all.jsonl)");
  process.exit(1);
}
const lines = (await readFile(join(dir, "all.jsonl"), "utf-8")).split("\n").filter((l) => l.length > 0);
const place = lines.filter((line) => SIDE_PLACE.test((JSON.parse(line) as Pair).caption));
const copies: string[] = [];
for (let k = 1; k <= COPIES; k++) {
  for (const line of place) {
    const pair = JSON.parse(line) as Pair;
    if (!pair.key.startsWith("shapes/")) throw new Error(`a side-place caption outside the shapes source: ${pair.key}`);
    const key = pair.key.replace("shapes/", `shapes-rep${k}/`);
    if (
      splitOf(pair.key, DEFAULT_VALIDATION_FRACTION) === "train" &&
      splitOf(key, DEFAULT_VALIDATION_FRACTION) === "train"
    ) {
      copies.push(JSON.stringify({ ...pair, key }));
    }
  }
}
await writeManifest(join(dir, "place-only.jsonl"), place);
await writeManifest(join(dir, "all-place4.jsonl"), [...lines, ...copies]);
console.log(
  `${dir}: place-only.jsonl ${place.length} pairs; all-place4.jsonl ${lines.length + copies.length} pairs ` +
    `(${((100 * (place.length + copies.length)) / (lines.length + copies.length)).toFixed(0)} % name a side place; ` +
    `${copies.length} copies of training pairs)`,
);

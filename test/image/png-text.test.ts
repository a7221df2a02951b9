// PNG text chunks (src/image/png-text.ts): written after IHDR with correct CRCs (sharp still reads
// the picture), read back in Latin-1 (tEXt) and in UTF-8 (iTXt); a damaged chunk is skipped.
import assert from "node:assert/strict";
import { test } from "node:test";
import sharp from "sharp";
import { addPngText, PngTextError, readPngText } from "../../packages/glide-ts/src/image/png-text.ts";

const png = () =>
  sharp({ create: { width: 4, height: 3, channels: 3, background: { r: 200, g: 10, b: 10 } } })
    .png()
    .toBuffer();

test("text chunks round-trip, the picture stays a valid PNG", async () => {
  const original = new Uint8Array(await png());
  const texts = { parameters: "red heart\nSteps: 25, Seed: 7", "glide-ts": '{"prompt":"cœur rouge ♥ 赤"}' };
  const written = addPngText(original, texts);
  assert.deepEqual(readPngText(written), texts);
  assert.ok(Buffer.from(written).includes(Buffer.from("tEXtparameters")), "Latin-1 text in tEXt");
  assert.ok(Buffer.from(written).includes(Buffer.from("iTXtglide-ts")), "other text in iTXt");
  const decoded = await sharp(Buffer.from(written)).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([decoded.info.width, decoded.info.height], [4, 3]);
  assert.deepEqual([...decoded.data.subarray(0, 3)], [200, 10, 10]);
  assert.deepEqual(readPngText(original), {}, "a plain PNG has none");
});

test("a chunk with a damaged CRC is skipped; bad input is refused", async () => {
  const written = addPngText(new Uint8Array(await png()), { a: "one", b: "two" });
  const at = Buffer.from(written).indexOf(Buffer.from("one"));
  written[at] = "O".charCodeAt(0);
  assert.deepEqual(readPngText(written), { b: "two" });
  assert.throws(() => readPngText(new Uint8Array([1, 2, 3])), PngTextError);
  assert.throws(() => addPngText(written, { "": "x" }), /keyword/);
});

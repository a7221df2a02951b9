// Non-finite weights are refused when a model is loaded: a NaN or an infinity in a checkpoint would
// otherwise make every picture black while the command "succeeds".
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { isUserError } from "../../packages/glide-ts/src/errors.ts";
import { checkFinite } from "../../packages/glide-ts/src/io/check-state-dict.ts";
import { glide } from "../cli/glide-cli.ts";
import { tempDir } from "../pipelines/helpers.ts";

test("checkFinite names the first tensor with a NaN or an infinity", () => {
  const ok = new Map([["a", { data: Float32Array.from([0, -1, 3.4e38]) }]]);
  assert.doesNotThrow(() => checkFinite(ok, "ok.safetensors"));
  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
    const sd = new Map([
      ["a", { data: Float32Array.from([1, 2]) }],
      ["b.weight", { data: Float32Array.from([1, bad, 2]) }],
    ]);
    assert.throws(
      () => checkFinite(sd, "bad.safetensors"),
      (error: Error) =>
        isUserError(error) && error.message.startsWith(`bad.safetensors: the weight b.weight holds ${bad} at index 1`),
    );
  }
});

test("glide generate refuses a checkpoint with a NaN weight in one line, and writes nothing", () => {
  const bytes = Buffer.from(
    readFileSync(join(import.meta.dirname, "../../packages/glide-ts/models/glide-ts-base32.safetensors")),
  );
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString("utf8")) as Record<
    string,
    { dtype: string; data_offsets: [number, number] }
  >;
  const [name, entry] = Object.entries(header).find(([key]) => key !== "__metadata__")!;
  assert.equal(entry.dtype, "F16");
  bytes.writeUInt16LE(0x7e00, 8 + headerLength + entry.data_offsets[0] + 2); // float16 NaN, second value
  const dir = tempDir();
  const file = join(dir, "nan.safetensors");
  writeFileSync(file, bytes);
  const out = join(dir, "never.png");
  const run = glide("generate", "red heart", "--checkpoint", file, "--no-upsample", "--steps", "2", "--out", out);
  assert.equal(run.code, 1);
  assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
  assert.match(run.stderr, new RegExp(`the weight ${name.replaceAll(".", "\\.")} holds NaN at index 1`));
});

// A configuration read from a file cannot ask for more than a machine holds: every integer key has
// a ceiling, channel_mult too, and a checkpoint whose metadata asks for more is refused in one line
// before anything is built; a mismatched checkpoint's message lists a few keys, not thousands.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { CONFIG_MAXIMA, GlideConfigError, resolveConfig } from "../../src/glide/config.ts";
import { presetConfig } from "../../src/glide/presets.ts";
import { glide } from "../cli/glide-cli.ts";
import { tempDir } from "../pipelines/helpers.ts";

test("each integer key is bounded; the presets and released shapes are inside", () => {
  for (const name of ["base", "upsample", "base-inpaint", "upsample-inpaint", "tiny", "small"] as const) {
    assert.doesNotThrow(() => presetConfig(name), name);
  }
  const cases: [string, unknown, RegExp][] = [
    ["diffusion_steps", 1e9, /diffusion_steps must be at most 10000, got 1000000000/],
    ["xf_layers", 1e6, /xf_layers must be at most 64/],
    ["num_res_blocks", 1000, /num_res_blocks must be at most 16/],
    ["num_channels", 1 << 20, /num_channels must be at most 1024/],
    ["text_ctx", 1e5, /text_ctx must be at most 1024/],
    ["channel_mult", "1,2,4000", /channel_mult entries must be at most 16/],
    ["channel_mult", `${"1,".repeat(40)}1`, /at most 16 positive integers/],
  ];
  for (const [key, value, message] of cases) {
    assert.throws(
      () => resolveConfig({ ...presetConfig("tiny"), [key]: value }),
      (error: Error) =>
        error instanceof GlideConfigError && message.test(error.message) && !error.message.includes("\n"),
      `${key} = ${value}`,
    );
  }
  assert.equal(Object.keys(CONFIG_MAXIMA).length, 11);
});

/** The shipped base model's file with its metadata configuration changed. */
function withConfig(changes: Record<string, unknown>): string {
  const bytes = readFileSync(join(import.meta.dirname, "../../models/glide-ts-base32.safetensors"));
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString("utf8"));
  header.__metadata__.config = JSON.stringify({ ...JSON.parse(header.__metadata__.config), ...changes });
  const text = Buffer.from(JSON.stringify(header), "utf8");
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE(BigInt(text.length));
  const path = join(tempDir(), `hostile-${Object.keys(changes).join("-")}.safetensors`);
  writeFileSync(path, Buffer.concat([out, text, bytes.subarray(8 + headerLength)]));
  return path;
}

test("a checkpoint whose configuration asks for too much is refused in one line, by generate and info", () => {
  for (const changes of [{ diffusion_steps: 1e9 }, { xf_layers: 1e6 }, { num_res_blocks: 1000 }]) {
    const file = withConfig(changes);
    const out = join(tempDir(), "never.png");
    const run = glide("generate", "red heart", "--checkpoint", file, "--no-upsample", "--steps", "2", "--out", out);
    assert.equal(run.code, 1, JSON.stringify(changes));
    const lines = run.stderr.trim().split("\n");
    assert.ok(lines.length <= 3, `${JSON.stringify(changes)}: ${lines.length} lines:\n${run.stderr.slice(0, 500)}`);
    assert.match(run.stderr, /must be at most/, JSON.stringify(changes));
    const info = glide("info", file);
    assert.match(info.stdout, /stored configuration +INVALID: .*must be at most/, `info ${JSON.stringify(changes)}`);
  }
});

// The noised CLIP's towers: the released shapes, loading by tower, causality of the text tower, and
// the guidance graph's gradient against finite differences.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { expLogitScale, releasedClipConfig, resolveClipConfig } from "../../packages/glide-ts/src/clip/config.ts";
import { ClipError } from "../../packages/glide-ts/src/clip/errors.ts";
import { ClipModel, clipParameterShapes } from "../../packages/glide-ts/src/clip/model.ts";
import { StateDictMismatchError } from "../../packages/glide-ts/src/io/check-state-dict.ts";
import type { StateDict } from "../../packages/glide-ts/src/io/host-tensor.ts";
import { towerStateDict } from "../../packages/glide-ts/src/pipelines/load-clip.ts";
import { Rng } from "../../packages/glide-ts/src/util/rng.ts";
import { clipFixturePath, clipManifest } from "./fixtures.ts";

test("the released configuration builds exactly the released checkpoints' keys and shapes", () => {
  const official = JSON.parse(readFileSync(clipFixturePath("clip-official-shapes.json"), "utf-8")) as Record<
    string,
    { params: number; keys: Record<string, number[]> }
  > & { config: Record<string, unknown> };
  assert.deepEqual(releasedClipConfig(), official.config);
  const shapes = clipParameterShapes(releasedClipConfig());
  for (const [name, tower] of [
    ["clip/text-enc", "text_encoder"],
    ["clip/image-enc", "image_encoder"],
  ] as const) {
    assert.deepEqual(Object.fromEntries(shapes[tower]), official[name]!.keys, name);
    assert.deepEqual([...shapes[tower].keys()], Object.keys(official[name]!.keys), `${name}: key order`);
    const count = [...shapes[tower].values()].reduce((n, s) => n + s.reduce((a, b) => a * b, 1), 0);
    assert.equal(count, official[name]!.params);
  }
});

test("configuration: the logit scale as the reference uses it, and bad keys", () => {
  assert.equal(expLogitScale(releasedClipConfig()), 100.00000762939453);
  assert.throws(() => resolveClipConfig({ n_heads: 3 }), /unknown CLIP configuration key 'n_heads'/);
  assert.throws(() => resolveClipConfig({ patch_size: 5 }), ClipError);
  assert.throws(() => resolveClipConfig({ max_text_len: 1 }), /at least 2/);
});

const tinyConfig = () => resolveClipConfig(clipManifest().cases.clip.config);

test("a combined state dict splits by tower prefix; a tower's own file is taken whole", () => {
  const t = (n: number) => ({ shape: [n], data: new Float32Array(n), sourceDtype: "float32" as const });
  const combined: StateDict = new Map([
    ["text_encoder.blocks.a", t(1)],
    ["image_encoder.blocks.b", t(2)],
  ]);
  assert.deepEqual([...towerStateDict(combined, "text_encoder", "x").keys()], ["blocks.a"]);
  assert.deepEqual([...towerStateDict(combined, "image_encoder", "x").keys()], ["blocks.b"]);
  const own: StateDict = new Map([["blocks.c", t(3)]]);
  assert.equal(towerStateDict(own, "image_encoder", "x"), own);
  const onlyText: StateDict = new Map([["text_encoder.blocks.a", t(1)]]);
  assert.throws(() => towerStateDict(onlyText, "image_encoder", "clip.pt"), /clip\.pt: holds no 'image_encoder\.'/);
});

test("a state dict that does not fit a tower is reported key by key", () => {
  const config = tinyConfig();
  const fresh = new ClipModel(config, { init: 1 });
  const values = (store: ClipModel["textParams"]) =>
    new Map(
      [...store.params].map(([k, p]) => [
        k,
        { shape: [...p.shape], data: new Float32Array(p.shape.reduce((a, b) => a * b, 1)) },
      ]),
    );
  const text = values(fresh.textParams);
  const image = values(fresh.imageParams);
  image.delete("blocks.input.w_t");
  text.set("blocks.extra", { shape: [1], data: new Float32Array(1) });
  assert.throws(
    () => ClipModel.fromStateDicts(config, { text_encoder: text, image_encoder: values(fresh.imageParams) }),
    (e: unknown) => e instanceof StateDictMismatchError && e.unexpected.includes("blocks.extra"),
  );
  assert.throws(
    () => ClipModel.fromStateDicts(config, { text_encoder: values(fresh.textParams), image_encoder: image }),
    (e: unknown) => e instanceof StateDictMismatchError && e.missing.includes("blocks.input.w_t"),
  );
});

test("the text tower reads position text_len − 1 and nothing after it", async () => {
  const config = tinyConfig();
  const model = new ClipModel(config, { init: 7 });
  const length = config.max_text_len;
  const rows = 2;
  const tokens = new BigInt64Array(rows * length);
  for (let i = 0; i < length; i++) tokens[i] = BigInt(100 + i);
  for (let i = 0; i < length; i++) tokens[length + i] = BigInt(i < 5 ? 100 + i : 9000 + i); // differs after 5
  const textLen = BigInt64Array.from([5n, 5n]);
  const graph = await model.compileText(rows, { threads: 1 });
  const { text_emb: emb } = await graph.run({ tokens, text_len: textLen });
  await graph.release();
  const e = emb as Float32Array;
  const width = config.n_embd;
  assert.deepEqual(e.subarray(0, width), e.subarray(width, 2 * width));
  assert.ok(e.some((v) => v !== 0));
});

test("the guidance graph's gradient is the objective's derivative (finite differences)", async () => {
  const config = tinyConfig();
  const model = new ClipModel(config, { init: 3 });
  const batch = 2;
  const size = config.image_size;
  const rng = new Rng(5);
  const x = Float32Array.from(rng.normalArray(batch * 3 * size * size), (v) => Math.tanh(v));
  const t = BigInt64Array.from([10n, 700n]);
  const text = rng.normalArray(batch * config.n_embd);
  for (let i = 0; i < batch; i++) {
    const row = text.subarray(i * config.n_embd, (i + 1) * config.n_embd);
    const norm = Math.hypot(...row);
    for (let k = 0; k < row.length; k++) row[k] /= norm;
  }
  const graph = await model.compileGuidance(batch, { threads: 1 });
  const run = async (input: Float32Array) => graph.run({ x: input, t, text_emb_norm: text });
  const { grad, objective } = await run(x);
  const direction = rng.normalArray(x.length);
  const h = 1e-2;
  const shifted = (s: number) => Float32Array.from(x, (v, i) => v + s * h * direction[i]!);
  const plus = ((await run(shifted(1))).objective as Float32Array)[0]!;
  const minus = ((await run(shifted(-1))).objective as Float32Array)[0]!;
  await graph.release();
  const numeric = (plus - minus) / (2 * h);
  let analytic = 0;
  for (let i = 0; i < x.length; i++) analytic += (grad as Float32Array)[i]! * direction[i]!;
  assert.ok(Number.isFinite((objective as Float32Array)[0]!));
  assert.ok(Math.abs(analytic) > 1e-3, `a gradient that says something (${analytic})`);
  assert.ok(Math.abs(numeric - analytic) <= 2e-3 * Math.max(1, Math.abs(analytic)), `${numeric} vs ${analytic}`);
});

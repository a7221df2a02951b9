import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import {
  checkStateDict,
  countParameters,
  StateDictMismatchError,
} from "../../packages/glide-ts/src/io/check-state-dict.ts";
import type { HostTensor, StateDict } from "../../packages/glide-ts/src/io/host-tensor.ts";
import { CheckpointError } from "../../packages/glide-ts/src/io/torch-checkpoint.ts";
import { fixture } from "./helpers.ts";

const tensor = (...shape: number[]): HostTensor => ({
  shape,
  data: new Float32Array(shape.reduce((a, b) => a * b, 1)),
  sourceDtype: "float32",
});

test("a matching state_dict passes and countParameters sums elements", () => {
  const sd: StateDict = new Map([
    ["a.weight", tensor(4, 3)],
    ["a.bias", tensor(4)],
    ["scale", tensor()],
  ]);
  const expected = new Map([...sd].map(([k, t]) => [k, t.shape]));
  checkStateDict(expected, sd, "model.pt");
  assert.equal(countParameters(sd), 12 + 4 + 1);
  assert.equal(countParameters(new Map()), 0);
});

test("one error lists every missing, unexpected and mis-shaped key", () => {
  const expected = new Map<string, number[]>([
    ["keep", [2]],
    ["gone.1", [3, 3]],
    ["gone.2", [1]],
    ["wrong.rank", [4, 4]],
    ["wrong.size", [8]],
  ]);
  const actual: StateDict = new Map([
    ["keep", tensor(2)],
    ["wrong.rank", tensor(16)],
    ["wrong.size", tensor(9)],
    ["extra", tensor(5, 1)],
  ]);
  assert.throws(
    () => checkStateDict(expected, actual, "ckpt/base.pt"),
    (e: unknown) => {
      assert.ok(e instanceof StateDictMismatchError);
      assert.ok(e instanceof CheckpointError);
      assert.deepEqual(e.missing, ["gone.1", "gone.2"]);
      assert.deepEqual(e.unexpected, ["extra"]);
      assert.deepEqual(e.misshaped, [
        { key: "wrong.rank", expected: [4, 4], actual: [16] },
        { key: "wrong.size", expected: [8], actual: [9] },
      ]);
      const m = e.message;
      assert.match(m, /^ckpt\/base\.pt: the state_dict does not match the model/);
      assert.match(m, /2 missing key\(s\):\n {4}gone\.1 \[3, 3\]\n {4}gone\.2 \[1\]/);
      assert.match(m, /1 unexpected key\(s\):\n {4}extra \[5, 1\]/);
      assert.match(m, /wrong\.rank: expected \[4, 4\], got \[16\]/);
      assert.match(m, /wrong\.size: expected \[8\], got \[9\]/);
      assert.doesNotMatch(m, /keep/);
      return true;
    },
  );
});

test("official shape lists: parameter counts agree with the listed totals", () => {
  const official = JSON.parse(readFileSync(fixture("official-shapes.json"), "utf-8")) as Record<
    string,
    { params: number; shapes: Record<string, number[]> }
  >;
  for (const [name, model] of Object.entries(official)) {
    const shapes = new Map(Object.entries(model.shapes).map(([k, shape]) => [k, { shape }]));
    assert.equal(countParameters(shapes), model.params, name);
  }
});

test("a checkpoint of another model is reported in a few lines; the error keeps every key", () => {
  const expected = new Map(Array.from({ length: 1000 }, (_, i) => [`block.${i}.weight`, [4, 4]] as const));
  const error = (() => {
    try {
      checkStateDict(expected, new Map([["other", { shape: [1] }]]), "big.pt");
    } catch (e) {
      return e as StateDictMismatchError;
    }
    throw new Error("expected a mismatch");
  })();
  assert.equal(error.missing.length, 1000);
  const lines = error.message.split("\n");
  assert.ok(lines.length <= 20, `${lines.length} lines`);
  assert.match(error.message, /1000 missing key\(s\):/);
  assert.match(error.message, /… and 988 more/);
});

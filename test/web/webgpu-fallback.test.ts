// The in-browser worker's fallback (web/local/webgpu-fallback.ts): a WebGPU run that fails for
// WebGPU's reasons runs again on WebAssembly and says why; the request's own errors, cancellations
// and failures on WebAssembly are not retried.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { BackendChoice } from "../../packages/app/web/local/backend-choice.ts";
import { runWithWasmFallback } from "../../packages/app/web/local/webgpu-fallback.ts";
import { CancelledError, GlideError } from "../../packages/glide-ts/src/errors.ts";

const webgpu: BackendChoice = { kind: "webgpu", threads: 2, notes: ["WebGPU has only a software adapter here"] };

function recorder(signal = new AbortController().signal) {
  const fallbacks: [BackendChoice, string][] = [];
  const runs: BackendChoice["kind"][] = [];
  return { fallbacks, runs, control: { signal, onFallback: (c: BackendChoice, n: string) => fallbacks.push([c, n]) } };
}

test("a WebGPU failure: the run again on WebAssembly, the choice and the note handed on once", async () => {
  const r = recorder();
  const result = await runWithWasmFallback(
    webgpu,
    async (choice) => {
      r.runs.push(choice.kind);
      if (choice.kind === "webgpu") throw new Error("Failed to get GPU device");
      return "picture";
    },
    r.control,
  );
  assert.equal(result, "picture");
  assert.deepEqual(r.runs, ["webgpu", "wasm"]);
  assert.equal(r.fallbacks.length, 1);
  const [choice, note] = r.fallbacks[0]!;
  assert.equal(note, "WebGPU failed (Failed to get GPU device): running on WebAssembly");
  assert.deepEqual(choice, { kind: "wasm", threads: 2, notes: [...webgpu.notes, note] });
});

test("not retried: success, the request's own errors, a cancelled run, a failure on WebAssembly", async () => {
  const ok = recorder();
  assert.equal(await runWithWasmFallback(webgpu, async () => 1, ok.control), 1);
  assert.equal(ok.fallbacks.length, 0);

  for (const error of [new GlideError("the prompt is empty"), new CancelledError("the run was cancelled")]) {
    const r = recorder();
    await assert.rejects(
      runWithWasmFallback(webgpu, () => Promise.reject(error), r.control),
      error,
    );
    assert.equal(r.fallbacks.length, 0, error.message);
  }

  const controller = new AbortController();
  controller.abort();
  const aborted = recorder(controller.signal);
  await assert.rejects(runWithWasmFallback(webgpu, () => Promise.reject(new Error("device lost")), aborted.control));
  assert.equal(aborted.fallbacks.length, 0, "a cancelled run is not started again");

  const wasm = recorder();
  const failure = new Error("out of memory");
  await assert.rejects(
    runWithWasmFallback({ ...webgpu, kind: "wasm" }, () => Promise.reject(failure), wasm.control),
    failure,
  );
  assert.equal(wasm.fallbacks.length, 0);
});

test("a retry that fails too rejects with WebAssembly's error", async () => {
  const r = recorder();
  await assert.rejects(
    runWithWasmFallback(
      webgpu,
      (choice) => Promise.reject(new Error(choice.kind === "webgpu" ? "no adapter" : "wasm broke")),
      r.control,
    ),
    /wasm broke/,
  );
  assert.equal(r.fallbacks.length, 1);
});

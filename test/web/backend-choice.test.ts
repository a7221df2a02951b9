// How the in-browser page picks its onnxruntime-web backend: WebGPU only on a GPU adapter, else
// WebAssembly with min(4, cores) threads when cross-origin isolated and 1 otherwise; the URL's
// ?backend= and ?threads= override that, and what cannot be honoured is said, not ignored.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type BackendEnvironment,
  chooseBackend,
  describeBackend,
  parsePageQuery,
} from "../../packages/app/web/local/backend-choice.ts";

const isolated: BackendEnvironment = { crossOriginIsolated: true, hardwareConcurrency: 8, webgpu: "none" };
const auto = { backend: "auto" } as const;

test("automatic: WebGPU on a GPU adapter; WebAssembly otherwise, threaded only when isolated", () => {
  assert.deepEqual(chooseBackend(auto, isolated), { kind: "wasm", threads: 4, notes: [] });
  assert.deepEqual(chooseBackend(auto, { ...isolated, hardwareConcurrency: 2 }), {
    kind: "wasm",
    threads: 2,
    notes: [],
  });
  const single = chooseBackend(auto, { ...isolated, crossOriginIsolated: false });
  assert.deepEqual([single.kind, single.threads], ["wasm", 1]);
  assert.match(single.notes[0]!, /COOP\/COEP/, "the page says why it has one thread");
  assert.equal(chooseBackend(auto, { ...isolated, webgpu: "gpu" }).kind, "webgpu");
  assert.equal(chooseBackend(auto, { ...isolated, webgpu: "software" }).kind, "wasm", "SwiftShader is not chosen");
});

test("overrides: a backend or thread count asked for is used, or the reason it cannot be is noted", () => {
  assert.equal(chooseBackend({ backend: "wasm" }, { ...isolated, webgpu: "gpu" }).kind, "wasm");
  const software = chooseBackend({ backend: "webgpu" }, { ...isolated, webgpu: "software" });
  assert.equal(software.kind, "webgpu");
  assert.match(software.notes[0]!, /software adapter/);
  const none = chooseBackend({ backend: "webgpu" }, isolated);
  assert.equal(none.kind, "wasm");
  assert.match(none.notes[0]!, /no WebGPU adapter/);
  assert.equal(chooseBackend({ backend: "wasm", threads: 1 }, isolated).threads, 1);
  assert.equal(chooseBackend({ backend: "wasm", threads: 6 }, isolated).threads, 6);
  const notIsolated = chooseBackend({ backend: "wasm", threads: 2 }, { ...isolated, crossOriginIsolated: false });
  assert.equal(notIsolated.threads, 1);
  assert.match(notIsolated.notes[0]!, /cross-origin isolated/);
});

test("the URL query: backend, threads and upsample, with unknown values reported", () => {
  assert.deepEqual(parsePageQuery(""), { request: { backend: "auto" }, upsample: true, notes: [] });
  assert.deepEqual(parsePageQuery("?backend=wasm&threads=1&upsample=0"), {
    request: { backend: "wasm", threads: 1 },
    upsample: false,
    notes: [],
  });
  const bad = parsePageQuery("?backend=webgl&threads=zero");
  assert.deepEqual(bad.request, { backend: "auto" });
  assert.equal(bad.notes.length, 2);
  assert.match(bad.notes[0]!, /unknown backend 'webgl'/);
  assert.match(bad.notes[1]!, /threads must be an integer/);
});

test("labels name the backend and its threads", () => {
  assert.equal(describeBackend({ kind: "wasm", threads: 1 }), "WebAssembly, 1 thread");
  assert.equal(describeBackend({ kind: "wasm", threads: 4 }), "WebAssembly, 4 threads");
  assert.equal(describeBackend({ kind: "webgpu", threads: 4 }), "WebGPU");
});

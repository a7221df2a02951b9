// A GPU allocation failure (onnxruntime's words for it, thrown as it throws them) is one clear
// DeviceMemoryError; the same words on the CPU, and other engine errors, pass through unchanged; a
// job that fails with it arrives in the server as that class and answers 503 with its message.
import assert from "node:assert/strict";
import { test } from "node:test";
import { GlideError } from "../../src/errors.ts";
import { revive } from "../../src/jobs/job-runner.ts";
import { DeviceMemoryError, deviceMemoryError } from "../../src/runtime/device-memory.ts";
import { toApiError } from "../../src/server/errors.ts";

const ORT_MESSAGES = [
  "Non-zero status code returned while running Conv node. Name:'Conv_12' Status Message: Failed to allocate memory for requested buffer of size 536870912",
  "CUDA failure 2: out of memory ; GPU=0 ; hostname=x ; file=cuda_allocator.cc ; line=47 ; expr=cudaMalloc(&p, size);",
  "[WebGPU] Out of memory: createBuffer of 1073741824 bytes\nmore detail",
];

test("onnxruntime's allocation failures on a GPU become 'out of GPU memory on <device>: …'", () => {
  for (const message of ORT_MESSAGES) {
    const mapped = deviceMemoryError(new Error(message), "webgpu");
    assert.ok(mapped instanceof DeviceMemoryError, message);
    assert.ok(mapped instanceof GlideError);
    assert.equal(
      mapped.message,
      `out of GPU memory on webgpu: ${message.split("\n")[0]!.slice(0, 200)}; try fewer images (-n) or --device cpu`,
    );
  }
  assert.match(
    (deviceMemoryError(new Error(ORT_MESSAGES[1]), "cuda") as Error).message,
    /^out of GPU memory on cuda: CUDA/,
  );
});

test("the CPU's allocation failures and other engine errors are left as they are", () => {
  const cpu = new Error(ORT_MESSAGES[0]);
  assert.equal(deviceMemoryError(cpu, "cpu"), cpu);
  const shape = new Error("Got invalid dimensions for input: x for the following indices");
  assert.equal(deviceMemoryError(shape, "webgpu"), shape);
});

test("a job's DeviceMemoryError crosses the worker boundary and answers 503 out_of_gpu_memory", () => {
  const original = deviceMemoryError(new Error(ORT_MESSAGES[2]), "webgpu") as DeviceMemoryError;
  const revived = revive({ name: original.name, message: original.message });
  assert.ok(revived instanceof DeviceMemoryError);
  const api = toApiError(revived);
  assert.equal(api.status, 503);
  assert.equal(api.code, "out_of_gpu_memory");
  assert.equal(api.body().error.message, original.message);
});

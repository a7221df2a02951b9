// A GPU allocation failure (onnxruntime's words for it, thrown as it throws them) is one clear
// DeviceMemoryError; the same words on the CPU, and other engine errors, pass through unchanged; a
// job that fails with it arrives in the server as that class and answers 503 with its message.
import assert from "node:assert/strict";
import { test } from "node:test";
import { toApiError } from "../../packages/app/src/server/errors.ts";
import type { JobExecutor } from "../../packages/app/src/server/queue/job-queue.ts";
import { LocalJobQueue } from "../../packages/app/src/server/queue/local-queue.ts";
import { GlideError } from "../../packages/glide-ts/src/errors.ts";
import { revive } from "../../packages/glide-ts/src/jobs/job-runner.ts";
import type { PipelineResult } from "../../packages/glide-ts/src/pipelines/types.ts";
import { DeviceMemoryError, deviceMemoryError } from "../../packages/glide-ts/src/runtime/device-memory.ts";

const ORT_MESSAGES = [
  "Non-zero status code returned while running Conv node. Name:'Conv_12' Status Message: Failed to allocate memory for requested buffer of size 536870912",
  "CUDA failure 2: out of memory ; GPU=0 ; hostname=x ; file=cuda_allocator.cc ; line=47 ; expr=cudaMalloc(&p, size);",
  "[WebGPU] Out of memory: createBuffer of 1073741824 bytes\nmore detail",
  // WebGPU's words when its buffer could not be allocated (256 guided images of the released base, H200).
  "Non-zero status code returned while running Conv node. Name:'Conv_1895_token_674' Status Message: absl::container_internal::raw_hash_map<>::at",
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
  const lookup = new Error(ORT_MESSAGES[3]);
  assert.equal(deviceMemoryError(lookup, "cuda"), lookup, "the missing-buffer lookup means memory on WebGPU only");
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

/** One slot; a job of more than 2 images runs out of GPU memory as onnxruntime would say it. */
class SmallGpuExecutor implements JobExecutor<number> {
  readonly slots = 1;
  async run(_slot: number, images: number): Promise<PipelineResult> {
    await new Promise((resolve) => setTimeout(resolve, 10));
    if (images > 2) throw deviceMemoryError(new Error(ORT_MESSAGES[0]), "cuda");
    return { seed: images } as PipelineResult;
  }
}

test("in the server's queue the job that ran out of memory fails with it; the jobs behind it run", async () => {
  const queue = new LocalJobQueue(new SmallGpuExecutor(), { capacity: 4 });
  const tickets = [await queue.submit(1), await queue.submit(4), await queue.submit(2)];
  const [small, large, after] = await Promise.allSettled(tickets.map((t) => t.result));
  assert.equal(small.status === "fulfilled" && small.value.seed, 1);
  assert.ok(large.status === "rejected" && large.reason instanceof DeviceMemoryError);
  assert.match((large as PromiseRejectedResult).reason.message, /^out of GPU memory on cuda: .*--device cpu$/);
  assert.equal(after.status === "fulfilled" && after.value.seed, 2);
  assert.deepEqual(queue.stats(), { waiting: 0, running: 0, capacity: 4, workers: 1 });
});

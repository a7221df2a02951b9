// npm run bench:device-oom [-- --device webgpu --model base --start 4 --limit 8192] — what a user
// meets when a GPU runs out of memory: text → image at the released base shapes (random weights),
// one step, with the number of images multiplied by 4 until a run fails; prints the error as the
// library reports it (kind and message), whether it is a DeviceMemoryError, and then runs one image
// again in the same process to show the device and the resident weights are still usable.
// Needs a GPU; on the CPU the machine's memory is the limit and this is not the check to run.
import "../packages/glide-ts/src/platform/node.ts";
import { textToImage } from "../packages/glide-ts/src/pipelines/text-to-image.ts";
import { type Device, resolveDevice } from "../packages/glide-ts/src/runtime/device.ts";
import { DeviceMemoryError } from "../packages/glide-ts/src/runtime/device-memory.ts";
import { randomModel } from "./int8-drift.mts";

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1]! : fallback;
};

const { device } = await resolveDevice(option("--device", "webgpu") as Device);
const model = randomModel(option("--model", "base"));
const limit = Number(option("--limit", "8192"));
const once = async (batchSize: number) => {
  const started = performance.now();
  await textToImage({ prompt: "a red heart", model, seed: 1, sampler: "ddim", steps: 1, batchSize, device });
  return (performance.now() - started) / 1000;
};

let failedAt: number | null = null;
for (let batch = Number(option("--start", "4")); batch <= limit; batch *= 4) {
  try {
    const seconds = await once(batch);
    console.log(`${device}: ${batch} image(s), one guided step: ${seconds.toFixed(2)} s`);
  } catch (error) {
    failedAt = batch;
    const e = error as Error;
    console.log(`${device}: ${batch} image(s) failed: ${e.name}: ${e.message.split("\n")[0]!.slice(0, 400)}`);
    console.log(`  a DeviceMemoryError: ${error instanceof DeviceMemoryError}`);
    break;
  }
}
if (failedAt === null) console.log(`${device}: no failure up to ${limit} images`);
else {
  try {
    console.log(
      `${device}: then 1 image in the same process: ${(await once(1)).toFixed(2)} s (the device still works)`,
    );
  } catch (error) {
    console.log(`${device}: then 1 image in the same process failed too: ${(error as Error).message.slice(0, 300)}`);
    process.exitCode = 1;
  }
}

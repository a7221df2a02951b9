// Where the networks run: `device` in the library and `--device` on the command line, the one
// mapping from a device name to onnxruntime's execution provider. A GPU device is tried once per
// process on a one-node graph, so an unusable one is a clear one-line error before any work starts
// (never an onnxruntime or Dawn dump), and `auto` takes a GPU only when one answers.
import { GlideError } from "../errors.ts";
import * as g from "../graph/index.ts";
import { platform } from "../platform/platform.ts";
import { CompiledGraph, type ExecutionProvider } from "./session.ts";

export const DEVICES = ["auto", "cpu", "webgpu", "cuda"] as const;
export type Device = (typeof DEVICES)[number];
/** A device that was chosen: what `auto` became. */
export type ResolvedDevice = Exclude<Device, "auto">;

export class DeviceError extends GlideError {
  override name = "DeviceError";
}

/** The GPUs `auto` tries, in order. */
const GPU_ORDER: readonly ResolvedDevice[] = ["cuda", "webgpu"];

const probes = new Map<ResolvedDevice, Promise<string | null>>();

/** Why a GPU device cannot be used here, in words a user can act on. */
export function deviceProblem(device: ResolvedDevice, engineMessage: string): string {
  if (device === "cuda") {
    return (
      "the CUDA execution provider is not installed or finds no GPU: reinstall onnxruntime-node with " +
      "`npm install onnxruntime-node --onnxruntime-node-install=cuda12` (CUDA 12 and cuDNN 9 needed), or use --device webgpu or cpu"
    );
  }
  if (/adapter|vulkan|RequestAdapter/i.test(engineMessage)) {
    return "no WebGPU adapter answered (a GPU with a Vulkan driver and libvulkan1 is needed), or use --device cpu";
  }
  return `onnxruntime cannot run on it (${engineMessage.split("\n")[0]!.slice(0, 200)})`;
}

async function probe(device: ResolvedDevice): Promise<string | null> {
  const missing = platform().inference.missingProvider?.(device) ?? null;
  if (missing !== null) return deviceProblem(device, missing);
  const x = g.input("x", [2]);
  try {
    const graph = await CompiledGraph.compile({ y: g.add(x, 1) }, { executionProvider: device, logLevel: 4 });
    const { y } = await graph.run({ x: Float32Array.of(1, 2) });
    await graph.release();
    return y![0] === 2 && y![1] === 3 ? null : "it computed a wrong result on a test graph";
  } catch (error) {
    return deviceProblem(device, (error as Error).message);
  }
}

function problemOf(device: ResolvedDevice): Promise<string | null> {
  if (device === "cpu") return Promise.resolve(null);
  let known = probes.get(device);
  if (!known) {
    known = probe(device);
    probes.set(device, known);
  }
  return known;
}

export interface DeviceChoice {
  device: ResolvedDevice;
  executionProvider: ExecutionProvider;
}

/** The device to run on (default cpu): `auto` is the first GPU that answers, else the CPU. */
export async function resolveDevice(device: Device = "cpu"): Promise<DeviceChoice> {
  if (!(DEVICES as readonly string[]).includes(device)) {
    throw new DeviceError(`unknown device '${device}' (expected one of ${DEVICES.join(", ")})`);
  }
  if (device === "auto") {
    for (const gpu of GPU_ORDER) if ((await problemOf(gpu)) === null) return { device: gpu, executionProvider: gpu };
    return { device: "cpu", executionProvider: platform().inference.defaultProvider as ExecutionProvider };
  }
  if (device === "cpu") return { device, executionProvider: platform().inference.defaultProvider as ExecutionProvider };
  const problem = await problemOf(device);
  if (problem !== null) throw new DeviceError(`device ${device}: ${problem}`);
  return { device, executionProvider: device };
}

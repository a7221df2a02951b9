// int8 is a CPU path: the QDQ graph becomes onnxruntime's QLinearConv, a CPU kernel. On WebGPU the
// provider ran it but drew wrong pictures (every pixel up to 2 off on the fixture model, SwiftShader),
// and no CUDA run has checked it; so a GPU device with int8 is refused, and `auto` takes the CPU.
import type { Precision } from "../int8/plan.ts";
import { type Device, DeviceError } from "../runtime/device.ts";
import type { ExecutionProvider } from "../runtime/session.ts";

const CPU_PROVIDERS: readonly ExecutionProvider[] = ["cpu", "wasm"];

/** The device to resolve for a precision: `auto` with int8 is the CPU. */
export function deviceForPrecision(device: Device | undefined, precision: Precision | undefined): Device | undefined {
  return device === "auto" && precision === "int8" ? "cpu" : device;
}

/** Refuses int8 on a GPU provider, naming it and saying what to use instead. */
export function checkPrecisionOnProvider(
  precision: Precision | undefined,
  provider: ExecutionProvider | undefined,
): void {
  if (precision !== "int8" || provider === undefined || CPU_PROVIDERS.includes(provider)) return;
  throw new DeviceError(
    `--precision int8 runs on the CPU only, not on ${provider} (onnxruntime's int8 convolutions are CPU kernels): use --device cpu, or --precision fp32 on ${provider}`,
  );
}

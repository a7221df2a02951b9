// Moving a model's parameter values out of JavaScript memory before its sessions are built. Where
// the platform has weight files (Node), onnxruntime reads each weight from the file while it builds
// a session, so the process holds one copy of the weights (the engine's) instead of two, and any
// later session (another batch size, or one rebuilt after a release) reads the file again.
import type { StoredTensor } from "../graph/ops/leaf.ts";
import { platform } from "../platform/platform.ts";

/** Parameter values that can move out of memory (a ParamStore). */
export interface MovableValues {
  inMemory(): readonly unknown[];
  moveValues(write: (arrays: readonly Float32Array[]) => Promise<StoredTensor[]>): Promise<void>;
}

/**
 * Moves the in-memory values to the platform's weight files and has the arrays freed. False where
 * there are none (a browser) or they could not be written (then the values stay in memory, as
 * before, and sessions take them from there).
 */
export function storeWeights(params: MovableValues): Promise<boolean> {
  // Sessions compiled at the same time wait for the same move.
  let moving = inFlight.get(params);
  if (!moving) {
    moving = move(params).finally(() => inFlight.delete(params));
    inFlight.set(params, moving);
  }
  return moving;
}

const inFlight = new WeakMap<MovableValues, Promise<boolean>>();

async function move(params: MovableValues): Promise<boolean> {
  const storage = platform().weights;
  if (!storage) return false;
  if (params.inMemory().length === 0) return true;
  try {
    await params.moveValues((arrays) => storage.write(arrays, params));
  } catch {
    return false;
  }
  await storage.collectGarbage();
  return true;
}

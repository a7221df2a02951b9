// The generator a named parameter's initial value draws from: `new Rng(seed · 2³² + fnv1a(name))`,
// so the value depends only on the seed, the name and the spec, never on declaration order. The
// initializer (nn/params.ts) and the reader that restores untrained rows (io/sparse-rows.ts) share it.
import { checkNonNegativeInteger } from "../validate.ts";
import { Rng } from "./rng.ts";

/** FNV-1a of a string: lets each parameter draw from its own stream. */
function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The stream of parameter `name` under init seed `seed`. */
export function parameterStream(seed: number, name: string): Rng {
  checkNonNegativeInteger(seed, "the init seed");
  return new Rng((BigInt(seed) << 32n) | BigInt(hashName(name)));
}

/** std·N(0, 1) for each of `count` values, in order: a normal-initialized parameter's value. */
export function seededNormal(seed: number, name: string, count: number, std: number): Float32Array {
  const rng = parameterStream(seed, name);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = rng.normal() * std;
  return out;
}

// Test helpers for the graph layer: seeded random data, closeness checks, and batches that compile
// many small checks into one graph (one onnxruntime session per batch keeps the suite fast).
import assert from "node:assert/strict";
import type { ExportOptions, Tensor } from "../../packages/glide-ts/src/graph/index.ts";
import * as g from "../../packages/glide-ts/src/graph/index.ts";
import { CompiledGraph, type HostArray } from "../../packages/glide-ts/src/runtime/session.ts";
import { type Arr, arr } from "./reference.ts";

/** mulberry32: a tiny seeded uniform [0, 1) generator. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples (Box–Muller), times `scale`. */
export function randn(n: number, seed: number, scale = 1): Float32Array {
  const u = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const r = Math.sqrt(-2 * Math.log(1 - u()));
    out[i] = scale * r * Math.cos(2 * Math.PI * u());
  }
  return out;
}

/** Uniform samples in [lo, hi). */
export function uniform(n: number, seed: number, lo = 0, hi = 1): Float32Array {
  const u = rng(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * u());
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, "lengths differ");
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return Number.isNaN(m) ? Number.POSITIVE_INFINITY : m;
}

/** Asserts |actual − expected| ≤ atol + rtol·|expected| everywhere, reporting the worst element. */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { atol = 1e-5, rtol = 1e-5 }: { atol?: number; rtol?: number } = {},
  what = "values",
): void {
  assert.equal(actual.length, expected.length, `${what}: ${actual.length} values, expected ${expected.length}`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] === expected[i]) continue; // equal infinities too
    const excess = Math.abs(actual[i]! - expected[i]!) - (atol + rtol * Math.abs(expected[i]!));
    if (!(excess <= worstExcess)) {
      worst = i;
      worstExcess = Number.isNaN(excess) ? Number.POSITIVE_INFINITY : excess;
    }
  }
  if (worst >= 0) {
    assert.fail(
      `${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (max abs diff ${maxAbsDiff(actual, expected)})`,
    );
  }
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Compiles `outputs`, runs them once with `feeds`, and releases the session. */
export async function runGraph(
  outputs: Record<string, Tensor>,
  feeds: Record<string, HostArray> = {},
  options: ExportOptions = {},
): Promise<Record<string, HostArray>> {
  const session = await CompiledGraph.compile(outputs, { threads: 1, ...options });
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

/**
 * Many independent checks gathered into one graph: `feed` makes uniquely named inputs, `output`
 * registers results, and after `run` every registered output can be read back by its key. If the
 * whole graph fails to load or run, each output is run alone so that only the faulty checks fail.
 */
export class GraphBatch {
  private readonly outputs: Record<string, Tensor> = {};
  private readonly feeds: Record<string, HostArray> = {};
  private readonly errors = new Map<string, unknown>();
  private results: Record<string, HostArray> | null = null;
  private count = 0;

  /** A graph input fed with `data` (dtype from the array type). */
  feed(data: Float32Array | BigInt64Array | Uint8Array, shape: readonly number[]): Tensor {
    const name = `in${this.count++}`;
    const dtype = data instanceof Float32Array ? "float32" : data instanceof BigInt64Array ? "int64" : "bool";
    this.feeds[name] = data;
    return g.input(name, shape, dtype);
  }

  output(t: Tensor): string {
    const key = `out${this.count++}`;
    this.outputs[key] = t;
    return key;
  }

  async run(): Promise<void> {
    try {
      this.results = await runGraph(this.outputs, this.feeds);
    } catch {
      this.results = {};
      for (const [key, t] of Object.entries(this.outputs)) {
        try {
          const session = await CompiledGraph.compile({ [key]: t }, { threads: 1 });
          try {
            const feeds = Object.fromEntries(session.inputs.map((v) => [v.name, this.feeds[v.name]!]));
            Object.assign(this.results, await session.run(feeds));
          } finally {
            await session.release();
          }
        } catch (error) {
          this.errors.set(key, error);
        }
      }
    }
  }

  get(key: string): HostArray {
    assert.ok(this.results, "the batch has not been run");
    if (this.errors.has(key)) throw this.errors.get(key);
    return this.results[key]!;
  }

  floats(key: string): Float32Array {
    const v = this.get(key);
    assert.ok(v instanceof Float32Array, `${key} is not float32`);
    return v;
  }
}

/** One input of a gradient check: its shape, and its values (standard normal when omitted). */
export interface GradInput {
  shape: readonly number[];
  data?: Float32Array;
}

let seedCounter = 1000;

/**
 * Gradient checks against central differences of a float64 reference, batched into one graph.
 * For each case: y = build(xs), the graph's vector-Jacobian product with a random cotangent c gives
 * gᵢ for every input; for a random direction u, ⟨gᵢ, u⟩ must match
 * (F(xᵢ + h·u) − F(xᵢ − h·u)) / 2h with F = ⟨c, ref(xs)⟩ evaluated in float64.
 */
export class GradCheck {
  private readonly batch = new GraphBatch();
  private readonly cases: {
    name: string;
    xs: Float32Array[];
    shapes: (readonly number[])[];
    cotangent: Float32Array;
    ref: (...xs: Arr[]) => Arr;
    yKey: string;
    gradKeys: string[];
    rtol: number;
    buildError?: unknown;
  }[] = [];

  add(
    name: string,
    inputs: readonly GradInput[],
    build: (...xs: Tensor[]) => Tensor,
    ref: (...xs: Arr[]) => Arr,
    { rtol = 1e-3 }: { rtol?: number } = {},
  ): void {
    const size = (shape: readonly number[]) => shape.reduce((n, d) => n * d, 1);
    const xs = inputs.map((i) => i.data ?? randn(size(i.shape), seedCounter++));
    const shapes = inputs.map((i) => i.shape);
    try {
      const tensors = xs.map((x, k) => this.batch.feed(x, shapes[k]!));
      const y = build(...tensors);
      const cotangent = randn(size(y.shape), seedCounter++);
      const grads = g.gradients(y, tensors, this.batch.feed(cotangent, y.shape));
      const yKey = this.batch.output(y);
      const gradKeys = grads.map((gx) => this.batch.output(gx));
      this.cases.push({ name, xs, shapes, cotangent, ref, yKey, gradKeys, rtol });
    } catch (buildError) {
      // Reported by this case's own test.
      const cotangent = new Float32Array(0);
      this.cases.push({ name, xs, shapes, cotangent, ref, yKey: "", gradKeys: [], rtol, buildError });
    }
  }

  async run(): Promise<void> {
    await this.batch.run();
  }

  /** The cases' names, to register one node:test each. */
  names(): string[] {
    return this.cases.map((c) => c.name);
  }

  verify(name: string, h = 1e-4): void {
    const c = this.cases.find((k) => k.name === name)!;
    if (c.buildError) throw c.buildError;
    const args = c.xs.map((x, k) => arr(c.shapes[k]!, x));
    const forward = c.ref(...args);
    assertClose(this.batch.floats(c.yKey), forward.data, { atol: 1e-4, rtol: 1e-4 }, `${name}: forward`);
    const objective = (xs: Arr[]) => dot(c.cotangent, c.ref(...xs).data);
    c.gradKeys.forEach((key, k) => {
      const gx = this.batch.floats(key);
      const u = randn(gx.length, seedCounter++);
      const shifted = (sign: number) =>
        args.map((a, j) => (j === k ? { shape: a.shape, data: a.data.map((v, i) => v + sign * h * u[i]!) } : a));
      const numeric = (objective(shifted(1)) - objective(shifted(-1))) / (2 * h);
      const analytic = dot(gx, u);
      const scale = Math.sqrt(dot(gx, gx) * dot(u, u));
      const tol = c.rtol * Math.abs(numeric) + 1e-4 * scale + 1e-6;
      assert.ok(
        Math.abs(analytic - numeric) <= tol,
        `${name}: input ${k}: ⟨grad, u⟩ = ${analytic}, finite difference gives ${numeric} (tolerance ${tol})`,
      );
    });
  }
}

// Named parameters: a ParamStore holds every parameter a model declares, under the reference
// state_dict key it was declared with, and a Scope builds those dotted keys hierarchically
// (`input_blocks.1.0.in_layers.2.weight`). A parameter's value comes from a bound state dict when
// it has the key, otherwise from the store's initializer, otherwise it stays null (shapes only:
// enough to check a checkpoint, count parameters, or export a graph with parameters as inputs).
import * as g from "../graph/index.ts";
import { parameterStream, seededNormal } from "../util/seeded-stream.ts";
import { checkNonNegativeInteger } from "../validate.ts";

/** How a parameter is initialized when no value is bound (the reference's PyTorch defaults). */
export type InitSpec =
  | { kind: "zeros" }
  | { kind: "ones" }
  /** U(−bound, bound): PyTorch's default for Linear/Conv weights and biases, bound = 1/√fan_in. */
  | { kind: "uniform"; bound: number }
  | { kind: "normal"; std: number };

/** Makes a value for a parameter that the state dict does not hold. */
export type Initializer = (name: string, shape: readonly number[], spec: InitSpec) => Float32Array;

/** A value to bind: any state-dict entry with a shape and float32 data (io's HostTensor fits). */
export interface ParamValue {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export interface ParamStoreOptions {
  /** Values by full parameter name (a loaded state dict). Entries are used as is, not copied. */
  values?: ReadonlyMap<string, ParamValue>;
  /**
   * For parameters without a bound value: a seed for `seededInitializer`, a custom initializer,
   * or "none" (the default) to leave them without a value.
   */
  init?: number | Initializer | "none";
}

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);
const fmt = (s: readonly number[]) => `[${s.join(", ")}]`;

/**
 * The deterministic default initializer: the parameter named `name` draws from its own stream,
 * `new Rng(seed · 2³² + fnv1a(name))` (util/seeded-stream.ts), so its value depends only on the
 * seed, its name and its spec (uniform: (2u − 1)·bound; normal: std·N(0, 1)).
 */
export function seededInitializer(seed: number): Initializer {
  checkNonNegativeInteger(seed, "the init seed");
  return (name, shape, spec) => {
    const count = shape.reduce((n, d) => n * d, 1);
    if (spec.kind === "normal") return seededNormal(seed, name, count, spec.std);
    const out = new Float32Array(count);
    if (spec.kind === "ones") out.fill(1);
    if (spec.kind !== "uniform") return out;
    const rng = parameterStream(seed, name);
    for (let i = 0; i < out.length; i++) out[i] = (2 * rng.uniform() - 1) * spec.bound;
    return out;
  };
}

/** Every parameter of a model, in declaration order (which models keep equal to the reference state_dict order). */
export class ParamStore {
  private readonly declared = new Map<string, g.Tensor>();
  private values: ReadonlyMap<string, ParamValue>;
  /** The bound state dict's keys (kept when its values are let go of). */
  private readonly boundKeys: readonly string[];
  private readonly initializer: Initializer | null;

  constructor(options: ParamStoreOptions = {}) {
    this.values = options.values ?? new Map();
    this.boundKeys = [...this.values.keys()];
    const init = options.init ?? "none";
    this.initializer = init === "none" ? null : typeof init === "number" ? seededInitializer(init) : init;
  }

  /** The root scope (no prefix). */
  root(): Scope {
    return new Scope(this, "");
  }

  /**
   * Declares (or, for an already declared name, returns) the parameter `name`. A bound value of
   * another shape is an error naming the key.
   */
  declare(name: string, shape: readonly number[], init: InitSpec): g.Tensor {
    const known = this.declared.get(name);
    if (known) {
      if (!sameShape(known.shape, shape)) {
        throw new g.GraphError(`parameter '${name}' declared twice, as ${fmt(known.shape)} and ${fmt(shape)}`);
      }
      return known;
    }
    const bound = this.values.get(name);
    if (bound && !sameShape(bound.shape, shape)) {
      throw new g.GraphError(
        `parameter '${name}': the model expects ${fmt(shape)}, the state dict holds ${fmt(bound.shape)}`,
      );
    }
    const value = bound?.data ?? this.initializer?.(name, shape, init) ?? null;
    const t = g.param(name, shape, value);
    this.declared.set(name, t);
    return t;
  }

  /** The parameter tensors by name, in declaration order. */
  get params(): ReadonlyMap<string, g.Tensor> {
    return this.declared;
  }

  /** Parameter shapes by name, in declaration order. */
  shapes(): Map<string, number[]> {
    return new Map([...this.declared].map(([k, t]) => [k, [...t.shape]]));
  }

  /** Total number of parameter elements. */
  count(): number {
    let n = 0;
    for (const t of this.declared.values()) n += g.numel(t.shape);
    return n;
  }

  /** Declared parameters that have no value (neither bound nor initialized). */
  unset(): string[] {
    return [...this.declared].filter(([, t]) => !g.hasValue(t)).map(([k]) => k);
  }

  /** Keys of the bound values that no declared parameter uses. */
  unused(): string[] {
    return this.boundKeys.filter((k) => !this.declared.has(k));
  }

  /** Parameters whose value is a JavaScript array (not stored in a file). */
  inMemory(): g.Tensor[] {
    return [...this.declared.values()].filter((t) => g.paramAttrs(t).value !== null);
  }

  /**
   * Moves every in-memory value out (`write` stores the arrays and says where each one went): the
   * parameters then point at their stored copies, and the store lets go of the arrays and of the
   * bound state dict, so that they can be freed. Parameters declared afterwards get no bound value.
   */
  async moveValues(write: (arrays: readonly Float32Array[]) => Promise<g.StoredTensor[]>): Promise<void> {
    const moving = this.inMemory();
    const stored = await write(moving.map((t) => g.paramAttrs(t).value!));
    moving.forEach((t, i) => {
      const attrs = g.paramAttrs(t);
      attrs.stored = stored[i]!;
      attrs.value = null;
    });
    this.values = new Map();
  }
}

/** A position in the parameter hierarchy: `child("out_layers").child(3).param("weight", …)`. */
export class Scope {
  constructor(
    readonly store: ParamStore,
    /** The dotted prefix of this scope ("" at the root). */
    readonly path: string,
  ) {}

  /** A sub-scope; numbers name entries of an nn.Sequential / nn.ModuleList. */
  child(...names: (string | number)[]): Scope {
    const suffix = names.join(".");
    return new Scope(this.store, this.path ? `${this.path}.${suffix}` : suffix);
  }

  /** Declares the parameter `<path>.<name>`. */
  param(name: string, shape: readonly number[], init: InitSpec): g.Tensor {
    return this.store.declare(this.path ? `${this.path}.${name}` : name, shape, init);
  }
}

import type { DType } from "./dtype.ts";
import type { Shape } from "./shape.ts";

/** An ONNX attribute value, tagged with its kind so ints and floats stay distinct. */
export type Attr =
  | { i: number }
  | { f: number }
  | { s: string }
  | { ints: readonly number[] }
  | { floats: readonly number[] };

/** What an op's `emit` uses to write ONNX nodes. */
export interface Emitter {
  /** Adds a node and returns the name of its (first) output. */
  node(opType: string, inputs: readonly string[], attrs?: Record<string, Attr>): string;
  /** A small int64 constant (shapes, axes, slice bounds). */
  int64(values: readonly number[], shape?: Shape): string;
  /** A small float32 constant. */
  float32(values: readonly number[], shape?: Shape): string;
}

/** One kind of graph operation: shape inference, ONNX emission, and its gradient rule. */
export interface OpDef<A = unknown> {
  readonly name: string;
  /** Output shape and dtype; throws a GraphError naming the op when inputs are wrong. */
  infer(inputs: readonly Tensor[], attrs: A): { shape: Shape; dtype: DType };
  /** Writes ONNX nodes computing the output from the named inputs; returns the output's name. */
  emit(e: Emitter, inputs: readonly string[], attrs: A, self: Tensor): string;
  /**
   * Vector-Jacobian product: the gradient for each input given the gradient of the output,
   * built from other ops. `null` means no gradient flows to that input. Absent: not differentiable.
   */
  grad?(gy: Tensor, self: Tensor): readonly (Tensor | null)[];
  /** Ops that exist only in inference graphs (int8 quantization): autodiff refuses them by name. */
  readonly inferenceOnly?: boolean;
}

let nextId = 0;

/** A symbolic tensor: a node of the graph with a static shape. */
export class Tensor {
  readonly id = nextId++;
  constructor(
    readonly op: OpDef<never>,
    readonly inputs: readonly Tensor[],
    readonly attrs: unknown,
    readonly shape: Shape,
    readonly dtype: DType,
  ) {}

  get rank(): number {
    return this.shape.length;
  }
}

/** Creates a tensor by applying an op, inferring (and so checking) its shape. */
export function apply<A>(op: OpDef<A>, inputs: readonly Tensor[], attrs: A): Tensor {
  const { shape, dtype } = op.infer(inputs, attrs);
  return new Tensor(op as OpDef<never>, inputs, attrs, shape, dtype);
}

/** Attribute accessor for op implementations (the Tensor stores attrs untyped). */
export function attrsOf<A>(t: Tensor): A {
  return t.attrs as A;
}

// Leaves of a graph: inputs fed at run time, named parameters, and constants.
import type { StoredTensor } from "../../platform/data-types.ts";
import { checkDType, DTYPES, type DType, GraphError } from "../dtype.ts";
import { checkShape, formatShape, numel, type Shape } from "../shape.ts";
import { apply, attrsOf, type OpDef, Tensor } from "../tensor.ts";

export type ConstData = Float32Array | BigInt64Array | Uint8Array | Int8Array | Int32Array;

export interface InputAttrs {
  name: string;
  shape: Shape;
  dtype: DType;
}

export interface ParamAttrs {
  name: string;
  shape: Shape;
  /** Current value; exported as an initializer for inference graphs. */
  value: Float32Array | null;
  /** Where the value is kept instead, when it was moved out of memory (then `value` is null). */
  stored?: StoredTensor;
}
export interface ConstAttrs {
  data: ConstData;
  shape: Shape;
  dtype: DType;
}

export type { StoredTensor } from "../../platform/data-types.ts";

const leafEmit = (): string => {
  throw new GraphError("leaves are bound by the exporter, not emitted");
};

export const InputOp: OpDef<InputAttrs> = {
  name: "input",
  infer: (_, a) => ({ shape: a.shape, dtype: a.dtype }),
  emit: leafEmit,
};

export const ParamOp: OpDef<ParamAttrs> = {
  name: "param",
  infer: (_, a) => ({ shape: a.shape, dtype: "float32" }),
  emit: leafEmit,
};

export const ConstOp: OpDef<ConstAttrs> = {
  name: "constant",
  infer: (_, a) => ({ shape: a.shape, dtype: a.dtype }),
  emit: leafEmit,
};

/** A value fed at run time under `name`. */
export function input(name: string, shape: readonly number[], dtype: string = "float32"): Tensor {
  const where = `input '${name}'`;
  return apply(InputOp, [], { name, shape: checkShape(where, shape), dtype: checkDType(dtype, where) });
}

/** A named trainable float32 parameter, optionally with its current value. */
export function param(name: string, shape: readonly number[], value: Float32Array | null = null): Tensor {
  const s = checkShape(`param '${name}'`, shape);
  if (value && value.length !== numel(s)) {
    throw new GraphError(
      `param '${name}': value has ${value.length} elements, shape ${formatShape(s)} needs ${numel(s)}`,
    );
  }
  return apply(ParamOp, [], { name, shape: s, value });
}

/**
 * A constant tensor; numbers become float32 unless the data says otherwise (a Uint8Array is bool
 * unless `dtype` says "uint8").
 */
export function constant(
  data: ConstData | readonly number[] | number,
  shape?: readonly number[],
  dtype?: DType,
): Tensor {
  const array =
    typeof data === "number"
      ? new Float32Array([data])
      : Array.isArray(data)
        ? Float32Array.from(data as number[])
        : (data as ConstData);
  const s = checkShape("constant", shape ?? (typeof data === "number" ? [] : [array.length]));
  if (numel(s) !== array.length) {
    throw new GraphError(`constant: ${array.length} values do not fill shape ${formatShape(s)}`);
  }
  const natural = dataType(array);
  if (dtype !== undefined && dtype !== natural && !(natural === "bool" && dtype === "uint8")) {
    throw new GraphError(`constant: a ${array.constructor.name} cannot hold ${dtype}`);
  }
  return apply(ConstOp, [], { data: array, shape: s, dtype: dtype ?? natural });
}

function dataType(array: ConstData): DType {
  if (array instanceof BigInt64Array) return "int64";
  if (array instanceof Uint8Array) return "bool";
  if (array instanceof Int8Array) return "int8";
  if (array instanceof Int32Array) return "int32";
  return "float32";
}

export function isParam(t: Tensor): boolean {
  return t.op === ParamOp;
}
export function isInput(t: Tensor): boolean {
  return t.op === InputOp;
}
export function isConstant(t: Tensor): boolean {
  return t.op === ConstOp;
}
export function paramAttrs(t: Tensor): ParamAttrs {
  return attrsOf<ParamAttrs>(t);
}
/** Whether the parameter has a value, in memory or stored. */
export function hasValue(t: Tensor): boolean {
  const a = paramAttrs(t);
  return a.value !== null || a.stored !== undefined;
}
export function inputAttrs(t: Tensor): InputAttrs {
  return attrsOf<InputAttrs>(t);
}
export function constAttrs(t: Tensor): ConstAttrs {
  return attrsOf<ConstAttrs>(t);
}

export function bytesOf(dtype: DType): number {
  return DTYPES[dtype].bytes;
}

/** Accepts a tensor or a number (as a float32 scalar constant). */
export function asTensor(x: Tensor | number): Tensor {
  return x instanceof Tensor ? x : constant(x);
}

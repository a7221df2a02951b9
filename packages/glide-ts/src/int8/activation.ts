// Static activation quantization: a calibrated value range → uint8 scale and zero point (asymmetric,
// the range widened to hold 0 so that zero padding is exact). uint8 activations with int8 weights are
// the form onnxruntime's x86 integer kernels run fastest (U8S8).

/** [min, max] of a tensor over the calibration runs. */
export type Range = readonly [number, number];

export interface ActivationQuantization {
  scale: number;
  zeroPoint: number;
}

export function activationQuantization([low, high]: Range): ActivationQuantization {
  const min = Math.min(low, 0);
  const max = Math.max(high, 0);
  const scale = max > min ? (max - min) / 255 : 1;
  return { scale, zeroPoint: Math.min(255, Math.max(0, Math.round(-min / scale))) };
}

/** The union of two ranges. */
export function widen(a: Range | undefined, b: Range): Range {
  return a ? [Math.min(a[0], b[0]), Math.max(a[1], b[1])] : b;
}

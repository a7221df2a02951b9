// Per-output-channel symmetric int8 quantization of a weight tensor (axis 0), as QLinearConv takes it.

export interface QuantizedWeight {
  /** round(w / scale[c]), in [−127, 127]. */
  values: Int8Array;
  /** One positive scale per output channel: max |w| over the channel / 127 (1 for an all-zero channel). */
  scales: Float32Array;
}

/** Quantizes `data` laid out as [channels, …] (rows of equal length). */
export function quantizePerChannel(data: Float32Array, channels: number): QuantizedWeight {
  const per = data.length / channels;
  if (!Number.isInteger(per)) throw new RangeError(`${data.length} weights do not split into ${channels} channels`);
  const values = new Int8Array(data.length);
  const scales = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    let absMax = 0;
    for (let i = c * per; i < (c + 1) * per; i++) absMax = Math.max(absMax, Math.abs(data[i]!));
    // A zero channel (zero-initialized layers) still needs a positive scale: its values are all 0.
    const scale = absMax > 0 ? absMax / 127 : 1;
    scales[c] = scale;
    for (let i = c * per; i < (c + 1) * per; i++) values[i] = Math.round(data[i]! / Math.fround(scale));
  }
  return { values, scales };
}

/** The float weights a quantized weight stands for (what DequantizeLinear computes). */
export function dequantizePerChannel(q: QuantizedWeight): Float32Array {
  const channels = q.scales.length;
  const per = q.values.length / channels;
  const out = new Float32Array(q.values.length);
  for (let i = 0; i < out.length; i++) out[i] = q.values[i]! * q.scales[Math.floor(i / per)]!;
  return out;
}

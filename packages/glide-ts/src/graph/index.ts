// The graph layer's public surface: build tensors with these functions, differentiate, export.
export { gradients } from "./autodiff.ts";
export { type DType, GraphError } from "./dtype.ts";
export { type ExportedModel, type ExportOptions, exportModel } from "./onnx/export.ts";
export * from "./ops/elementwise.ts";
export { constant, hasValue, input, isParam, param, paramAttrs, type StoredTensor } from "./ops/leaf.ts";
export { type Conv2dOptions, conv2d, convTranspose2d, linear, matmul, transposeLast } from "./ops/linalg.ts";
export { groupNorm, layerNorm, softmax } from "./ops/norm.ts";
export { dequantizeLinear, type QuantizedType, quantizeLinear, valueRange } from "./ops/quantize.ts";
export { avgPool2x2, bilinearMatrix, resizeBilinear, upsampleNearest2x } from "./ops/resample.ts";
export * from "./ops/shape-reduce.ts";
export { dropout, positive, stopGradient } from "./ops/special.ts";
export { type Rewriter, rewriteGraph } from "./rewrite.ts";
export { formatShape, numel, type Shape } from "./shape.ts";
export { Tensor } from "./tensor.ts";

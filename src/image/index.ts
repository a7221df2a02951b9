// Pictures in and out: decoding and resizing to a model's resolution, inpainting masks, 8-bit
// conversion as the reference does it, grids, and PNG files.
export { decodeImage, type ImageSource, RESIZE_FITS, type ResizeFit, resizeSquare } from "./decode.ts";
export { ImageError } from "./errors.ts";
export {
  fromByte,
  imageGrid,
  imageToTensor,
  quantize8bit,
  type RawImage,
  type RgbImage,
  tensorToImages,
  toByte,
} from "./pixels.ts";
export {
  hasTransparency,
  type MaskCoverage,
  type MaskOptions,
  type ModelImage,
  maskCoverage,
  maskFromDecoded,
  type ReadOptions,
  readImage,
  readMask,
} from "./read.ts";
export { encodePng, numberedPath, writePng } from "./write.ts";

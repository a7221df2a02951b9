// glide-ts in a browser (through a bundler): the core on onnxruntime-web, the browser's image
// decoding and canvas, and fetch. Checkpoints are URLs or safetensors bytes.
import "./platform/browser.ts";

export * from "./index.ts";
export { browserPlatform, webEnvironment } from "./platform/browser.ts";

// What differs between JavaScript platforms, behind three small interfaces: the inference engine
// (onnxruntime-node in Node, onnxruntime-web in a browser: both speak onnxruntime-common's API),
// image decoding/resizing/encoding (sharp; the browser's own), and reading bytes by name (paths;
// URLs). The core asks `platform()` for them; an entry point (src/node.ts, src/browser.ts) sets one.
import type { InferenceSession, Tensor } from "onnxruntime-common";
import { GlideError } from "../errors.ts";
import type { CheckpointContents, RawImage, StoredTensor } from "./data-types.ts";

export interface InferenceEngine {
  InferenceSession: typeof InferenceSession;
  Tensor: typeof Tensor;
  /** The execution provider a session gets when none is asked for ("cpu", "wasm"). */
  defaultProvider: string;
  /**
   * Why an execution provider certainly cannot load here (e.g. its library is not installed), or
   * null when it may: checked before a session is tried, so the engine prints nothing of its own.
   */
  missingProvider?(name: string): string | null;
  /**
   * Whether `session.run` writes outputs into the tensors passed as fetches (default true).
   * onnxruntime-web's CPU backends return those tensors unwritten: outputs are then fetched and copied.
   */
  fillsPreallocatedOutputs?: boolean;
}

/** How a picture that is not square becomes square (see image/decode.ts). */
export type ResizeFit = "crop" | "stretch";

export interface ImageCodec {
  /** An encoded picture (PNG, JPEG, …) as 8-bit RGBA at its own size; throws when unreadable. */
  decode(bytes: Uint8Array): Promise<RawImage>;
  /** `image` resized to size × size ("cubic" for pictures, "nearest" for masks), channels kept. */
  resize(image: RawImage, size: number, fit: ResizeFit, kernel: "cubic" | "nearest"): Promise<RawImage>;
  /** A PNG file of an RGB or RGBA picture. */
  encodePng(image: RawImage): Promise<Uint8Array>;
}

export interface FileAccess {
  /** The bytes at `location` (a path in Node, a URL in a browser); the error message says why not. */
  readBytes(location: string): Promise<Uint8Array>;
  /**
   * A checkpoint at `location` read without holding the file twice (Node: torch.save archives too,
   * streamed); without it, the bytes are read whole and parsed as safetensors.
   */
  readCheckpoint?(location: string): Promise<CheckpointContents>;
}

/**
 * Files of float32 weights that the inference engine reads itself when it builds a session, so that
 * a model's parameters need not stay in JavaScript memory beside the engine's own copy (Node; a
 * browser's engine cannot read files).
 */
export interface WeightStorage {
  /**
   * Writes the arrays, one after another, into a new file and says where each one is. The file is
   * removed once `owner` is garbage collected (or the process exits).
   */
  write(arrays: readonly Float32Array[], owner: object): Promise<StoredTensor[]>;
  /**
   * Frees the arrays nothing refers to any more, now: the engine's allocations are not seen by the
   * garbage collector, which would otherwise keep them until later.
   */
  collectGarbage(): Promise<void>;
  /** Reads back `length` float32 values of a stored tensor (a graph rewrite that needs the weights). */
  read(stored: StoredTensor, length: number): Float32Array;
}

export interface Platform {
  name: string;
  inference: InferenceEngine;
  images: ImageCodec;
  files: FileAccess;
  /** Absent where the engine only takes weights from memory. */
  weights?: WeightStorage;
}

let current: Platform | null = null;

/** Makes `p` the platform every later call uses (an entry point does this once). */
export function setPlatform(p: Platform): void {
  current = p;
}

/** The platform set by the entry point. */
export function platform(): Platform {
  if (!current) {
    throw new GlideError(
      "no platform is set up: import glide-ts through its entry point (`glide-ts` in Node or a bundler), " +
        "or call setPlatform() first",
    );
  }
  return current;
}

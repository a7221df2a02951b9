// The one interface every dataset format gives the trainer: an async stream of decoded
// image–caption samples with a position that can be saved and restored.
import { GlideError } from "../errors.ts";
import type { SplitFilter } from "./split.ts";

/** One training pair, decoded. */
export interface Sample {
  /** Identifies the pair within its dataset (relative path without extension, or the manifest's key). */
  key: string;
  caption: string;
  /** RGB, shape [3, resolution, resolution] row-major (NCHW without N), values in [-1, 1]. */
  image: Float32Array;
  /** The stored picture's size before it was scaled to the resolution (when the format knows it). */
  sourceSize?: { width: number; height: number };
}

/**
 * Where a dataset stands: the next sample it will deliver. Plain JSON, saved in checkpoints.
 *
 * `epoch` counts from 0 and `index` is the number of samples of that epoch already consumed
 * (delivered, or skipped as corrupt) in the epoch's order. Tar shards also record where the current
 * shuffle block starts (`shard`: index into the epoch's shard order, `offset`: samples of that
 * shard before the block), so that a restore reads only from there instead of replaying the epoch.
 *
 * Exactness: opened again with the same data, `seed`, `shuffle`, `split` and (tar) `shuffleBuffer`,
 * a dataset restored at a position delivers exactly the samples, in exactly the order, that the
 * original would have delivered next (prefetching does not change the order). Folder and JSONL
 * restore in O(1); tar shards re-read at most one shuffle block. Changing any of those inputs
 * changes the stream; a position beyond the data is refused, other changes are not detected. The
 * skip counter belongs to the process and starts at zero again.
 */
export interface DataPosition {
  epoch: number;
  index: number;
  shard?: number;
  offset?: number;
}

export type DatasetFormat = "folder" | "jsonl" | "webdataset";

/** Images that could not be read or decoded: skipped, not fatal. */
export interface SkippedImages {
  /** Skip events so far (a corrupt file is counted again each epoch it comes up). */
  readonly count: number;
  /** The distinct keys skipped, in the order first seen. */
  readonly keys: readonly string[];
  /** Why a key was skipped (the decoder's or file system's message). */
  reason(key: string): string | undefined;
}

export interface Dataset extends AsyncIterable<Sample> {
  /** What was opened (a path, a pattern, or a list of shards), for messages. */
  readonly source: string;
  readonly format: DatasetFormat;
  readonly resolution: number;
  /** Pairs per epoch when known up front (folder and JSONL, after the split filter); undefined for tar shards. */
  readonly size: number | undefined;
  readonly skipped: SkippedImages;
  /**
   * The position of the next sample to be delivered. Iterating again (after a `break`) continues from
   * here; samples decoded ahead but not yet delivered are not counted.
   */
  position(): DataPosition;
}

/** An empty, missing or unreadable dataset, or a malformed manifest or position: the message names the path. */
export class DatasetError extends GlideError {
  override name = "DatasetError";
}

export interface DatasetOptions {
  /** Output side in pixels: every image is scaled and center-cropped to resolution × resolution. */
  resolution: number;
  /** Seeds every shuffle; the same seed gives the same order in every run. Default 0. */
  seed?: number;
  /** Shuffle (default true); false reads in the dataset's own order (e.g. for validation). */
  shuffle?: boolean;
  /** Stop after this many epochs (default: never). */
  epochs?: number;
  /** Start here, as returned by `position()` of an earlier run. */
  position?: DataPosition;
  /** Keep one side of the held-out split. */
  split?: SplitFilter;
  /** Tar shards: samples shuffled together (default 1000). */
  shuffleBuffer?: number;
  /** Images decoded ahead of the consumer (default 8). */
  prefetch?: number;
  /** Called on every skipped image (e.g. to log it). */
  onSkip?: (key: string, reason: string) => void;
}

// What the web UI needs from whatever makes the pictures. Two implementations: the server backend
// (the OpenAI-shaped API of `glide serve`, streamed) and the local backend (the core in a Web Worker
// on onnxruntime-web, `npm run build:web`). The UI itself knows neither.

export interface ImageOptions {
  prompt: string;
  /** Pictures to make (1 to the backend's `maxImages`). */
  n: number;
  steps?: number;
  guidance?: number;
  seed?: number;
  sampler?: string;
  /** Run the upsampler stage when the backend has one (default true). */
  upsample?: boolean;
}

export interface EditInput extends ImageOptions {
  /** The picture (any format the browser decodes). */
  image: Blob;
  /** A PNG the picture's size: its fully transparent pixels mark what to redraw (OpenAI's convention). */
  mask: Blob;
}

export interface Progress {
  step: number;
  total: number;
  etaSeconds?: number;
  /** The predicted final picture so far (PNG), when the backend sends previews. */
  preview?: Blob;
  /** Every image's latest prediction (PNG), one per picture of the run, when the backend sends them. */
  previews?: Blob[];
  /** What is happening, e.g. "loading the model 40%" or "upsampling". */
  stage?: string;
  /** For a stage without steps (a download): how far it is, 0 to 1. */
  fraction?: number;
}

export interface RunControl {
  /** Aborting it cancels the run; the returned promise rejects with an AbortError-named error. */
  signal: AbortSignal;
  onProgress: (progress: Progress) => void;
}

export interface BackendInfo {
  /** Shown in the page header, e.g. "glide serve · glide-ts" or "in this browser · WebAssembly, 2 threads". */
  label: string;
  samplers: readonly string[];
  defaults: {
    steps: number;
    guidance: number;
    sampler: string;
    /** The guidance scale edits use when none is given, where it differs from `guidance`. */
    editGuidance?: number;
  };
  /** Each sampler's default step count, where it depends on the sampler (else `defaults.steps`). */
  samplerSteps?: Readonly<Record<string, number>>;
  maxImages: number;
  /** Side of the final pictures in pixels. */
  imageSize: number;
  canEdit: boolean;
  /** Side of the base model's pictures, when an upsampler makes the final ones larger (size toggle). */
  baseImageSize?: number;
  /** Requests need an API key (see `Backend.apiKey`). */
  apiKeyRequired?: boolean;
}

/** A finished picture and the seed that makes it again (absent when the backend cannot tell). */
export interface ResultPicture {
  blob: Blob;
  seed?: number;
}

/** What a run was asked to do: enough to show it and to run it again. */
export interface RunNote {
  kind: "generate" | "edit" | "variation";
  /** The gallery caption, e.g. the prompt. */
  caption: string;
  /** The options sent (prompt included), for "Use these settings". */
  options: ImageOptions;
}

/** A run the backend keeps: finished with its pictures, or still queued or running. */
export interface KeptRun {
  id: string;
  status: "queued" | "running" | "succeeded" | "failed" | "cancelled";
  note: RunNote;
  /** Unix seconds. */
  created: number;
  pictures: ResultPicture[];
}

/**
 * Runs that outlive the page (the server's asynchronous jobs): submitted, then followed, and
 * listed again after a reload while the backend keeps them.
 */
export interface KeptRuns {
  /** How long finished results are kept, in seconds (null: until removed). */
  keptSeconds: number | null;
  /** Where they are kept, for the page to say, e.g. "on the server". */
  where: string;
  submit(note: RunNote, input: ImageOptions | EditInput | VariationInput): Promise<string>;
  /** The ids this page submitted (already in its gallery or progress: not listed again). */
  readonly submittedHere: ReadonlySet<string>;
  /** Follows a submitted run to its pictures; aborting the signal cancels the run. */
  follow(id: string, control: RunControl): Promise<ResultPicture[]>;
  /** The kept runs, newest first. */
  list(): Promise<KeptRun[]>;
}

/** A picture to make variations of. */
export interface VariationInput extends ImageOptions {
  image: Blob;
}

/** Where a backend that sends an API key keeps it; the UI shows a field for it. */
export interface ApiKeyStore {
  get(): string;
  set(key: string): void;
}

export interface Backend {
  info(): Promise<BackendInfo>;
  generate(options: ImageOptions, control: RunControl): Promise<Blob[]>;
  edit(input: EditInput, control: RunControl): Promise<Blob[]>;
  /** Present when the backend tells each picture's seed (generate/edit then need not be used). */
  pictures?(note: RunNote, input: ImageOptions | EditInput, control: RunControl): Promise<ResultPicture[]>;
  /** Present when runs are kept by the backend and outlive the page (the server's jobs). */
  kept?: KeptRuns;
  /** Present when the backend makes variations of a picture. */
  canVary?: boolean;
  /** Present when the backend sends an API key (the server backend). */
  apiKey?: ApiKeyStore;
  /** Present when the backend can change under the page (the local one falls back from WebGPU to WebAssembly). */
  onInfoChange?(listener: (info: BackendInfo) => void): () => void;
}

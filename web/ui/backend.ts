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
  /** Requests need an API key (see `Backend.apiKey`). */
  apiKeyRequired?: boolean;
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
  /** Present when the backend sends an API key (the server backend). */
  apiKey?: ApiKeyStore;
}

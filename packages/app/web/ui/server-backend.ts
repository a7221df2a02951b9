// The Backend over `glide serve`: GET /ui/config for the form, and the OpenAI-shaped image routes
// with `stream: true`, read as Server-Sent Events (progress, partial images as previews, the final
// pictures). Aborting a run aborts its fetch, which the server takes as a cancel.
import type { ApiKeyStore, Backend, BackendInfo, EditInput, ImageOptions, Progress, RunControl } from "./backend.ts";
import { readEventStream } from "./event-stream.ts";
import { ServerJobs, samplingFields as sampling } from "./server-jobs.ts";

/** The answer of GET /ui/config (src/server/routes/ui-config.ts). */
interface UiConfig {
  model: string;
  imageSize: number;
  editUnavailable: string | null;
  samplers: string[];
  defaults: { sampler: string; steps: number; guidance: number; editGuidance: number };
  samplerSteps: Record<string, number>;
  maxImages: number;
  apiKeyRequired: boolean;
  /** The base model's side when an upsampler makes `imageSize` (absent on older servers). */
  baseImageSize?: number | null;
  /** How long finished jobs are kept (absent on older servers). */
  jobTtlSeconds?: number | null;
}

/** Previews per stage the server is asked for. */
const PARTIAL_IMAGES = 5;
/** How long info() waits for a server that is still loading its models. */
const LOADING_WAIT_MS = 120_000;
const KEY_STORAGE = "glide-ts.apiKey";

/** An error answer of the server, with its message. */
export class ServerError extends Error {
  override name = "ServerError";
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | null = null,
  ) {
    super(message);
  }
}

/** The key in localStorage (or only in memory, where storage is not allowed). */
function storedKey(): ApiKeyStore {
  let memory = "";
  const storage = (() => {
    try {
      return globalThis.localStorage ?? null;
    } catch {
      return null; // storage blocked by the browser's settings
    }
  })();
  return {
    get: () => storage?.getItem(KEY_STORAGE) ?? memory,
    set: (key) => {
      memory = key;
      try {
        if (key === "") storage?.removeItem(KEY_STORAGE);
        else storage?.setItem(KEY_STORAGE, key);
      } catch {
        // full or blocked: the key lasts for this page
      }
    },
  };
}

export class ServerBackend implements Backend {
  readonly apiKey: ApiKeyStore = storedKey();
  readonly canVary = true;
  /** The server's asynchronous jobs, which the UI submits through (set by info()). */
  kept?: ServerJobs;

  /** `base`: the server's origin ("" for the page's own). */
  constructor(private readonly base = "") {}

  async info(): Promise<BackendInfo> {
    const deadline = Date.now() + LOADING_WAIT_MS;
    for (;;) {
      try {
        const config = (await (await this.request("/ui/config", { method: "GET" })).json()) as UiConfig;
        this.kept = new ServerJobs((path, init) => this.request(path, init), config.jobTtlSeconds ?? null);
        return {
          label: `glide serve · ${config.model} · ${config.imageSize}×${config.imageSize}`,
          samplers: config.samplers,
          defaults: config.defaults,
          samplerSteps: config.samplerSteps,
          maxImages: config.maxImages,
          imageSize: config.imageSize,
          canEdit: config.editUnavailable === null,
          apiKeyRequired: config.apiKeyRequired,
          ...(config.baseImageSize ? { baseImageSize: config.baseImageSize } : {}),
        };
      } catch (error) {
        const loading = error instanceof ServerError && error.code === "loading";
        if (!loading || Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  generate(options: ImageOptions, control: RunControl): Promise<Blob[]> {
    const body = JSON.stringify({ ...sampling(options), stream: true, partial_images: PARTIAL_IMAGES });
    const init = { method: "POST", body, headers: { "content-type": "application/json" } };
    return this.stream("/v1/images/generations", init, "image_generation", control);
  }

  edit(input: EditInput, control: RunControl): Promise<Blob[]> {
    const form = new FormData();
    form.append("image", input.image, "image.png");
    form.append("mask", input.mask, "mask.png");
    for (const [name, value] of Object.entries(sampling(input))) form.append(name, String(value));
    form.append("stream", "true");
    form.append("partial_images", String(PARTIAL_IMAGES));
    return this.stream("/v1/images/edits", { method: "POST", body: form }, "image_edit", control);
  }

  private async stream(path: string, init: RequestInit, prefix: string, control: RunControl): Promise<Blob[]> {
    const images: Blob[] = [];
    let last: Progress = { step: 0, total: 0 };
    try {
      const response = await this.request(path, { ...init, signal: control.signal });
      if (!response.body || !response.headers.get("content-type")?.startsWith("text/event-stream")) {
        throw new Error(`the server answered ${path} without an event stream`);
      }
      for await (const { event, data } of readEventStream(response.body)) {
        const payload = JSON.parse(data) as Record<string, unknown>;
        if (event === "glide.progress") {
          last = progressOf(payload);
          control.onProgress(last);
        } else if (event === `${prefix}.partial_image` && payload.image_index === 0) {
          control.onProgress({ ...last, preview: pngBlob(payload.b64_json) });
        } else if (event === `${prefix}.completed`) {
          images[Number(payload.image_index ?? images.length)] = pngBlob(payload.b64_json);
        } else if (event === "error") {
          const error = (payload.error ?? {}) as { message?: string; code?: string };
          throw new ServerError(error.message ?? "the job failed", 500, error.code ?? null);
        }
      }
    } catch (error) {
      // However the fetch or the read noticed it, a cancelled run ends as the contract says.
      if (control.signal.aborted) throw new DOMException("the run was cancelled", "AbortError");
      throw error;
    }
    const received = images.filter((image) => image !== undefined).length;
    if (received === 0 || received !== images.length) {
      throw new Error("the server closed the stream before sending every picture");
    }
    return images;
  }

  /** A fetch with the key; an error answer becomes a ServerError with the server's message. */
  private async request(path: string, init: RequestInit): Promise<Response> {
    const headers = new Headers(init.headers);
    const key = this.apiKey.get();
    if (key !== "") headers.set("authorization", `Bearer ${key}`);
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, { ...init, headers });
    } catch (error) {
      if ((error as Error).name === "AbortError") throw error;
      throw new Error(`could not reach the server (${(error as Error).message}); is glide serve running?`);
    }
    if (!response.ok) throw await serverError(response);
    return response;
  }
}

function progressOf(payload: Record<string, unknown>): Progress {
  const eta = payload.eta_seconds;
  return {
    step: Number(payload.step),
    total: Number(payload.total),
    ...(typeof eta === "number" ? { etaSeconds: eta } : {}),
    stage: payload.stage === "upsample" ? "upsampling" : "sampling",
  };
}

function pngBlob(b64: unknown): Blob {
  if (typeof b64 !== "string") throw new Error("the server sent an event without its picture");
  const text = atob(b64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return new Blob([bytes], { type: "image/png" });
}

async function serverError(response: Response): Promise<ServerError> {
  const text = await response.text().catch(() => "");
  try {
    const { error } = JSON.parse(text) as { error: { message: string; code?: string | null } };
    if (typeof error.message === "string") return new ServerError(error.message, response.status, error.code ?? null);
  } catch {
    // not the API's error shape
  }
  const detail = text.trim().slice(0, 200) || response.statusText;
  return new ServerError(`the server answered ${response.status}${detail ? `: ${detail}` : ""}`, response.status);
}

// The server's asynchronous jobs (POST/GET/DELETE /v1/images/jobs…) as the UI's KeptRuns: a run is
// submitted, then polled with its previews until it ends; after a reload the jobs the server still
// keeps are listed again. What the server does not return (the caption and the options as typed)
// is noted in localStorage by job id.
import type {
  EditInput,
  ImageOptions,
  KeptRun,
  KeptRuns,
  Progress,
  ResultPicture,
  RunControl,
  RunNote,
  VariationInput,
} from "./backend.ts";
import { RunNotes } from "./run-notes.ts";

/** How often a running job is polled. */
const POLL_MS = 250;
/** Jobs listed after a reload at most. */
const LIST_LIMIT = 50;

type Request = (path: string, init: RequestInit) => Promise<Response>;

/** A job as GET /v1/images/jobs/{id} answers (src/server/routes/image-jobs.ts). */
interface JobView {
  id: string;
  kind: RunNote["kind"];
  status: KeptRun["status"];
  created: number;
  queue_position: number | null;
  progress: { stage: "base" | "upsample"; step: number; total: number | null; eta_seconds: number | null } | null;
  preview?: { stage: string; step: number; data: { b64_json: string }[] };
  data?: { b64_json?: string; seed?: number }[];
  glide?: { seed: number; settings: JobSettings };
  error?: { message: string; code?: string | null };
}

/** The part of the pipeline's settings the UI reads back (src/pipelines/types.ts). */
interface JobSettings {
  prompt: string;
  seed: number;
  batchSize: number;
  base: { sampler: string; steps: number | string; guidanceScale: number | null } | null;
  upsample: unknown;
}

export class ServerJobs implements KeptRuns {
  readonly where = "on the server";
  readonly submittedHere = new Set<string>();
  private readonly notes = new RunNotes();

  constructor(
    private readonly request: Request,
    readonly keptSeconds: number | null,
  ) {}

  async submit(note: RunNote, input: ImageOptions | EditInput | VariationInput): Promise<string> {
    const init = submission(note.kind, input);
    const path = {
      generate: "/v1/images/jobs",
      edit: "/v1/images/jobs/edits",
      variation: "/v1/images/jobs/variations",
    };
    const job = (await (await this.request(path[note.kind], init)).json()) as JobView;
    this.notes.set(job.id, note);
    this.submittedHere.add(job.id);
    return job.id;
  }

  async follow(id: string, control: RunControl): Promise<ResultPicture[]> {
    const cancel = () => void this.request(`/v1/images/jobs/${id}`, { method: "DELETE" }).catch(() => undefined);
    control.signal.addEventListener("abort", cancel, { once: true });
    try {
      for (;;) {
        if (control.signal.aborted) throw abortError();
        const job = await this.get(id, true, control.signal);
        if (job.status === "succeeded") return picturesOf(job);
        if (job.status === "failed") throw new Error(job.error?.message ?? "the job failed");
        if (job.status === "cancelled")
          throw control.signal.aborted ? abortError() : new Error("the job was cancelled");
        control.onProgress(progressOf(job));
        await sleep(POLL_MS, control.signal);
      }
    } catch (error) {
      if (control.signal.aborted) throw abortError();
      throw error;
    } finally {
      control.signal.removeEventListener("abort", cancel);
    }
  }

  async list(): Promise<KeptRun[]> {
    const answer = (await (await this.request(`/v1/images/jobs?limit=${LIST_LIMIT}`, { method: "GET" })).json()) as {
      data: JobView[];
    };
    const wanted = answer.data.filter((job) => job.status !== "failed" && job.status !== "cancelled");
    this.notes.keepOnly(answer.data.map((job) => job.id));
    const runs = await Promise.all(
      wanted.map(async (summary): Promise<KeptRun | null> => {
        const job = summary.status === "succeeded" ? await this.get(summary.id, false).catch(() => null) : summary;
        if (!job) return null; // forgotten in between
        return {
          id: job.id,
          status: job.status,
          created: job.created,
          note: this.notes.get(job.id) ?? noteFromServer(job),
          pictures: job.status === "succeeded" ? picturesOf(job) : [],
        };
      }),
    );
    return runs.filter((run) => run !== null);
  }

  private async get(id: string, preview: boolean, signal?: AbortSignal): Promise<JobView> {
    const response = await this.request(`/v1/images/jobs/${id}${preview ? "?preview=true" : ""}`, {
      method: "GET",
      ...(signal ? { signal } : {}),
    });
    return (await response.json()) as JobView;
  }
}

function submission(kind: RunNote["kind"], input: ImageOptions | EditInput | VariationInput): RequestInit {
  const fields = samplingFields(input);
  if (kind === "generate") {
    return { method: "POST", body: JSON.stringify(fields), headers: { "content-type": "application/json" } };
  }
  const form = new FormData();
  form.append("image", (input as VariationInput).image, "image.png");
  if (kind === "edit") form.append("mask", (input as EditInput).mask, "mask.png");
  for (const [name, value] of Object.entries(fields)) form.append(name, String(value));
  return { method: "POST", body: form };
}

/** ImageOptions as the API's fields (what is not given is left to the server). */
export function samplingFields(options: ImageOptions): Record<string, string | number | boolean> {
  const fields: Record<string, string | number | boolean> = { prompt: options.prompt, n: options.n };
  if (options.steps !== undefined) fields.steps = options.steps;
  if (options.guidance !== undefined) fields.guidance = options.guidance;
  if (options.seed !== undefined) fields.seed = options.seed;
  if (options.sampler !== undefined) fields.sampler = options.sampler;
  if (options.upsample !== undefined) fields.upsample = options.upsample;
  return fields;
}

function progressOf(job: JobView): Progress {
  const previews = job.preview?.data.map((image) => pngBlob(image.b64_json));
  const progress = job.progress;
  if (!progress) {
    const waiting = job.queue_position ? `waiting in the queue (${job.queue_position} ahead)` : "waiting for the model";
    return { step: 0, total: 0, stage: waiting };
  }
  const stage = progress.stage === "upsample" ? "upsampling" : "sampling";
  if (progress.total === null) return { step: 0, total: 0, stage: `${stage}: setting up` };
  return {
    step: progress.step,
    total: progress.total,
    stage,
    ...(progress.eta_seconds !== null ? { etaSeconds: progress.eta_seconds } : {}),
    ...(previews && previews.length > 0 ? { previews, preview: previews[0] } : {}),
  };
}

function picturesOf(job: JobView): ResultPicture[] {
  return (job.data ?? []).map((image, index) => ({
    blob: pngBlob(image.b64_json),
    ...(typeof image.seed === "number"
      ? { seed: image.seed }
      : job.glide && job.data?.length === 1
        ? { seed: job.glide.seed + index }
        : {}),
  }));
}

/** What a job made on another page (or before the notes were kept) is read back from its settings. */
function noteFromServer(job: JobView): RunNote {
  const settings = job.glide?.settings;
  const prompt = settings?.prompt ?? "";
  const caption = job.kind === "generate" ? prompt : `${job.kind === "edit" ? "Edit" : "Variation"}: ${prompt}`;
  const options: ImageOptions = { prompt, n: settings?.batchSize ?? 1 };
  if (settings) options.seed = settings.seed;
  if (settings?.base) {
    options.sampler = settings.base.sampler;
    if (typeof settings.base.steps === "number") options.steps = settings.base.steps;
    if (settings.base.guidanceScale !== null) options.guidance = settings.base.guidanceScale;
    options.upsample = settings.upsample !== null;
  }
  return { kind: job.kind, caption: caption || `Job ${job.id}`, options };
}

function pngBlob(b64: unknown): Blob {
  if (typeof b64 !== "string") throw new Error("the server sent a job without its picture (ask for b64_json)");
  const text = atob(b64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return new Blob([bytes], { type: "image/png" });
}

const abortError = () => new DOMException("the run was cancelled", "AbortError");

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}

// One run shown at a time (others wait their turn: jobs found running after a reload): it shows
// its progress, can be cancelled, and ends in the gallery or in a message — cancelled, or the
// backend's error.
import type { Progress, ResultPicture, RunControl, RunNote } from "./backend.ts";
import type { Gallery } from "./gallery.ts";
import { describeFailure, isCancel, type MessageLine } from "./messages.ts";
import type { ProgressView } from "./progress-view.ts";

export interface RunRequest {
  /** Shown above the progress bar, e.g. "Generating 2 pictures". */
  title: string;
  /** Names the run in a failure, e.g. "Generating". */
  verb: string;
  /** What made its pictures (caption and options), kept with them in the gallery. */
  note: RunNote;
  /** The picture an edit started from (the before/after view). */
  before?: Blob;
  /** An upsampling stage follows the sampling (the progress bar leaves it room). */
  upsampling: boolean;
  start: (control: RunControl) => Promise<ResultPicture[]>;
}

export class Runs {
  private current: AbortController | null = null;
  private readonly waiting: RunRequest[] = [];

  constructor(
    private readonly progress: ProgressView,
    private readonly messages: MessageLine,
    private readonly gallery: Gallery,
    private readonly onBusy: (busy: boolean) => void,
    /** Called with each finished run's pictures (e.g. to keep them in this browser). */
    private readonly onDone: (pictures: ResultPicture[], note: RunNote) => void = () => {},
  ) {}

  get busy(): boolean {
    return this.current !== null;
  }

  /** Runs the request now, or after the one in progress. */
  async run(request: RunRequest): Promise<void> {
    if (this.current) {
      this.waiting.push(request);
      return;
    }
    const controller = new AbortController();
    this.current = controller;
    this.onBusy(true);
    this.messages.clear();
    this.progress.start(
      request.title,
      () => {
        this.progress.cancelling();
        controller.abort();
      },
      request.upsampling,
    );
    const started = performance.now();
    try {
      const onProgress = (progress: Progress) => {
        if (!controller.signal.aborted) this.progress.update(progress);
      };
      const pictures = await request.start({ signal: controller.signal, onProgress });
      if (pictures.length === 0) throw new Error("the backend returned no picture");
      this.gallery.add(pictures, request.note, request.before);
      this.onDone(pictures, request.note);
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      this.messages.info(
        `Done: ${pictures.length === 1 ? "1 picture" : `${pictures.length} pictures`} in ${seconds} s.`,
      );
    } catch (error) {
      if (isCancel(error) || controller.signal.aborted) this.messages.info("Cancelled.");
      else this.messages.error(describeFailure(request.verb, error));
    } finally {
      this.current = null;
      this.progress.finish();
      this.onBusy(false);
    }
    const next = this.waiting.shift();
    if (next) await this.run(next);
  }
}

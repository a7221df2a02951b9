// One run at a time: it shows its progress, can be cancelled, and ends in the gallery or in a
// message — cancelled, or the backend's error.
import type { Progress, RunControl } from "./backend.ts";
import type { Gallery } from "./gallery.ts";
import { describeFailure, isCancel, type MessageLine } from "./messages.ts";
import type { ProgressView } from "./progress-view.ts";

export interface RunRequest {
  /** Shown above the progress bar, e.g. "Generating 2 pictures". */
  title: string;
  /** Names the run in a failure, e.g. "Generating". */
  verb: string;
  /** The gallery caption of its pictures. */
  caption: string;
  start: (control: RunControl) => Promise<Blob[]>;
}

export class Runs {
  private current: AbortController | null = null;

  constructor(
    private readonly progress: ProgressView,
    private readonly messages: MessageLine,
    private readonly gallery: Gallery,
    private readonly onBusy: (busy: boolean) => void,
  ) {}

  get busy(): boolean {
    return this.current !== null;
  }

  async run(request: RunRequest): Promise<void> {
    if (this.current) return;
    const controller = new AbortController();
    this.current = controller;
    this.onBusy(true);
    this.messages.clear();
    this.progress.start(request.title, () => {
      this.progress.cancelling();
      controller.abort();
    });
    const started = performance.now();
    try {
      const onProgress = (progress: Progress) => {
        if (!controller.signal.aborted) this.progress.update(progress);
      };
      const images = await request.start({ signal: controller.signal, onProgress });
      if (images.length === 0) throw new Error("the backend returned no picture");
      this.gallery.add(images, request.caption);
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      this.messages.info(`Done: ${images.length === 1 ? "1 picture" : `${images.length} pictures`} in ${seconds} s.`);
    } catch (error) {
      if (isCancel(error) || controller.signal.aborted) this.messages.info("Cancelled.");
      else this.messages.error(describeFailure(request.verb, error));
    } finally {
      this.current = null;
      this.progress.finish();
      this.onBusy(false);
    }
  }
}

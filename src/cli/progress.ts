// Progress on stderr for the sampling commands. On a terminal: one bar per stage, redrawn in place,
// with steps/s and the time left. Elsewhere (a pipe, a log file): no bar, one summary line per stage.

import type { ProgressEvent } from "../pipelines/types.ts";

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

const BAR_WIDTH = 24;
const REDRAW_MS = 100;

/** A progress bar for `total` steps of one stage. */
export class ProgressBar {
  private readonly tty: boolean;
  private started = performance.now();
  private lastDraw = 0;
  private done = 0;
  /** Steps done before this process started (a resumed run): not counted in the rate. */
  private offset = 0;
  private detail = "";

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly stream: ProgressStream = process.stderr,
  ) {
    this.tty = stream.isTTY === true;
  }

  /** Restarts the clock (call when the first step begins). */
  start(): void {
    this.started = performance.now();
    this.draw(true);
  }

  /** Starts counting from `done` steps already behind (a resumed run). */
  resume(done: number): void {
    this.offset = done;
    this.done = done;
    this.start();
  }

  /** `detail` (e.g. the loss) is shown after the rate. */
  update(done: number, detail = ""): void {
    this.done = done;
    this.detail = detail;
    if (done >= this.total) this.finish();
    else this.draw(false);
  }

  /** Ends the bar where it stands (a run stopped early); a no-op after it reached its total. */
  end(): void {
    if (this.done < this.total) this.finish();
  }

  private finish(): void {
    const seconds = this.elapsed();
    const steps = this.done - this.offset;
    if (this.tty) this.stream.write(`\r\x1b[K`);
    const detail = this.detail ? `, ${this.detail}` : "";
    this.stream.write(
      `${this.label}: ${steps} steps in ${formatSeconds(seconds)} (${rate(steps, seconds)} steps/s${detail})\n`,
    );
    this.done = this.total;
  }

  private draw(force: boolean): void {
    if (!this.tty) return;
    const now = performance.now();
    if (!force && now - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = now;
    const seconds = this.elapsed();
    const filled = Math.round((BAR_WIDTH * this.done) / this.total);
    const bar = "█".repeat(filled) + "░".repeat(BAR_WIDTH - filled);
    const steps = this.done - this.offset;
    const eta = steps > 0 ? formatClock((seconds / steps) * (this.total - this.done)) : "?";
    const speed = steps > 0 ? `${rate(steps, seconds)} steps/s` : "… steps/s";
    const detail = this.detail ? `  ${this.detail}` : "";
    this.stream.write(`\r\x1b[K${this.label} ${bar} ${this.done}/${this.total}  ${speed}  ETA ${eta}${detail}`);
  }

  private elapsed(): number {
    return (performance.now() - this.started) / 1000;
  }
}

/** A pipeline progress handler that shows a bar per stage (none at all when `quiet`). */
export function stageProgress(stream: ProgressStream = process.stderr, quiet = false): (event: ProgressEvent) => void {
  let bar: ProgressBar | null = null;
  return (event) => {
    if (quiet) return;
    const label = event.stage === "base" ? "sampling" : "upsampling";
    if (event.kind === "setup") {
      if (stream.isTTY) stream.write(`\r\x1b[K${label}: preparing the model…`);
      return;
    }
    if (event.step === 0) {
      bar = new ProgressBar(label, event.total, stream);
      bar.start();
    } else {
      bar?.update(event.step);
    }
  };
}

/** 2.1 s, 45 s, 3 min 20 s. */
export function formatSeconds(seconds: number): string {
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds - 60 * minutes)} s`;
}

/** m:ss or h:mm:ss. */
export function formatClock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

function rate(steps: number, seconds: number): string {
  const r = steps / Math.max(seconds, 1e-9);
  return r >= 10 ? r.toFixed(0) : r.toFixed(2);
}

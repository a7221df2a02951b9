// One progress display for every long loop (sampling, training, corpus rendering, downloads). On a
// terminal: a bar redrawn in place with the rate, the time left and a detail (a loss, a failure
// count). Elsewhere (a pipe, a log file): a line every `logEveryMs` if asked, and a summary at the end.

/** Where the bar goes: process.stderr, or anything with write() (tests collect the text). */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface ProgressBarOptions {
  stream?: ProgressStream;
  /** What is counted: "steps" (default), "items"… */
  unit?: string;
  /** Writes an amount (e.g. bytes as "1.54 GB") instead of "N unit"; rates become "amount/s". */
  format?: (amount: number) => string;
  /** Off a terminal, also print a line this often (default: only the final summary). */
  logEveryMs?: number;
}

const BAR_WIDTH = 24;
const REDRAW_MS = 100;

export class ProgressBar {
  private readonly stream: ProgressStream;
  private readonly unit: string;
  private readonly format: ((amount: number) => string) | undefined;
  private readonly logEveryMs: number | undefined;
  private started = performance.now();
  private lastDraw = 0;
  private done = 0;
  /** Counted before this process started (a resumed run): not part of the rate. */
  private offset = 0;
  private detail = "";
  private finished = false;

  /** `total` is undefined when unknown (e.g. a download without a length): no bar, no time left. */
  constructor(
    private readonly label: string,
    private readonly total: number | undefined,
    options: ProgressBarOptions = {},
  ) {
    this.stream = options.stream ?? process.stderr;
    this.unit = options.unit ?? "steps";
    this.format = options.format;
    this.logEveryMs = options.logEveryMs;
  }

  /** Restarts the clock (call when the first step begins). */
  start(): void {
    this.started = performance.now();
    this.draw(true);
  }

  /** Starts counting from `done` already behind (a resumed run). */
  resume(done: number): void {
    this.offset = done;
    this.done = done;
    this.start();
  }

  /** `detail` (e.g. the loss) is shown after the rate. */
  update(done: number, detail = ""): void {
    this.done = done;
    this.detail = detail;
    if (this.total !== undefined && done >= this.total) this.end();
    else this.draw(false);
  }

  /** A line of its own (the bar is redrawn below it at the next update). */
  note(message: string): void {
    this.stream.write(this.stream.isTTY ? `\r\x1b[K${message}\n` : `${message}\n`);
  }

  /** Removes the bar without a summary (the caller reports why it stopped); nothing is printed after. */
  cancel(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.stream.isTTY) this.stream.write("\r\x1b[K");
  }

  /** Prints the summary where the count stands (also for a run stopped early); once. */
  end(): void {
    if (this.finished) return;
    this.finished = true;
    const seconds = this.elapsed();
    const counted = this.done - this.offset;
    if (this.stream.isTTY) this.stream.write("\r\x1b[K");
    const detail = this.detail ? `, ${this.detail}` : "";
    const total = this.total;
    const of = total !== undefined && this.done < total ? ` of ${this.format ? this.format(total) : total}` : "";
    this.stream.write(
      `${this.label}: ${this.amount(counted)}${of} in ${formatSeconds(seconds)} (${this.rate(counted, seconds)}${detail})\n`,
    );
  }

  private draw(force: boolean): void {
    const now = performance.now();
    const interval = this.stream.isTTY ? REDRAW_MS : this.logEveryMs;
    if (interval === undefined || (!force && now - this.lastDraw < interval)) return;
    this.lastDraw = now;
    const seconds = this.elapsed();
    const counted = this.done - this.offset;
    const speed = this.rate(counted, seconds);
    const detail = this.detail ? `  ${this.detail}` : "";
    const total = this.total;
    if (total === undefined) {
      this.write(`${this.label}  ${this.amount(this.done)}  ${speed}${detail}`);
      return;
    }
    const eta = counted > 0 ? formatClock((seconds / counted) * (total - this.done)) : "--:--";
    const count = this.format ? `${this.format(this.done)} / ${this.format(total)}` : `${this.done}/${total}`;
    if (this.stream.isTTY) {
      const filled = Math.min(BAR_WIDTH, Math.round((BAR_WIDTH * this.done) / Math.max(total, 1)));
      const bar = "█".repeat(filled) + "░".repeat(BAR_WIDTH - filled);
      this.write(`${this.label} ${bar} ${count}  ${speed}  ETA ${eta}${detail}`);
    } else {
      const percent = `${((100 * this.done) / Math.max(total, 1)).toFixed(1)}%`;
      this.write(`${this.label} ${count} (${percent})  ${speed}  ETA ${eta}${detail}`);
    }
  }

  /** A progress line: redrawn in place on a terminal, one line of its own elsewhere. */
  private write(line: string): void {
    this.stream.write(this.stream.isTTY ? `\r\x1b[K${line}` : `${line}\n`);
  }

  private amount(n: number): string {
    return this.format ? this.format(n) : `${n} ${this.unit}`;
  }

  private rate(counted: number, seconds: number): string {
    if (counted <= 0) return this.format ? "… /s" : `… ${this.unit}/s`;
    const perSecond = counted / Math.max(seconds, 1e-9);
    return this.format ? `${this.format(Math.round(perSecond))}/s` : `${formatRate(perSecond)} ${this.unit}/s`;
  }

  private elapsed(): number {
    return (performance.now() - this.started) / 1000;
  }
}

/** 2.1 s, 45 s, 3 min 20 s. */
export function formatSeconds(seconds: number): string {
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds - 60 * minutes)} s`;
}

/** m:ss or h:mm:ss; "--:--" when unknown. */
export function formatClock(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--:--";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

function formatRate(r: number): string {
  return r >= 10 ? r.toFixed(0) : r.toFixed(2);
}

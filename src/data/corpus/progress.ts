// A progress line on stderr: rewritten in place on a terminal, a line every few seconds otherwise.

/** Where messages go: process.stderr, or anything with write() (tests collect the text). */
export interface TextSink {
  write(text: string): unknown;
  isTTY?: boolean;
}

export class Progress {
  private readonly start = performance.now();
  private lastPrint = 0;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly stream: TextSink = process.stderr,
  ) {}

  update(done: number, note = ""): void {
    const now = performance.now();
    const interval = this.stream.isTTY ? 250 : 10_000;
    if (done < this.total && now - this.lastPrint < interval) return;
    this.lastPrint = now;
    const seconds = (now - this.start) / 1000;
    const rate = done / Math.max(seconds, 1e-9);
    const eta = rate > 0 ? (this.total - done) / rate : Number.NaN;
    const percent = this.total > 0 ? ((100 * done) / this.total).toFixed(1) : "100.0";
    const line =
      `${this.label} ${done}/${this.total} (${percent}%) ${rate.toFixed(0)}/s` +
      `${done < this.total ? ` ETA ${formatDuration(eta)}` : ` in ${formatDuration(seconds)}`}${note ? `, ${note}` : ""}`;
    if (this.stream.isTTY) this.stream.write(`\r\x1b[K${line}${done >= this.total ? "\n" : ""}`);
    else this.stream.write(`${line}\n`);
  }
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

// The run in progress: what it is, one progress bar over both stages (sampling, then upsampling:
// it never goes back), the step and the time left, a preview of each picture being made, and a
// cancel button. While upsampling, the preview shows the sampled picture, with the upsampler's
// prediction coming over it as its steps go, rather than the noise its first steps predict.
import type { Progress } from "./backend.ts";
import { el } from "./dom.ts";

/** The part of the bar the first stage fills when an upsampling stage follows. */
const SAMPLING_SHARE = 0.7;

/** One picture's preview: the sampled picture, and the upsampler's over it. */
class PreviewSlot {
  readonly element: HTMLElement;
  private readonly sampled = el("img", { class: "preview", alt: "" });
  private readonly upsampled = el("img", { class: "preview preview-upsampled", alt: "" });
  private readonly urls: { sampled: string | null; upsampled: string | null } = { sampled: null, upsampled: null };

  constructor(index: number) {
    this.element = el("div", { class: "preview-slot" }, this.sampled, this.upsampled);
    this.element.setAttribute("role", "img");
    this.element.setAttribute("aria-label", `preview of picture ${index + 1}`);
    this.upsampled.hidden = true;
  }

  show(blob: Blob, upsampling: boolean, fraction: number): void {
    const layer = upsampling ? "upsampled" : "sampled";
    const image = upsampling ? this.upsampled : this.sampled;
    const old = this.urls[layer];
    if (old) URL.revokeObjectURL(old);
    this.urls[layer] = URL.createObjectURL(blob);
    image.src = this.urls[layer];
    image.hidden = false;
    // The upsampler's early predictions are mostly noise: they fade in over the sampled picture.
    if (upsampling) this.upsampled.style.opacity = String(Math.min(1, 0.15 + fraction));
  }

  release(): void {
    for (const url of Object.values(this.urls)) if (url) URL.revokeObjectURL(url);
  }
}

export class ProgressView {
  readonly element: HTMLElement;
  private readonly title = el("p", { class: "progress-title" });
  private readonly bar = el("progress", { class: "progress-bar", max: 1, "aria-label": "progress" });
  private readonly detail = el("p", { class: "progress-detail" });
  private readonly previews = el("div", { class: "preview-frame" });
  private readonly cancelButton = el("button", { type: "button", class: "secondary" }, "Cancel");
  private slots: PreviewSlot[] = [];
  private onCancel: (() => void) | null = null;
  private upsamplingExpected = false;
  /** The furthest the bar went in this run (it does not go back). */
  private reached = 0;
  private stepping = false;
  /** What the detail line says, and since when (a wait longer than a moment shows its seconds). */
  private said = { text: "", since: 0 };
  private ticker: ReturnType<typeof setInterval> | null = null;

  constructor() {
    this.element = el(
      "section",
      { class: "card progress", "aria-label": "run in progress", hidden: true },
      el("div", { class: "progress-text" }, this.title, this.bar, this.detail, this.cancelButton),
      this.previews,
    );
    this.cancelButton.addEventListener("click", () => this.onCancel?.());
  }

  /**
   * Shows a run that has not reported yet (the bar is indeterminate until the first step);
   * `upsampling`: an upsampling stage is expected after sampling (it gets the end of the bar).
   */
  start(title: string, onCancel: () => void, upsampling = false): void {
    this.onCancel = onCancel;
    this.upsamplingExpected = upsampling;
    this.reached = 0;
    this.stepping = false;
    this.title.textContent = title;
    this.bar.max = 1;
    this.bar.removeAttribute("value");
    this.say("Waiting for the model…");
    this.ticker ??= setInterval(() => this.showWaited(), 1000);
    this.clearPreviews();
    this.cancelButton.disabled = false;
    this.element.hidden = false;
    // On a phone the progress is below the controls: brought into view.
    this.element.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }

  update(progress: Progress): void {
    const upsampling = progress.stage === "upsampling";
    if (progress.total > 0) {
      this.stepping = true;
      const stageFraction = Math.min(progress.step, progress.total) / progress.total;
      this.setBar(this.overall(upsampling, stageFraction));
      const what = progress.stage ? capitalize(progress.stage) : "Sampling";
      const left =
        progress.etaSeconds !== undefined && progress.step < progress.total
          ? ` · about ${formatSeconds(progress.etaSeconds)} left`
          : "";
      // Step 0 is before the first evaluation, which takes longest (a browser compiles the model then).
      this.say(
        progress.step === 0
          ? `${what}: starting (the first step takes longest)`
          : `${what}: step ${progress.step} of ${progress.total}${left}`,
      );
      const pictures = progress.previews ?? (progress.preview ? [progress.preview] : []);
      this.showPreviews(pictures, upsampling, stageFraction);
    } else if (progress.stage) {
      this.say(capitalize(progress.stage));
      // Before the steps (loading, a queue): the bar shows how far that is, when it is known.
      if (!this.stepping) {
        if (progress.fraction === undefined) this.bar.removeAttribute("value");
        else this.bar.value = progress.fraction;
      }
    }
  }

  cancelling(): void {
    this.cancelButton.disabled = true;
    this.say("Cancelling…");
  }

  finish(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
    this.element.hidden = true;
    this.onCancel = null;
    this.clearPreviews();
  }

  private say(text: string): void {
    if (text !== this.said.text) this.said = { text, since: performance.now() };
    this.detail.textContent = text;
  }

  /** A line unchanged for a few seconds says how long it has been so, so a long wait does not look frozen. */
  private showWaited(): void {
    const seconds = Math.floor((performance.now() - this.said.since) / 1000);
    if (seconds >= 3) this.detail.textContent = `${this.said.text} · ${seconds} s`;
  }

  /** Where the run stands over both stages, 0 to 1. */
  private overall(upsampling: boolean, stageFraction: number): number {
    if (upsampling) return SAMPLING_SHARE + (1 - SAMPLING_SHARE) * stageFraction;
    return (this.upsamplingExpected ? SAMPLING_SHARE : 1) * stageFraction;
  }

  private setBar(fraction: number): void {
    this.reached = Math.max(this.reached, fraction);
    this.bar.value = this.reached;
    this.bar.setAttribute("aria-valuetext", `${Math.round(this.reached * 100)}%`);
  }

  private showPreviews(pictures: readonly Blob[], upsampling: boolean, fraction: number): void {
    while (this.slots.length < pictures.length) {
      const slot = new PreviewSlot(this.slots.length);
      this.slots.push(slot);
      this.previews.append(slot.element);
    }
    this.previews.dataset.count = String(this.slots.length);
    for (const [i, picture] of pictures.entries()) this.slots[i]!.show(picture, upsampling, fraction);
  }

  private clearPreviews(): void {
    for (const slot of this.slots) slot.release();
    this.slots = [];
    this.previews.replaceChildren();
    delete this.previews.dataset.count;
  }
}

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

function formatSeconds(seconds: number): string {
  if (seconds < 1) return "a second";
  if (seconds < 90) return `${Math.round(seconds)} s`;
  return `${Math.round(seconds / 60)} min`;
}

// The run in progress: what it is, a progress bar with the step and the time left, the backend's
// latest preview of the picture, and a cancel button.
import type { Progress } from "./backend.ts";
import { el } from "./dom.ts";

export class ProgressView {
  readonly element: HTMLElement;
  private readonly title = el("p", { class: "progress-title" });
  private readonly bar = el("progress", { class: "progress-bar", max: 1, "aria-label": "progress" });
  private readonly detail = el("p", { class: "progress-detail" });
  private readonly preview = el("img", { class: "preview", alt: "preview of the picture being made", hidden: true });
  private readonly cancelButton = el("button", { type: "button", class: "secondary" }, "Cancel");
  private previewUrl: string | null = null;
  private onCancel: (() => void) | null = null;

  constructor() {
    this.element = el(
      "section",
      { class: "card progress", "aria-label": "run in progress", hidden: true },
      el("div", { class: "progress-text" }, this.title, this.bar, this.detail, this.cancelButton),
      el("div", { class: "preview-frame" }, this.preview),
    );
    this.cancelButton.addEventListener("click", () => this.onCancel?.());
  }

  /** Shows a run that has not reported yet (the bar is indeterminate until the first step). */
  start(title: string, onCancel: () => void): void {
    this.onCancel = onCancel;
    this.title.textContent = title;
    this.bar.removeAttribute("value");
    this.detail.textContent = "Waiting for the model…";
    this.setPreview(null);
    this.cancelButton.disabled = false;
    this.element.hidden = false;
    // On a phone the progress is below the controls: brought into view.
    this.element.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }

  update(progress: Progress): void {
    if (progress.total > 0) {
      this.bar.max = progress.total;
      this.bar.value = Math.min(progress.step, progress.total);
      const what = progress.stage ? capitalize(progress.stage) : "Sampling";
      const left =
        progress.etaSeconds !== undefined && progress.step < progress.total
          ? ` · about ${formatSeconds(progress.etaSeconds)} left`
          : "";
      this.detail.textContent = `${what}: step ${progress.step} of ${progress.total}${left}`;
    } else if (progress.stage) {
      this.detail.textContent = capitalize(progress.stage);
      if (progress.fraction === undefined) this.bar.removeAttribute("value");
      else {
        this.bar.max = 1;
        this.bar.value = progress.fraction;
      }
    }
    if (progress.preview) this.setPreview(progress.preview);
  }

  cancelling(): void {
    this.cancelButton.disabled = true;
    this.detail.textContent = "Cancelling…";
  }

  finish(): void {
    this.element.hidden = true;
    this.onCancel = null;
    this.setPreview(null);
  }

  private setPreview(blob: Blob | null): void {
    if (this.previewUrl) URL.revokeObjectURL(this.previewUrl);
    this.previewUrl = blob ? URL.createObjectURL(blob) : null;
    if (this.previewUrl) this.preview.src = this.previewUrl;
    else this.preview.removeAttribute("src");
    this.preview.hidden = this.previewUrl === null;
  }
}

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

function formatSeconds(seconds: number): string {
  if (seconds < 1) return "a second";
  if (seconds < 90) return `${Math.round(seconds)} s`;
  return `${Math.round(seconds / 60)} min`;
}

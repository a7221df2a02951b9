// A picture shown large in a modal dialog (Escape or the Close button closes it); for an edit, the
// picture before it and after it, one over the other, with a slider that moves the line between them.
import { el } from "./dom.ts";

export class ZoomView {
  readonly element: HTMLDialogElement;
  private readonly stage = el("div", { class: "zoom-stage" });
  private readonly caption = el("p", { class: "zoom-caption" });
  private readonly urls: string[] = [];

  constructor() {
    const close = el("button", { type: "button", class: "secondary", autofocus: true }, "Close");
    close.addEventListener("click", () => this.element.close());
    this.element = el(
      "dialog",
      { class: "zoom", "aria-label": "picture, enlarged" },
      this.stage,
      el("div", { class: "zoom-bar" }, this.caption, close),
    );
    this.element.addEventListener("close", () => this.release());
    // A click on the backdrop (outside the dialog's box) closes it too.
    this.element.addEventListener("click", (event) => {
      if (event.target === this.element) this.element.close();
    });
  }

  /** The picture alone, large. */
  show(picture: Blob, caption: string): void {
    this.release();
    const image = el("img", { src: this.url(picture), alt: caption, class: "zoomed" });
    this.open([image], caption);
  }

  /** Before and after an edit: the after picture over the before one, cut where the slider is. */
  compare(before: Blob, after: Blob, caption: string): void {
    this.release();
    const beforeImage = el("img", { src: this.url(before), alt: `before: ${caption}`, class: "zoomed" });
    const afterImage = el("img", { src: this.url(after), alt: `after: ${caption}`, class: "zoomed compare-after" });
    const slider = el("input", {
      type: "range",
      min: 0,
      max: 100,
      value: 50,
      class: "compare-slider",
      "aria-label": "before ← → after",
    });
    const line = el("div", { class: "compare-line", "aria-hidden": "true" });
    const place = () => {
      afterImage.style.clipPath = `inset(0 0 0 ${slider.value}%)`;
      line.style.left = `${slider.value}%`;
    };
    slider.addEventListener("input", place);
    place();
    const labels = el("div", { class: "compare-labels" }, el("span", {}, "Before"), el("span", {}, "After"));
    this.open([el("div", { class: "compare" }, beforeImage, afterImage, line), slider, labels], caption);
    slider.focus();
  }

  private open(content: HTMLElement[], caption: string): void {
    this.stage.replaceChildren(...content);
    this.caption.textContent = caption;
    if (!this.element.open) this.element.showModal();
  }

  private url(blob: Blob): string {
    const url = URL.createObjectURL(blob);
    this.urls.push(url);
    return url;
  }

  /** Frees the shown pictures' URLs (the old ones when another is shown, all when closed). */
  private release(): void {
    for (const url of this.urls.splice(0)) URL.revokeObjectURL(url);
  }
}

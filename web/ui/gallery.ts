// The results, newest first: each picture with what made it, a download link and an Edit button
// that takes it into the edit mode.
import { el } from "./dom.ts";

export interface GalleryItem {
  blob: Blob;
  /** What made it, e.g. the prompt. */
  caption: string;
}

export class Gallery {
  readonly element: HTMLElement;
  private readonly grid = el("ol", { class: "gallery-grid" });
  private readonly empty = el("p", { class: "gallery-empty" }, "Your pictures will appear here.");
  private count = 0;

  constructor(private readonly onEdit: ((item: GalleryItem) => void) | null) {
    this.element = el(
      "section",
      { class: "gallery", "aria-label": "results" },
      el("h2", {}, "Results"),
      this.empty,
      this.grid,
    );
  }

  add(blobs: readonly Blob[], caption: string): void {
    this.empty.hidden = true;
    // The batch keeps its order, ahead of the older results.
    const cards = blobs.map((blob) => this.card({ blob, caption }));
    this.grid.prepend(...cards);
  }

  private card(item: GalleryItem): HTMLLIElement {
    this.count++;
    const url = URL.createObjectURL(item.blob);
    const image = el("img", { src: url, alt: item.caption, class: "result", loading: "lazy" });
    image.addEventListener("load", () => image.classList.toggle("pixelated", image.naturalWidth < 128), { once: true });
    const download = el(
      "a",
      { href: url, download: `${fileStem(item.caption)}-${this.count}.png`, class: "button secondary" },
      "Download",
    );
    const actions = el("div", { class: "result-actions" }, download);
    if (this.onEdit) {
      const edit = el("button", { type: "button", class: "secondary" }, "Edit");
      edit.addEventListener("click", () => this.onEdit?.(item));
      actions.append(edit);
    }
    return el(
      "li",
      { class: "result-card" },
      el("figure", {}, image, el("figcaption", { title: item.caption }, item.caption)),
      actions,
    );
  }
}

/** A file name from a caption: lower-case words joined by dashes. */
function fileStem(caption: string): string {
  const words = caption.toLowerCase().match(/[a-z0-9]+/g) ?? [];
  return ["glide", ...words].join("-").slice(0, 60).replace(/-+$/, "");
}

// The results, newest first: each picture with what made it and its seed, a download link (the seed
// in the file name), and what to do next: edit it, make variations of it, reuse its settings, see it
// large (and an edit before/after). Where the results are kept between visits is said under it.
import type { ResultPicture, RunNote } from "./backend.ts";
import { el } from "./dom.ts";
import { ZoomView } from "./zoom-view.ts";

export interface GalleryItem {
  picture: ResultPicture;
  note: RunNote;
  /** The picture an edit started from, for the before/after view (this page's edits only). */
  before?: Blob;
}

export interface GalleryActions {
  edit?: (item: GalleryItem) => void;
  vary?: (item: GalleryItem) => void;
  reuse: (item: GalleryItem) => void;
  /** Turns a picture into the file that is downloaded (e.g. with its parameters written in). */
  downloadable?: (item: GalleryItem) => Promise<Blob>;
}

export class Gallery {
  readonly element: HTMLElement;
  private readonly grid = el("ol", { class: "gallery-grid" });
  private readonly empty = el("p", { class: "gallery-empty" }, "Your pictures will appear here.");
  private readonly keptNote = el("p", { class: "field-hint gallery-kept", hidden: true });
  private readonly zoom = new ZoomView();
  private count = 0;

  constructor(private readonly actions: GalleryActions) {
    this.element = el(
      "section",
      { class: "gallery", "aria-label": "results" },
      el("h2", {}, "Results"),
      this.keptNote,
      this.empty,
      this.grid,
      this.zoom.element,
    );
  }

  /** Says where the results are kept and for how long. */
  setKept(text: string): void {
    this.keptNote.textContent = text;
    this.keptNote.hidden = text === "";
  }

  /** A batch, ahead of the older results (its pictures in their order). */
  add(pictures: readonly ResultPicture[], note: RunNote, before?: Blob): void {
    this.empty.hidden = true;
    const cards = pictures.map((picture) => this.card({ picture, note, ...(before ? { before } : {}) }));
    this.grid.prepend(...cards);
  }

  /** Batches listed newest first, added after what is shown. */
  append(batches: readonly { pictures: ResultPicture[]; note: RunNote }[]): void {
    for (const batch of batches) {
      if (batch.pictures.length === 0) continue;
      this.empty.hidden = true;
      this.grid.append(...batch.pictures.map((picture) => this.card({ picture, note: batch.note })));
    }
  }

  private card(item: GalleryItem): HTMLLIElement {
    this.count++;
    const { picture, note } = item;
    const url = URL.createObjectURL(picture.blob);
    const image = el("img", { src: url, alt: note.caption, class: "result", loading: "lazy" });
    image.addEventListener("load", () => image.classList.toggle("pixelated", image.naturalWidth < 128), { once: true });
    const zoomButton = el("button", { type: "button", class: "zoom-button", title: "See it large" }, image);
    zoomButton.setAttribute("aria-label", `Enlarge: ${note.caption}`);
    zoomButton.addEventListener("click", () => this.zoom.show(picture.blob, captionWithSeed(item)));

    const fileName = `${fileStem(note.caption)}-${picture.seed ?? this.count}.png`;
    const download = el("a", { href: url, download: fileName, class: "button secondary" }, "Download");
    if (this.actions.downloadable) this.writeParametersOnDownload(download, item);
    const actions = el("div", { class: "result-actions" }, download);
    const button = (label: string, run: () => void, title?: string) => {
      const b = el("button", { type: "button", class: "secondary", ...(title ? { title } : {}) }, label);
      b.addEventListener("click", run);
      actions.append(b);
    };
    if (this.actions.edit) button("Edit", () => this.actions.edit?.(item));
    if (this.actions.vary) button("Variations", () => this.actions.vary?.(item), "Make pictures like this one");
    if (item.before) {
      const before = item.before;
      button("Before/after", () => this.zoom.compare(before, picture.blob, note.caption));
    }
    const reuseHint = "Put this picture's prompt, options and seed in the form";
    button("Use these settings", () => this.actions.reuse(item), reuseHint);
    actions.lastElementChild?.classList.add("whole-row");
    const seed = el(
      "span",
      { class: "result-seed", title: "the seed that makes this picture again" },
      picture.seed === undefined ? "seed: random" : `seed ${picture.seed}`,
    );
    return el(
      "li",
      { class: "result-card" },
      el("figure", {}, zoomButton, el("figcaption", { title: note.caption }, note.caption, seed)),
      actions,
    );
  }

  /** The link downloads the picture with its parameters chunk, made when it is first clicked. */
  private writeParametersOnDownload(link: HTMLAnchorElement, item: GalleryItem): void {
    let ready = false;
    link.addEventListener("click", (event) => {
      if (ready || !this.actions.downloadable) return;
      event.preventDefault();
      void this.actions.downloadable(item).then((blob) => {
        link.href = URL.createObjectURL(blob);
        ready = true;
        link.click();
      });
    });
  }
}

function captionWithSeed(item: GalleryItem): string {
  return item.picture.seed === undefined ? item.note.caption : `${item.note.caption} · seed ${item.picture.seed}`;
}

/** A file name from a caption: lower-case words joined by dashes. */
function fileStem(caption: string): string {
  const words = caption.toLowerCase().match(/[a-z0-9]+/g) ?? [];
  return ["glide", ...words].join("-").slice(0, 60).replace(/-+$/, "");
}

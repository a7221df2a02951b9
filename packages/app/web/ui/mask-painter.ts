// The picture to edit with a paintable overlay: a brush marks the pixels to redraw, an eraser
// unmarks them. The mark is kept per pixel of the picture, so what the overlay shows is exactly the
// mask that is sent: a PNG the picture's size, fully transparent where marked and opaque white
// elsewhere. By the one mask rule (glide-ts's MASK_RULE, the same for the CLI, the API and the
// page) its fully transparent pixels are redrawn and the rest kept.
import { el } from "./dom.ts";

export type BrushMode = "paint" | "erase";

/** Overlay colour of a marked pixel (RGBA). */
const MARK = [236, 72, 153, 190] as const;

export class MaskPainter {
  readonly element: HTMLDivElement;
  mode: BrushMode = "paint";
  /** Brush diameter as a fraction of the picture's width. */
  brushSize = 0.12;
  /** How far the edge of the redrawn part is softened (see softMask), as a fraction of the picture's width. */
  feather = 0;
  /** Called after every stroke (and clear), e.g. to show how much is marked. */
  onChange: (() => void) | null = null;

  private readonly picture = el("canvas", { class: "mask-picture", "aria-hidden": "true" });
  private readonly overlay = el("canvas", {
    class: "mask-overlay",
    role: "img",
    "aria-label": "the picture: paint over the part to redraw",
  });
  /** A ring the brush's size under the pointer. */
  private readonly cursor = el("div", { class: "brush-cursor", hidden: true });
  private readonly context: CanvasRenderingContext2D;
  private width = 0;
  private height = 0;
  private marks = new Uint8Array(0);
  private marked = 0;
  private last: { x: number; y: number } | null = null;
  private pointer: number | null = null;

  constructor() {
    this.element = el("div", { class: "mask-stage", hidden: true }, this.picture, this.overlay, this.cursor);
    this.context = this.overlay.getContext("2d")!;
    this.overlay.addEventListener("pointerdown", (event) => this.down(event));
    this.overlay.addEventListener("pointermove", (event) => this.move(event));
    for (const type of ["pointerup", "pointercancel", "lostpointercapture"] as const) {
      this.overlay.addEventListener(type, (event) => this.up(event));
    }
    this.overlay.addEventListener("pointerleave", () => {
      this.cursor.hidden = true;
    });
  }

  get hasPicture(): boolean {
    return this.width > 0;
  }

  /** Pixels marked for redrawing. */
  get markedPixels(): number {
    return this.marked;
  }

  get markedFraction(): number {
    return this.width === 0 ? 0 : this.marked / (this.width * this.height);
  }

  setPicture(picture: ImageBitmap): void {
    this.width = picture.width;
    this.height = picture.height;
    for (const canvas of [this.picture, this.overlay]) {
      canvas.width = this.width;
      canvas.height = this.height;
    }
    this.picture.getContext("2d")!.drawImage(picture, 0, 0);
    // Small pictures are shown as their pixels, which is also how the mask is kept.
    this.element.classList.toggle("pixelated", this.width < 256);
    this.element.hidden = false;
    this.marks = new Uint8Array(this.width * this.height);
    this.clear();
  }

  clear(): void {
    this.marks.fill(0);
    this.marked = 0;
    this.context.clearRect(0, 0, this.width, this.height);
    this.onChange?.();
  }

  /** Marks what was not marked and unmarks what was (redraw all but the painted part). */
  invert(): void {
    for (let p = 0; p < this.marks.length; p++) this.marks[p] = this.marks[p] === 0 ? 1 : 0;
    this.marked = this.marks.length - this.marked;
    this.redraw(0, 0, this.width, this.height);
    this.onChange?.();
  }

  /** The mask PNG for Backend.edit (the picture's size): marked pixels transparent, the rest opaque white. */
  async maskPng(): Promise<Blob> {
    const canvas = this.sharpMask();
    return new Promise((resolve, reject) =>
      canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("the mask could not be encoded"))), "image/png"),
    );
  }

  /**
   * The mask with its edge blurred by `feather` (null when 0): where the result is blended with the
   * picture it started from, so the redrawn part fades into the kept one (the model itself redraws
   * the marked pixels outright). Opaque = the original picture, transparent = the result.
   */
  softMask(): HTMLCanvasElement | null {
    const blur = (this.feather * this.width) / 2;
    if (blur <= 0) return null;
    // Blurred with a kept (opaque) border around it, so the picture's edges stay kept.
    const pad = Math.ceil(blur * 3);
    const padded = el("canvas", { width: this.width + 2 * pad, height: this.height + 2 * pad });
    const paddedContext = padded.getContext("2d")!;
    paddedContext.fillStyle = "white";
    paddedContext.fillRect(0, 0, padded.width, padded.height);
    paddedContext.clearRect(pad, pad, this.width, this.height);
    paddedContext.drawImage(this.sharpMask(), pad, pad);
    const canvas = el("canvas", { width: this.width, height: this.height });
    const context = canvas.getContext("2d")!;
    context.filter = `blur(${blur}px)`;
    context.drawImage(padded, -pad, -pad);
    return canvas;
  }

  private sharpMask(): HTMLCanvasElement {
    const canvas = el("canvas", { width: this.width, height: this.height });
    const pixels = canvas.getContext("2d")!.createImageData(this.width, this.height);
    for (let p = 0; p < this.marks.length; p++) {
      const keep = this.marks[p] === 0 ? 255 : 0;
      pixels.data.set([keep, keep, keep, keep], p * 4);
    }
    canvas.getContext("2d")!.putImageData(pixels, 0, 0);
    return canvas;
  }

  private down(event: PointerEvent): void {
    if (!this.hasPicture || this.pointer !== null || (event.pointerType === "mouse" && event.button !== 0)) return;
    event.preventDefault();
    this.pointer = event.pointerId;
    this.overlay.setPointerCapture(event.pointerId);
    const point = this.toPicture(event);
    this.stamp(point.x, point.y);
    this.last = point;
  }

  private move(event: PointerEvent): void {
    this.showCursor(event);
    if (event.pointerId !== this.pointer || !this.last) return;
    event.preventDefault();
    // Coalesced events keep a fast stroke continuous where the browser merges moves.
    const events = event.getCoalescedEvents?.() ?? [];
    for (const each of events.length > 0 ? events : [event]) {
      const point = this.toPicture(each);
      this.line(this.last, point);
      this.last = point;
    }
  }

  private up(event: PointerEvent): void {
    if (event.pointerId !== this.pointer) return;
    this.pointer = null;
    this.last = null;
    if (event.pointerType !== "mouse") this.cursor.hidden = true;
    this.onChange?.();
  }

  private showCursor(event: PointerEvent): void {
    const box = this.overlay.getBoundingClientRect();
    const diameter = Math.max(4, this.brushSize * box.width);
    Object.assign(this.cursor.style, {
      width: `${diameter}px`,
      height: `${diameter}px`,
      left: `${event.clientX - box.left}px`,
      top: `${event.clientY - box.top}px`,
    });
    this.cursor.classList.toggle("erasing", this.mode === "erase");
    this.cursor.hidden = false;
  }

  /** A pointer position in picture pixels (continuous). */
  private toPicture(event: PointerEvent): { x: number; y: number } {
    const box = this.overlay.getBoundingClientRect();
    return {
      x: ((event.clientX - box.left) / box.width) * this.width,
      y: ((event.clientY - box.top) / box.height) * this.height,
    };
  }

  /** Stamps the brush along a segment, at most half a pixel apart. */
  private line(from: { x: number; y: number }, to: { x: number; y: number }): void {
    const stamps = Math.max(1, Math.ceil(Math.hypot(to.x - from.x, to.y - from.y) * 2));
    for (let i = 1; i <= stamps; i++) {
      const t = i / stamps;
      this.stamp(from.x + (to.x - from.x) * t, from.y + (to.y - from.y) * t);
    }
  }

  /** Marks (or unmarks) the pixels whose centres are under the brush, and the pixel under its centre. */
  private stamp(cx: number, cy: number): void {
    const radius = Math.max(0.5, (this.brushSize * this.width) / 2);
    const x0 = Math.max(0, Math.floor(cx - radius));
    const x1 = Math.min(this.width - 1, Math.ceil(cx + radius));
    const y0 = Math.max(0, Math.floor(cy - radius));
    const y1 = Math.min(this.height - 1, Math.ceil(cy + radius));
    if (x0 > x1 || y0 > y1) return;
    const value = this.mode === "paint" ? 1 : 0;
    const centreX = Math.floor(cx);
    const centreY = Math.floor(cy);
    let changed = false;
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const under = Math.hypot(x + 0.5 - cx, y + 0.5 - cy) <= radius || (x === centreX && y === centreY);
        const p = y * this.width + x;
        if (!under || this.marks[p] === value) continue;
        this.marks[p] = value;
        this.marked += value === 1 ? 1 : -1;
        changed = true;
      }
    }
    if (changed) this.redraw(x0, y0, x1 - x0 + 1, y1 - y0 + 1);
  }

  /** Redraws the overlay in a rectangle of picture pixels. */
  private redraw(x: number, y: number, width: number, height: number): void {
    const pixels = this.context.createImageData(width, height);
    for (let row = 0; row < height; row++) {
      for (let column = 0; column < width; column++) {
        if (this.marks[(y + row) * this.width + x + column] === 0) continue;
        pixels.data.set(MARK, (row * width + column) * 4);
      }
    }
    this.context.putImageData(pixels, x, y);
  }
}

// The edit mode: a picture (uploaded, or a result's Edit button), the brush to mark what to redraw
// (size, eraser, clear, invert, a feathered edge) with the rule stated beside it, a description of
// what goes there, and the button that runs the edit. What is missing is said just above that
// button, where the user is looking, and the control to fix it gets the focus.
import { el, field } from "./dom.ts";
import { MaskPainter } from "./mask-painter.ts";
import { MessageLine } from "./messages.ts";
import { type EditPicture, loadPicture } from "./picture.ts";

export interface EditRequest {
  picture: EditPicture;
  mask: Blob;
  /** The mask with a softened edge, to blend the results with the picture (null: a hard edge). */
  softMask: HTMLCanvasElement | null;
  prompt: string;
}

export class EditPanel {
  readonly element: HTMLElement;
  readonly prompt = el("textarea", {
    name: "edit-prompt",
    rows: 2,
    maxlength: 1000,
    placeholder: "What to paint in the marked part, e.g. a red circle",
  });
  readonly runButton = el("button", { type: "submit", class: "primary" }, "Redraw marked part");
  private readonly painter = new MaskPainter();
  private readonly file = el("input", { type: "file", accept: "image/*", class: "visually-hidden", name: "picture" });
  private readonly placeholder = el(
    "div",
    { class: "mask-placeholder" },
    "Upload a picture, or choose Edit under one of your results.",
  );
  private readonly markedText = el("span", { class: "marked", "aria-live": "polite" });
  private readonly tools: HTMLElement;
  private picture: EditPicture | null = null;
  /** Beside the run button: what is missing before an edit can run. */
  private readonly formMessage = new MessageLine("form-message");

  constructor(
    private readonly messages: MessageLine,
    onRun: (request: EditRequest) => void,
  ) {
    const upload = el("label", { class: "button secondary upload" }, "Upload a picture", this.file);
    this.file.addEventListener("change", () => {
      const chosen = this.file.files?.[0];
      this.file.value = ""; // the same file may be chosen again
      if (chosen) void this.usePicture(chosen, chosen.name);
    });

    const brush = modeButton("Brush", true);
    const eraser = modeButton("Eraser", false);
    const setMode = (mode: "paint" | "erase") => {
      this.painter.mode = mode;
      brush.setAttribute("aria-pressed", String(mode === "paint"));
      eraser.setAttribute("aria-pressed", String(mode === "erase"));
    };
    brush.addEventListener("click", () => setMode("paint"));
    eraser.addEventListener("click", () => setMode("erase"));
    const size = el("input", { type: "range", name: "brush-size", min: 2, max: 50, value: 12 });
    size.addEventListener("input", () => {
      this.painter.brushSize = Number(size.value) / 100;
    });
    const clear = el("button", { type: "button", class: "secondary" }, "Clear");
    clear.addEventListener("click", () => this.painter.clear());
    const invert = el(
      "button",
      { type: "button", class: "secondary", title: "Redraw everything but the painted part" },
      "Invert",
    );
    invert.addEventListener("click", () => this.painter.invert());
    const feather = el("input", { type: "range", name: "feather", min: 0, max: 20, value: 0 });
    const featherText = el("output", { class: "field-hint" }, "hard edge");
    feather.addEventListener("input", () => {
      this.painter.feather = Number(feather.value) / 100;
      featherText.textContent = feather.value === "0" ? "hard edge" : `${feather.value}% of the width`;
    });
    this.painter.onChange = () => {
      this.showMarked();
      // A complaint that nothing is marked is answered by painting.
      if (this.painter.markedPixels > 0) {
        this.messages.clearError();
        this.formMessage.clearError();
      }
    };
    this.tools = el(
      "div",
      { class: "mask-tools", hidden: true },
      el(
        "div",
        { class: "mask-tool-row" },
        el("div", { class: "segmented", role: "group", "aria-label": "brush or eraser" }, brush, eraser),
        clear,
        invert,
        this.markedText,
      ),
      el(
        "p",
        { class: "mask-rule" },
        "Painted = redrawn; the rest is kept. (A mask file, for glide edit or the API: the picture's size; fully transparent = redrawn, or black in a mask without transparency.)",
      ),
      el("div", { class: "mask-tool-row" }, field("Brush size", size), field("Soften the edge", feather), featherText),
    );

    const form = el(
      "form",
      { class: "composer" },
      el("div", { class: "picture-row" }, upload, el("span", { class: "field-hint" }, "PNG, JPEG or WebP")),
      el("div", { class: "mask-frame" }, this.placeholder, this.painter.element),
      this.tools,
      field("Describe the new part", this.prompt),
      this.formMessage.element,
      this.runButton,
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.submit(onRun);
    });
    submitOnCtrlEnter(this.prompt, form);
    this.element = el("div", { class: "panel" }, form);
  }

  /** Loads a picture to edit; a file the browser cannot read is reported, and the current picture kept. */
  async usePicture(blob: Blob, name: string): Promise<boolean> {
    try {
      const picture = await loadPicture(blob);
      this.picture?.bitmap.close();
      this.picture = picture;
      this.painter.setPicture(picture.bitmap);
      this.placeholder.hidden = true;
      this.tools.hidden = false;
      const changes = picture.changes.length > 0 ? ` (${picture.changes.join(", ")})` : "";
      this.messages.info(`Editing ${name}${changes}: paint over the part to redraw.`);
      return true;
    } catch (error) {
      this.messages.error((error as Error).message);
      return false;
    }
  }

  private async submit(onRun: (request: EditRequest) => void): Promise<void> {
    this.formMessage.clear();
    if (!this.picture) return this.missing("Choose a picture to edit first: upload one, or Edit a result.", this.file);
    if (this.painter.markedPixels === 0) {
      return this.missing("Nothing is marked: paint over the part of the picture to redraw first.", null);
    }
    const prompt = this.prompt.value.trim();
    if (prompt === "") return this.missing("Describe what to paint in the marked part.", this.prompt);
    onRun({ picture: this.picture, mask: await this.painter.maskPng(), softMask: this.painter.softMask(), prompt });
  }

  /** Says what is missing beside the run button (in view), and focuses what fixes it. */
  private missing(text: string, control: HTMLElement | null): void {
    this.formMessage.error(text);
    control?.focus({ preventScroll: true });
    this.formMessage.element.scrollIntoView({ block: "nearest" });
  }

  /** The picture being edited (the "before" of the edit's results). */
  get pictureBlob(): Blob | null {
    return this.picture?.blob ?? null;
  }

  private showMarked(): void {
    const percent = this.painter.markedFraction * 100;
    this.markedText.textContent =
      this.painter.markedPixels === 0 ? "Nothing marked" : `${percent < 1 ? "<1" : Math.round(percent)}% marked`;
  }
}

function modeButton(label: string, pressed: boolean): HTMLButtonElement {
  return el("button", { type: "button", class: "secondary", "aria-pressed": String(pressed) }, label);
}

/** Ctrl+Enter (⌘+Enter) in a prompt submits its form, as Enter cannot (it starts a new line). */
export function submitOnCtrlEnter(prompt: HTMLTextAreaElement, form: HTMLFormElement): void {
  prompt.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
}

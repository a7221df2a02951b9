// The web UI: create pictures from a prompt, or edit one by painting what to redraw; progress
// with previews, a gallery of results. It knows only the Backend interface, so the same UI runs
// over `glide serve` and in the browser alone.
import "./style.css";
import { ApiKeyField } from "./api-key-field.ts";
import type {
  Backend,
  BackendInfo,
  EditInput,
  ImageOptions,
  KeptRun,
  ResultPicture,
  RunControl,
  RunNote,
  VariationInput,
} from "./backend.ts";
import { BrowserGallery } from "./browser-gallery.ts";
import { el, field } from "./dom.ts";
import { EditPanel, type EditRequest, submitOnCtrlEnter } from "./edit-panel.ts";
import { Gallery, type GalleryItem } from "./gallery.ts";
import { describeFailure, MessageLine } from "./messages.ts";
import { OptionError, OptionsForm, type SamplingOptions } from "./options-form.ts";
import { withParameters } from "./parameters-chunk.ts";
import { ProgressView } from "./progress-view.ts";
import { Runs } from "./runs.ts";
import { blendEdges } from "./soft-edges.ts";
import { Tabs } from "./tabs.ts";

export function startUi(root: HTMLElement, backend: Backend): void {
  const status = el("span", { class: "backend-label" }, "Connecting…");
  const headerTools = el("div", { class: "header-tools" });
  const body = el("main", { class: "layout" });
  root.replaceChildren(el("header", { class: "top" }, el("h1", {}, "glide-ts"), status, headerTools), body);
  backend.onInfoChange?.((info) => {
    status.textContent = info.label;
  });
  const connect = () => {
    status.textContent = "Connecting…";
    body.replaceChildren();
    backend.info().then(
      (info) => {
        status.textContent = info.label;
        build(body, headerTools, backend, info);
      },
      (error: unknown) => {
        status.textContent = "Not connected";
        const retry = el("button", { type: "button", class: "primary" }, "Try again");
        retry.addEventListener("click", connect);
        body.replaceChildren(
          el(
            "section",
            { class: "card notice" },
            el("p", { class: "message", "data-kind": "error", role: "alert" }, describeFailure("Connecting", error)),
            retry,
          ),
        );
      },
    );
  };
  connect();
}

function build(body: HTMLElement, headerTools: HTMLElement, backend: Backend, info: BackendInfo): void {
  const messages = new MessageLine();
  const options = new OptionsForm(info);
  const progress = new ProgressView();
  // The key field only where the server asks for keys.
  const keyField = backend.apiKey && info.apiKeyRequired ? new ApiKeyField(backend.apiKey, true) : null;
  if (keyField) headerTools.replaceChildren(keyField.element);

  const editPanel = info.canEdit ? new EditPanel(messages, (request) => void runEdit(request)) : null;
  const prompt = el("textarea", {
    name: "prompt",
    rows: 3,
    maxlength: 1000,
    placeholder: "Describe a picture, e.g. a red heart or a yellow star",
    required: true,
  });
  const gallery = new Gallery({
    ...(editPanel
      ? {
          edit: (item: GalleryItem) => {
            tabs.select("edit");
            // From a result below (on a phone, far below): the picture to paint is brought into view.
            tabs.element.scrollIntoView({ block: "start" });
            const caption = item.note.caption.length > 40 ? `${item.note.caption.slice(0, 38)}…` : item.note.caption;
            void editPanel.usePicture(item.picture.blob, `“${caption}”`);
          },
        }
      : {}),
    ...(backend.canVary && backend.kept ? { vary: (item: GalleryItem) => void runVariation(item) } : {}),
    reuse: (item) => {
      const { prompt: text, ...rest } = item.note.options;
      tabs.select(item.note.kind === "edit" && editPanel ? "edit" : "create");
      if (item.note.kind === "edit" && editPanel) editPanel.prompt.value = text;
      else prompt.value = item.note.kind === "generate" ? text : prompt.value;
      // The picture's own seed: "Use these settings" makes this picture again.
      options.apply({ ...rest, n: 1, ...(item.picture.seed !== undefined ? { seed: item.picture.seed } : {}) });
      messages.info("The form has this picture's prompt, options and seed.");
      prompt.focus({ preventScroll: true });
    },
    downloadable: (item) => withParameters(item),
  });

  const generateButton = el("button", { type: "submit", class: "primary" }, "Generate");
  const createForm = el("form", { class: "composer" }, field("Prompt", prompt), generateButton);
  submitOnCtrlEnter(prompt, createForm);

  const runButtons = [generateButton, ...(editPanel ? [editPanel.runButton] : [])];
  // A backend that keeps nothing itself (the browser-only build): the gallery is kept in IndexedDB.
  const browserGallery = backend.kept ? null : BrowserGallery.open();
  const runs = new Runs(
    progress,
    messages,
    gallery,
    (busy) => {
      for (const button of runButtons) button.disabled = busy;
    },
    (pictures, note) => void browserGallery?.then((store) => store?.add({ pictures, note, created: Date.now() })),
  );

  const tabs = new Tabs(
    [
      { id: "create", label: "Create", panel: el("div", { class: "panel" }, createForm) },
      ...(editPanel ? [{ id: "edit", label: "Edit", panel: editPanel.element }] : []),
    ],
    (id) => options.setEditing(id === "edit"),
  );

  /** The options, or null when one is wrong or the key is missing (the message says so). */
  const readOptions = (): SamplingOptions | null => {
    if (info.apiKeyRequired && keyField?.missing) {
      messages.error("This server needs an API key: enter it at the top of the page.");
      keyField.focus();
      return null;
    }
    try {
      return options.read();
    } catch (error) {
      if (error instanceof OptionError) {
        messages.error(error.message);
        return null;
      }
      throw error;
    }
  };

  /** Runs through the backend's kept runs (jobs) when it has them, else directly. */
  const start =
    (note: RunNote, input: ImageOptions | EditInput | VariationInput) =>
    async (control: RunControl): Promise<ResultPicture[]> => {
      if (backend.kept) return backend.kept.follow(await backend.kept.submit(note, input), control);
      if (backend.pictures) return backend.pictures(note, input, control);
      const blobs =
        note.kind === "edit" ? await backend.edit(input as EditInput, control) : await backend.generate(input, control);
      // One picture made with a chosen seed is made again by it; a batch's seeds the backend does not say.
      const seed = blobs.length === 1 ? input.seed : undefined;
      return blobs.map((blob) => ({ blob, ...(seed !== undefined ? { seed } : {}) }));
    };

  createForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = prompt.value.trim();
    if (text === "") {
      prompt.focus();
      return messages.error("Describe the picture to make first.");
    }
    const chosen = readOptions();
    if (!chosen) return;
    const input = { ...chosen, prompt: text };
    void runs.run({
      title: `Generating ${count(chosen.n)}: ${text}`,
      verb: "Generating",
      note: { kind: "generate", caption: text, options: input },
      upsampling: options.upsamples(chosen),
      start: start({ kind: "generate", caption: text, options: input }, input),
    });
  });

  async function runEdit(request: EditRequest): Promise<void> {
    const chosen = readOptions();
    if (!chosen) return;
    const note: RunNote = {
      kind: "edit",
      caption: `Edit: ${request.prompt}`,
      options: { ...chosen, prompt: request.prompt },
    };
    await runs.run({
      title: `Redrawing the marked part (${count(chosen.n)}): ${request.prompt}`,
      verb: "Editing",
      note,
      before: request.picture.blob,
      upsampling: options.upsamples(chosen),
      start: async (control) => {
        const pictures = await start(note, { ...note.options, image: request.picture.blob, mask: request.mask })(
          control,
        );
        const { softMask } = request;
        if (!softMask) return pictures;
        const original = request.picture.blob;
        return Promise.all(pictures.map(async (p) => ({ ...p, blob: await blendEdges(p.blob, original, softMask) })));
      },
    });
  }

  async function runVariation(item: GalleryItem): Promise<void> {
    const chosen = readOptions();
    if (!chosen) return;
    const text = item.note.options.prompt;
    const note: RunNote = { kind: "variation", caption: `Variation: ${text}`, options: { ...chosen, prompt: text } };
    await runs.run({
      title: `Making ${count(chosen.n)} like “${text}”`,
      verb: "Making variations",
      note,
      before: item.picture.blob,
      upsampling: options.upsamples(chosen),
      start: start(note, { ...note.options, image: item.picture.blob }),
    });
  }

  const composer = el(
    "section",
    { class: "card controls", "aria-label": "make a picture" },
    tabs.element,
    ...(editPanel ? [] : [el("p", { class: "field-hint" }, "This backend does not edit pictures.")]),
    messages.element,
    options.element,
  );
  body.replaceChildren(
    el("div", { class: "column" }, composer),
    el("div", { class: "column" }, progress.element, gallery.element),
  );
  if (browserGallery) void restoreFromBrowser(browserGallery, gallery);
  else {
    void restoreKept(backend, gallery, runs, options).then((restored) => {
      // Refused for want of a key: tried again once one is typed.
      if (!restored && keyField) keyField.onceTyped(() => restoreKept(backend, gallery, runs, options));
    });
  }
}

/** After a reload of the browser-only build: the results kept in IndexedDB. */
async function restoreFromBrowser(opening: Promise<BrowserGallery | null>, gallery: Gallery): Promise<void> {
  const store = await opening;
  if (!store) return;
  gallery.setKept(`Results are kept ${store.where} (and come back when you reload), the last 100 runs.`);
  gallery.append(await store.list().catch(() => []));
}

/** After a reload: the finished results the backend keeps, and its running jobs followed again. */
async function restoreKept(backend: Backend, gallery: Gallery, runs: Runs, options: OptionsForm): Promise<boolean> {
  const kept = backend.kept;
  if (!kept) return true;
  gallery.setKept(keptText(kept.where, kept.keptSeconds));
  let listed: KeptRun[];
  try {
    listed = (await kept.list()).filter((run) => !kept.submittedHere.has(run.id));
  } catch {
    return false; // e.g. the key is not typed yet: the gallery starts empty
  }
  gallery.append(listed.filter((run) => run.status === "succeeded"));
  // The oldest running job first, as the queue runs them.
  for (const run of listed.filter((r) => r.status === "queued" || r.status === "running").reverse()) {
    void runs.run({
      title: `Still ${run.note.kind === "generate" ? "generating" : "working on"}: ${run.note.caption}`,
      verb: "Generating",
      note: run.note,
      upsampling: options.upsamples(run.note.options),
      start: (control) => kept.follow(run.id, control),
    });
  }
  return true;
}

function keptText(where: string, seconds: number | null): string {
  if (seconds === null) return `Results are kept ${where}.`;
  const time =
    seconds >= 7200
      ? `${Math.round(seconds / 3600)} hours`
      : seconds >= 120
        ? `${Math.round(seconds / 60)} minutes`
        : `${seconds} seconds`;
  return `Results are kept ${where} for ${time} after they finish (and come back when you reload); download the ones you want to keep.`;
}

const count = (n: number) => (n === 1 ? "1 picture" : `${n} pictures`);

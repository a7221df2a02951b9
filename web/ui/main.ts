// The web UI: create pictures from a prompt, or edit one by painting what to redraw; progress
// with previews, a gallery of results. It knows only the Backend interface, so the same UI runs
// over `glide serve` and in the browser alone.
import "./style.css";
import { ApiKeyField } from "./api-key-field.ts";
import type { Backend, BackendInfo } from "./backend.ts";
import { el, field } from "./dom.ts";
import { EditPanel, type EditRequest, submitOnCtrlEnter } from "./edit-panel.ts";
import { Gallery } from "./gallery.ts";
import { describeFailure, MessageLine } from "./messages.ts";
import { OptionError, OptionsForm, type SamplingOptions } from "./options-form.ts";
import { ProgressView } from "./progress-view.ts";
import { Runs } from "./runs.ts";
import { Tabs } from "./tabs.ts";

export function startUi(root: HTMLElement, backend: Backend): void {
  const status = el("span", { class: "backend-label" }, "Connecting…");
  const headerTools = el("div", { class: "header-tools" });
  const body = el("main", { class: "layout" });
  root.replaceChildren(el("header", { class: "top" }, el("h1", {}, "glide-ts"), status, headerTools), body);
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
  const keyField = backend.apiKey ? new ApiKeyField(backend.apiKey, info.apiKeyRequired ?? false) : null;
  if (keyField) headerTools.replaceChildren(keyField.element);

  const editPanel = info.canEdit ? new EditPanel(messages, (request) => void runEdit(request)) : null;
  const gallery = new Gallery(
    editPanel
      ? (item) => {
          tabs.select("edit");
          const caption = item.caption.length > 40 ? `${item.caption.slice(0, 38)}…` : item.caption;
          void editPanel.usePicture(item.blob, `“${caption}”`);
        }
      : null,
  );

  const prompt = el("textarea", {
    name: "prompt",
    rows: 3,
    maxlength: 1000,
    placeholder: "Describe a picture, e.g. a red heart, or a blue circle on the left",
    required: true,
  });
  const generateButton = el("button", { type: "submit", class: "primary" }, "Generate");
  const createForm = el("form", { class: "composer" }, field("Prompt", prompt), generateButton);
  submitOnCtrlEnter(prompt, createForm);

  const runButtons = [generateButton, ...(editPanel ? [editPanel.runButton] : [])];
  const runs = new Runs(progress, messages, gallery, (busy) => {
    for (const button of runButtons) button.disabled = busy;
  });

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

  createForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = prompt.value.trim();
    if (text === "") return messages.error("Describe the picture to make first.");
    const chosen = readOptions();
    if (!chosen) return;
    void runs.run({
      title: `Generating ${count(chosen.n)}: ${text}`,
      verb: "Generating",
      caption: text,
      start: (control) => backend.generate({ ...chosen, prompt: text }, control),
    });
  });

  async function runEdit(request: EditRequest): Promise<void> {
    const chosen = readOptions();
    if (!chosen) return;
    await runs.run({
      title: `Redrawing the marked part (${count(chosen.n)}): ${request.prompt}`,
      verb: "Editing",
      caption: `Edit: ${request.prompt}`,
      start: (control) =>
        backend.edit({ ...chosen, prompt: request.prompt, image: request.picture.blob, mask: request.mask }, control),
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
}

const count = (n: number) => (n === 1 ? "1 picture" : `${n} pictures`);

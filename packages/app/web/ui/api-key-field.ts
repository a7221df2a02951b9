// The API key of a backend that sends one: a password field in the header, kept by the backend
// (the server backend keeps it in localStorage) and saved as it is typed.
import type { ApiKeyStore } from "./backend.ts";
import { el } from "./dom.ts";

export class ApiKeyField {
  readonly element: HTMLElement;
  private readonly input = el("input", {
    type: "password",
    name: "api-key",
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "API key",
    "aria-label": "API key",
  });

  constructor(
    private readonly store: ApiKeyStore,
    required: boolean,
  ) {
    this.input.value = store.get();
    this.input.addEventListener("input", () => store.set(this.input.value.trim()));
    // In a form, as browsers expect of a password field; Enter has nothing to send.
    const form = el(
      "form",
      { class: "api-key" },
      el("label", {}, el("span", {}, required ? "API key (required)" : "API key"), this.input),
    );
    form.addEventListener("submit", (event) => event.preventDefault());
    this.element = form;
  }

  /**
   * Calls `retry` when typing pauses, until it answers true (e.g. the gallery could be listed
   * with the key typed).
   */
  onceTyped(retry: () => Promise<boolean>): void {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const typed = () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        if (await retry()) this.input.removeEventListener("input", typed);
      }, 600);
    };
    this.input.addEventListener("input", typed);
  }

  get missing(): boolean {
    return this.store.get() === "";
  }

  focus(): void {
    this.input.focus();
  }
}

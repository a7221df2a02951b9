// One line under the controls that says what happened: errors in words a person can act on.
import { el } from "./dom.ts";

export class MessageLine {
  readonly element: HTMLParagraphElement;

  /** `className`: "message" for the page's line, another for a form's own (styled the same). */
  constructor(className = "message") {
    this.element = el("p", { class: className, role: "status", "aria-live": "polite", hidden: true });
  }

  /** Shows an error and brings it into view (an error below the fold goes unseen). */
  error(text: string): void {
    this.show(text, "error");
    if (this.element.isConnected) this.element.scrollIntoView?.({ block: "nearest" });
  }

  info(text: string): void {
    this.show(text, "info");
  }

  /** Clears the line if it shows an error. */
  clearError(): void {
    if (this.element.dataset.kind === "error") this.clear();
  }

  clear(): void {
    this.element.hidden = true;
    this.element.textContent = "";
    delete this.element.dataset.kind;
  }

  private show(text: string, kind: "error" | "info"): void {
    this.element.textContent = text;
    this.element.dataset.kind = kind;
    this.element.setAttribute("role", kind === "error" ? "alert" : "status");
    this.element.hidden = false;
  }
}

/** Whether a run ended because it was cancelled (the Backend contract: an AbortError-named error). */
export function isCancel(error: unknown): boolean {
  return error instanceof Error || error instanceof DOMException ? error.name === "AbortError" : false;
}

/** What to tell the user about a failure: the backend's own message, as a sentence. */
export function describeFailure(what: string, error: unknown): string {
  const message = error instanceof Error || error instanceof DOMException ? error.message : String(error);
  const sentence = message.trim() === "" ? "something went wrong" : message.trim();
  return `${what} failed: ${sentence}${/[.!?]$/.test(sentence) ? "" : "."}`;
}

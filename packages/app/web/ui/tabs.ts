// Tabs over the modes (Create, Edit): buttons with role="tab", one panel shown.
import { el } from "./dom.ts";

export interface Tab {
  id: string;
  label: string;
  panel: HTMLElement;
}

export class Tabs {
  readonly element: HTMLElement;
  private readonly buttons = new Map<string, HTMLButtonElement>();

  constructor(
    private readonly tabs: readonly Tab[],
    private readonly onSelect: (id: string) => void,
  ) {
    const list = el("div", { class: "tabs", role: "tablist" });
    for (const tab of tabs) {
      const button = el(
        "button",
        { type: "button", role: "tab", id: `tab-${tab.id}`, "aria-controls": `panel-${tab.id}` },
        tab.label,
      );
      button.addEventListener("click", () => this.select(tab.id));
      tab.panel.id = `panel-${tab.id}`;
      tab.panel.setAttribute("role", "tabpanel");
      tab.panel.setAttribute("aria-labelledby", `tab-${tab.id}`);
      this.buttons.set(tab.id, button);
      list.append(button);
    }
    // A single mode needs no tabs.
    list.hidden = tabs.length < 2;
    this.element = el("div", { class: "modes" }, list, ...tabs.map((tab) => tab.panel));
    this.select(tabs[0]!.id);
  }

  select(id: string): void {
    for (const tab of this.tabs) {
      const selected = tab.id === id;
      this.buttons.get(tab.id)!.setAttribute("aria-selected", String(selected));
      tab.panel.hidden = !selected;
    }
    this.onSelect(id);
  }
}

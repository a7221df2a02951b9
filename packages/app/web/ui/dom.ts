// A small element builder: the UI is plain DOM, built in code.

type Attributes = Record<string, string | number | boolean | undefined>;

/** `<tag attrs…>children</tag>`; boolean attributes are set when true, undefined ones left out. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? "" : String(value));
  }
  element.append(...children);
  return element;
}

/** A labelled form field: the label wraps its text and the control. */
export function field(label: string, control: HTMLElement, hint?: string): HTMLLabelElement {
  return el(
    "label",
    { class: "field" },
    el("span", { class: "field-label" }, label),
    control,
    ...(hint ? [el("span", { class: "field-hint" }, hint)] : []),
  );
}

// The sampling options both modes share: count, sampler, steps, guidance, seed. Empty steps,
// guidance or seed mean the backend's default (shown as the placeholder) or a random seed.
import type { BackendInfo, ImageOptions } from "./backend.ts";
import { el, field } from "./dom.ts";

export type SamplingOptions = Omit<ImageOptions, "prompt">;

/** A value the user typed that cannot be sent. */
export class OptionError extends Error {
  override name = "OptionError";
}

export class OptionsForm {
  readonly element: HTMLFieldSetElement;
  private readonly count: HTMLInputElement;
  private readonly sampler: HTMLSelectElement;
  private readonly steps = el("input", { type: "number", name: "steps", min: 1, step: 1, inputmode: "numeric" });
  private readonly guidance = el("input", { type: "number", name: "guidance", step: 0.5, inputmode: "decimal" });
  private readonly seed = el("input", {
    type: "number",
    name: "seed",
    min: 0,
    step: 1,
    inputmode: "numeric",
    placeholder: "random",
  });
  /** Present when the backend upsamples: the final size, or the base model's (faster). */
  private readonly size: HTMLSelectElement | null;
  private editing = false;

  constructor(private readonly info: BackendInfo) {
    this.count = el("input", { type: "number", name: "count", min: 1, max: info.maxImages, step: 1, value: 1 });
    this.sampler = el(
      "select",
      { name: "sampler" },
      ...info.samplers.map((name) => el("option", { value: name, selected: name === info.defaults.sampler }, name)),
    );
    this.sampler.addEventListener("change", () => this.showDefaults());
    const base = info.baseImageSize;
    this.size = base
      ? el(
          "select",
          { name: "size" },
          el("option", { value: "upsample", selected: true }, `${info.imageSize}×${info.imageSize} (upsampled)`),
          el("option", { value: "base" }, `${base}×${base} (faster, no upsampling)`),
        )
      : null;
    this.element = el(
      "fieldset",
      { class: "options" },
      el("legend", {}, "Options"),
      field("Pictures", this.count),
      wide(field("Sampler", this.sampler)),
      field("Steps", this.steps),
      field("Guidance", this.guidance),
      field("Seed", this.seed),
      ...(this.size ? [wide(field("Picture size", this.size))] : []),
    );
    this.showDefaults();
  }

  /** Edits have their own default guidance. */
  setEditing(editing: boolean): void {
    this.editing = editing;
    this.showDefaults();
  }

  /** The options as typed, checked; throws an OptionError naming the field. */
  read(): SamplingOptions {
    const n = integer(this.count, "Pictures", 1, this.info.maxImages) ?? 1;
    const options: SamplingOptions = { n, sampler: this.sampler.value };
    const steps = integer(this.steps, "Steps", 1, 100_000);
    if (steps !== undefined) options.steps = steps;
    const seed = integer(this.seed, "Seed", 0, 2 ** 32 - 1);
    if (seed !== undefined) options.seed = seed;
    const guidance = number(this.guidance, "Guidance");
    if (guidance !== undefined) options.guidance = guidance;
    if (this.size) options.upsample = this.size.value === "upsample";
    return options;
  }

  /** Whether a run with these options has an upsampling stage. */
  upsamples(options: SamplingOptions): boolean {
    return this.size !== null && options.upsample !== false;
  }

  /** Fills the form with a result's options ("Use these settings"). */
  apply(options: Partial<SamplingOptions>): void {
    this.count.value = String(Math.min(options.n ?? 1, this.info.maxImages));
    if (options.sampler && this.info.samplers.includes(options.sampler)) this.sampler.value = options.sampler;
    this.steps.value = options.steps === undefined ? "" : String(options.steps);
    this.guidance.value = options.guidance === undefined ? "" : String(options.guidance);
    this.seed.value = options.seed === undefined ? "" : String(options.seed);
    if (this.size && options.upsample !== undefined) this.size.value = options.upsample ? "upsample" : "base";
    this.showDefaults();
  }

  private showDefaults(): void {
    const { defaults, samplerSteps } = this.info;
    this.steps.placeholder = String(samplerSteps?.[this.sampler.value] ?? defaults.steps);
    const guidance = this.editing ? (defaults.editGuidance ?? defaults.guidance) : defaults.guidance;
    this.guidance.placeholder = String(guidance);
  }
}

function wide(element: HTMLElement): HTMLElement {
  element.classList.add("wide");
  return element;
}

function number(input: HTMLInputElement, label: string): number | undefined {
  const text = input.value.trim();
  // A number input holds "" both when empty and when what was typed is not a number.
  if (text === "") {
    if (input.validity.badInput) throw new OptionError(`${label} must be a number.`);
    return undefined;
  }
  const value = Number(text);
  if (!Number.isFinite(value)) throw new OptionError(`${label} must be a number.`);
  return value;
}

function integer(input: HTMLInputElement, label: string, min: number, max: number): number | undefined {
  const value = number(input, label);
  if (value !== undefined && (!Number.isInteger(value) || value < min || value > max)) {
    throw new OptionError(`${label} must be a whole number from ${min} to ${max}.`);
  }
  return value;
}

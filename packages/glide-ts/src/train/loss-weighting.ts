// How much each timestep's noise-prediction error counts in the training loss. GLIDE weighs every
// timestep alike. Caption words that decide a picture's colour and layout act at the noisiest steps,
// where an error in the predicted x₀ is an error in ε shrunk by √SNR (x₀ − x̂₀ = (ε − ε̂) / √SNR), so
// the plain ε loss barely sees them. Our extensions (off unless asked for) reweigh it per timestep,
// with SNR_t = ᾱ_t / (1 − ᾱ_t):
//
//   uniform       w = 1                                   (GLIDE, improved DDPM)
//   min-snr:γ     w = min(SNR, γ) / SNR                   (Min-SNR-γ for ε-prediction, Hang et al. 2023)
//   inv-snr:cap   w = 1 + min(1 / SNR, cap)               (the ε loss plus the x₀ loss it implies, capped)
//
// Only the ε term is weighted; the variational bound that trains the variance keeps its weight.
import { GlideError } from "../errors.ts";

export type LossWeighting = { kind: "uniform" } | { kind: "min-snr"; gamma: number } | { kind: "inv-snr"; cap: number };

export const LOSS_WEIGHTING_KINDS = ["uniform", "min-snr", "inv-snr"] as const;
const DEFAULT_PARAMETER = { "min-snr": 5, "inv-snr": 20 } as const;

export class LossWeightingError extends GlideError {
  override name = "LossWeightingError";
}

/** Parses `uniform`, `min-snr[:γ]` (default 5) or `inv-snr[:cap]` (default 20). */
export function parseLossWeighting(text: string): LossWeighting {
  const [kind, parameter, ...rest] = text.trim().split(":");
  if (kind === "uniform" && parameter === undefined) return { kind };
  if ((kind === "min-snr" || kind === "inv-snr") && rest.length === 0) {
    const value = parameter === undefined ? DEFAULT_PARAMETER[kind] : Number(parameter);
    if (!(Number.isFinite(value) && value > 0 && value <= 1e6) || parameter === "") {
      throw new LossWeightingError(`loss weighting ${text}: the ${kind} parameter must be a positive number`);
    }
    return kind === "min-snr" ? { kind, gamma: value } : { kind, cap: value };
  }
  throw new LossWeightingError(
    `unknown loss weighting '${text}': expected uniform, min-snr[:γ] (e.g. min-snr:5) or inv-snr[:cap] (e.g. inv-snr:20)`,
  );
}

export function formatLossWeighting(weighting: LossWeighting): string {
  switch (weighting.kind) {
    case "uniform":
      return "uniform";
    case "min-snr":
      return `min-snr:${weighting.gamma}`;
    case "inv-snr":
      return `inv-snr:${weighting.cap}`;
  }
}

/** The weight of the ε loss at each timestep of a process with these ᾱ_t. */
export function lossWeights(alphasCumprod: ArrayLike<number>, weighting: LossWeighting): Float64Array {
  const weights = new Float64Array(alphasCumprod.length);
  for (let t = 0; t < weights.length; t++) {
    const abar = alphasCumprod[t]!;
    const snr = abar / (1 - abar);
    switch (weighting.kind) {
      case "uniform":
        weights[t] = 1;
        break;
      case "min-snr":
        weights[t] = Math.min(snr, weighting.gamma) / snr;
        break;
      case "inv-snr":
        weights[t] = 1 + Math.min(1 / snr, weighting.cap);
        break;
    }
  }
  return weights;
}

export function isUniform(weighting: LossWeighting | undefined): boolean {
  return weighting === undefined || weighting.kind === "uniform";
}

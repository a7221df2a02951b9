// Captions of a training batch: classifier-free guidance dropout and tokenization.
import { tokenizeCaption } from "../glide/tokenizer.ts";
import type { Rng } from "../util/rng.ts";
import { checkInRange } from "../validate.ts";

/** GLIDE drops 20% of captions so the same network also learns the unconditional model. */
export const DEFAULT_CAPTION_DROPOUT = 0.2;

/**
 * Each caption replaced by the empty caption with probability `p`. Exactly one uniform draw per
 * caption, whatever `p` is, so the rest of a run's random stream does not depend on it.
 */
export function dropCaptions(captions: readonly string[], rng: Rng, p = DEFAULT_CAPTION_DROPOUT): string[] {
  checkInRange(p, "caption dropout", 0, 1);
  return captions.map((caption) => (rng.uniform() < p ? "" : caption));
}

/** Token ids (int64 [N, textCtx]) and masks (bool [N, textCtx], 1 = real token) of a batch of captions. */
export function tokenizeCaptions(
  captions: readonly string[],
  textCtx: number,
): { tokens: BigInt64Array; mask: Uint8Array } {
  const tokens = new BigInt64Array(captions.length * textCtx);
  const mask = new Uint8Array(captions.length * textCtx);
  captions.forEach((caption, n) => {
    const t = tokenizeCaption(caption, textCtx);
    for (let i = 0; i < textCtx; i++) {
      tokens[n * textCtx + i] = BigInt(t.tokens[i]!);
      mask[n * textCtx + i] = t.mask[i] ? 1 : 0;
    }
  });
  return { tokens, mask };
}

// Tokenizer cases, from `DIR/tokenizer.json` (not listed in the manifest): each caption's BPE ids,
// its ids padded to text_ctx, and the mask, compared exactly.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { encodeText, tokenizeCaption } from "glide-ts";
import { countCheck } from "../compare.ts";
import { numberField, stringField } from "../manifest.ts";
import { type CaseKind, type ParityCase, ParityCaseError } from "../types.ts";

export const TOKENIZER_FILE = "tokenizer.json";

function arrayField<T>(c: ParityCase, key: string): T[] {
  const value = c.entry[key];
  if (!Array.isArray(value)) throw new ParityCaseError(`case '${c.name}': field '${key}' must be an array`);
  return value as T[];
}

export const tokenizerKind: CaseKind = {
  kind: "tokenizer",
  description: `GLIDE's caption tokenizer against ${TOKENIZER_FILE} (ids, padded, mask; exact)`,

  async discover(dir) {
    let text: string;
    try {
      text = await readFile(join(dir, TOKENIZER_FILE), "utf-8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw e;
    }
    const fixture = JSON.parse(text) as { text_ctx?: unknown; cases?: unknown };
    if (!Array.isArray(fixture.cases)) throw new ParityCaseError(`${join(dir, TOKENIZER_FILE)}: no 'cases' array`);
    return fixture.cases.map((entry, i) => ({
      name: `tokenizer.${i}`,
      kind: "tokenizer",
      entry: { text_ctx: fixture.text_ctx, ...(entry as Record<string, unknown>) },
    }));
  },

  describe(c) {
    const text = JSON.stringify(c.entry.text);
    return text.length > 40 ? `${text.slice(0, 39)}…` : text;
  },

  async run(c) {
    const caption = stringField(c, "text");
    const textCtx = numberField(c, "text_ctx");
    const { tokens, mask } = tokenizeCaption(caption, textCtx);
    return [
      countCheck("ids", encodeText(caption), arrayField<number>(c, "ids")),
      countCheck("padded", tokens, arrayField<number>(c, "padded")),
      countCheck("mask", mask, arrayField<boolean>(c, "mask")),
    ];
  },
};

// The CLIP tokenizer case (`clip_tokenizer`, its `file` a JSON of cases): for each text, the ids,
// the padded ids, text_len and the cleaned text of CLIP's BPE tokenizer made from the directory's
// vocabulary file, compared exactly. One check per output counts the differences over all texts;
// each text that differs gets its own check too.
import { readFile } from "node:fs/promises";
import { CLIP_VOCABULARY_FILE, cleanClipText, loadClipTokenizer } from "glide-ts";
import { countCheck } from "../compare.ts";
import { optionalString, stringField } from "../manifest.ts";
import { type CaseKind, type OutputCheck, ParityCaseError } from "../types.ts";

interface TokenizerCase {
  text: string;
  ids: number[];
  padded?: number[];
  text_len?: number;
  cleaned?: string;
}

export const clipTokenizerKind: CaseKind = {
  kind: "clip_tokenizer",
  description: "CLIP's BPE tokenizer against the case's file (ids, padded, text_len, cleaned text; exact)",
  claims: (name) => name === "clip_tokenizer",

  async run(c, ctx) {
    const path = ctx.resolve(stringField(c, "file"));
    const fixture = JSON.parse(await readFile(path, "utf-8")) as { max_text_len?: unknown; cases?: unknown };
    if (!Array.isArray(fixture.cases)) throw new ParityCaseError(`${path}: no 'cases' array`);
    const maxLength = fixture.max_text_len;
    if (typeof maxLength !== "number") throw new ParityCaseError(`${path}: no 'max_text_len' number`);
    const tokenizer = await loadClipTokenizer(ctx.resolve(optionalString(c, "vocabulary") ?? CLIP_VOCABULARY_FILE));

    const totals = new Map<string, number>();
    const failing: OutputCheck[] = [];
    const tally = (check: OutputCheck, index: number) => {
      totals.set(check.output, (totals.get(check.output) ?? 0) + check.error);
      if (check.error > 0) failing.push({ ...check, output: `${check.output}[${index}]` });
    };
    (fixture.cases as TokenizerCase[]).forEach((entry, i) => {
      const ids = tokenizer.encode(entry.text);
      tally(countCheck("ids", ids, entry.ids), i);
      const { tokens, textLen } = tokenizer.pad(ids, maxLength);
      if (entry.padded) tally(countCheck("padded", tokens, entry.padded), i);
      if (entry.text_len !== undefined) tally(countCheck("text_len", [textLen], [entry.text_len]), i);
      if (entry.cleaned !== undefined) tally(countCheck("cleaned", [cleanClipText(entry.text)], [entry.cleaned]), i);
    });
    const summary = [...totals].map(
      ([output, error]): OutputCheck => ({ output, metric: "count", error, tolerance: 0 }),
    );
    return [...summary, ...failing];
  },

  describe: () => "texts of the case's file",
};

// The text repairs of ftfy's fix_text (version 6) that CLIP's cleaning step relies on, applied
// until the text no longer changes as ftfy does: HTML references (unless the text has a `<`),
// C1 controls read as Windows-1252, Latin ligatures, full-width characters, curly quotes, line
// breaks, lone surrogates, terminal escapes, control characters, then NFC. Not reproduced: ftfy's
// heuristic repair of mojibake (UTF-8 decoded as another encoding, "cafÃ©"), which keeps such
// text as it is here.
import { unescapeCompleteReferences, WINDOWS_1252_C1 } from "./html-unescape.ts";

const C1_CONTROL = /[\x80-\x9f]/g;
const LIGATURES: Record<string, string> = {
  Ĳ: "IJ",
  ĳ: "ij",
  ŉ: "ʼn",
  Ǳ: "DZ",
  ǲ: "Dz",
  ǳ: "dz",
  Ǆ: "DŽ",
  ǅ: "Dž",
  ǆ: "dž",
  Ǉ: "LJ",
  ǈ: "Lj",
  ǉ: "lj",
  Ǌ: "NJ",
  ǋ: "Nj",
  ǌ: "nj",
  ﬀ: "ff",
  ﬁ: "fi",
  ﬂ: "fl",
  ﬃ: "ffi",
  ﬄ: "ffl",
  ﬅ: "ſt",
  ﬆ: "st",
};
const LIGATURE = new RegExp(`[${Object.keys(LIGATURES).join("")}]`, "g");
/** The ideographic space and the full-width and half-width forms block. */
const WIDE_OR_NARROW = /[\u3000\uff01-\uffef]/g;
const SINGLE_QUOTE = /[\u02bc\u2018-\u201b]/g;
const DOUBLE_QUOTE = /[\u201c-\u201f]/g;
const LINE_BREAK = /\r\n?|[\u2028\u2029\u0085]/g;
const LONE_SURROGATE = /\p{Surrogate}/gu;
// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences start with ESC
const TERMINAL_ESCAPE = /\x1b\[[\d;]*[a-zA-Z]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\x00-\x08\x0b\x0e-\x1f\x7f\u206a-\u206f\ufeff\ufff9-\ufffc]/g;

/** A full-width character's NFKC form (its ASCII or half-width twin); U+3000 is a space. */
function narrow(char: string): string {
  return char === "\u3000" ? " " : char.normalize("NFKC");
}

function fixOnce(text: string): string {
  if (!text.includes("<")) text = unescapeCompleteReferences(text);
  return text
    .replace(C1_CONTROL, (c) => WINDOWS_1252_C1[c.charCodeAt(0) - 0x80]!)
    .replace(LIGATURE, (c) => LIGATURES[c]!)
    .replace(WIDE_OR_NARROW, narrow)
    .replace(SINGLE_QUOTE, "'")
    .replace(DOUBLE_QUOTE, '"')
    .replace(LINE_BREAK, "\n")
    .replace(LONE_SURROGATE, "\ufffd")
    .replace(TERMINAL_ESCAPE, "")
    .replace(CONTROL, "")
    .normalize("NFC");
}

/** ftfy.fix_text as far as described above. */
export function fixText(text: string): string {
  for (let i = 0; i < 16; i++) {
    const fixed = fixOnce(text);
    if (fixed === text) return fixed;
    text = fixed;
  }
  return text;
}

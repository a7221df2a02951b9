// CLIP's text cleaning before tokenizing (the reference's basic_clean, whitespace_clean and lower):
// ftfy's repairs, HTML references decoded twice more, whitespace runs folded to one space, trimmed,
// lower-cased. `\s` of the reference (the `regex` module) is Unicode's White_Space.
import { fixText } from "./fix-text.ts";
import { unescapeHtml } from "./html-unescape.ts";

const WHITESPACE_RUN = /\p{White_Space}+/gu;

export function cleanClipText(text: string): string {
  const basic = unescapeHtml(unescapeHtml(fixText(text)));
  // Folded, the only whitespace left is single spaces: trim exactly those (String.trim also takes U+FEFF).
  return basic.replace(WHITESPACE_RUN, " ").replace(/^ | $/g, "").toLowerCase();
}

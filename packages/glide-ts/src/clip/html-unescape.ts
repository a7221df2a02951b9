// HTML character references decoded the two ways CLIP's text cleaning does: Python's
// html.unescape (numeric references, names with or without `;` for the legacy ones, the longest
// legacy prefix of an unknown name) and ftfy's stricter pass (only complete `&name;` / `&#…;`).
import { HTML_ENTITIES, LEGACY_ENTITIES } from "./html-entities.ts";

/** Windows-1252's characters for the bytes 0x80–0x9F (the five bytes it leaves undefined map to themselves). */
export const WINDOWS_1252_C1 =
  "\u20ac\x81\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\x8d\u017d\x8f" +
  "\x90\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\x9d\u017e\u0178";

/** Code points a numeric reference may not produce (HTML): they decode to nothing. */
function isInvalidCodePoint(n: number): boolean {
  return (
    (n >= 0x1 && n <= 0x8) ||
    n === 0xb ||
    (n >= 0xe && n <= 0x1f) ||
    (n >= 0x7f && n <= 0x9f) ||
    (n >= 0xfdd0 && n <= 0xfdef) ||
    (n & 0xfffe) === 0xfffe
  );
}

function numericReference(digits: string, radix: 10 | 16): string {
  const n = Number.parseInt(digits, radix);
  if (n === 0) return "\ufffd";
  if (n === 0x0d) return "\r";
  if (n >= 0x80 && n <= 0x9f) return WINDOWS_1252_C1[n - 0x80]!;
  if ((n >= 0xd800 && n <= 0xdfff) || !(n <= 0x10ffff)) return "\ufffd";
  if (isInvalidCodePoint(n)) return "";
  return String.fromCodePoint(n);
}

const PYTHON_REFERENCE = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/gu;

function namedReference(reference: string): string {
  const name = reference.endsWith(";") ? reference.slice(0, -1) : null;
  const known = name === null ? LEGACY_ENTITIES.get(reference) : (HTML_ENTITIES.get(name) ?? LEGACY_ENTITIES.get(name));
  if (known !== undefined) return known;
  const chars = Array.from(reference);
  for (let length = chars.length - 1; length > 1; length--) {
    const prefix = LEGACY_ENTITIES.get(chars.slice(0, length).join(""));
    if (prefix !== undefined) return prefix + chars.slice(length).join("");
  }
  return `&${reference}`;
}

/** Python's html.unescape. */
export function unescapeHtml(text: string): string {
  if (!text.includes("&")) return text;
  return text.replace(PYTHON_REFERENCE, (_, reference: string) => {
    if (reference[0] !== "#") return namedReference(reference);
    const hex = reference[1] === "x" || reference[1] === "X";
    const digits = reference.slice(hex ? 2 : 1).replace(/;$/, "");
    return numericReference(digits, hex ? 16 : 10);
  });
}

const COMPLETE_REFERENCE = /&#?[0-9A-Za-z]{1,24};/g;

function completeNamedReference(name: string): string | undefined {
  const known = HTML_ENTITIES.get(name);
  if (known !== undefined) return known;
  // An upper-cased spelling of an all-lower-case name ("&NTILDE;") decodes to the upper-cased text.
  const lower = name.toLowerCase();
  if (name === name.toUpperCase() && lower !== name) {
    const text = HTML_ENTITIES.get(lower);
    if (text !== undefined) return text.toUpperCase();
  }
  return undefined;
}

/** ftfy's unescape_html: complete references only; a numeric one must consume its `;`. */
export function unescapeCompleteReferences(text: string): string {
  return text.replace(COMPLETE_REFERENCE, (match) => {
    if (match[1] !== "#") return completeNamedReference(match.slice(1, -1)) ?? match;
    const decoded = unescapeHtml(match);
    return decoded.includes(";") ? match : decoded;
  });
}

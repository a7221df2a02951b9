// Readable captions from emoji names, annotations and clip-art titles. Skin tones are kept (the
// images differ) and always phrased the same way: "waving hand, medium-light skin tone".

export const SKIN_TONES = ["light", "medium-light", "medium", "medium-dark", "dark"] as const;

/** "weary-face" / "weary_face" → "weary face". */
export function wordsFromSlug(slug: string): string {
  return tidy(slug.replace(/[-_]+/g, " "));
}

/** Collapses spaces and makes typographic quotes and apostrophes plain. */
export function tidy(text: string): string {
  return text.replace(/[‘’]/g, "'").replace(/[“”]/g, '"').replace(/\s+/g, " ").trim();
}

/** "waving hand" + ["light"] → "waving hand, light skin tone"; two tones → "…, light and dark skin tones". */
export function withTones(base: string, tones: readonly string[]): string {
  const distinct = [...new Set(tones)];
  if (distinct.length === 0) return base;
  if (distinct.length === 1) return `${base}, ${distinct[0]} skin tone`;
  const list = `${distinct.slice(0, -1).join(", ")} and ${distinct[distinct.length - 1]}`;
  return `${base}, ${list} skin tones`;
}

/**
 * An OpenMoji (Unicode CLDR) annotation: "woman tipping hand: light skin tone" → "woman tipping hand,
 * light skin tone"; "flag: Germany" → "flag of Germany"; "keycap: 1" → "keycap 1".
 */
export function annotationCaption(annotation: string): string {
  const text = tidy(annotation);
  const colon = text.indexOf(": ");
  if (colon < 0) return text;
  const base = text.slice(0, colon);
  const parts = text
    .slice(colon + 2)
    .split(",")
    .map((p) => p.trim());
  const tones: string[] = [];
  const rest: string[] = [];
  for (const part of parts) {
    const tone = /^(.*) skin tone$/.exec(part);
    if (tone) tones.push(tone[1]!);
    else rest.push(part);
  }
  let phrase = base;
  if (rest.length > 0) {
    if (base === "flag") phrase = `flag of ${rest.join(", ")}`;
    else if (base === "keycap") phrase = `keycap ${rest.join(", ")}`;
    else phrase = `${base}, ${rest.join(", ")}`;
  }
  return withTones(phrase, tones);
}

const TONE_NUMBER: Record<string, string> = {
  tone1: "light",
  tone2: "medium-light",
  tone3: "medium",
  tone4: "medium-dark",
  tone5: "dark",
};

/**
 * An Iconify emoji name → caption. Tones appear as "-light-skin-tone" (Noto, Twemoji; several for
 * two-person emoji), as "-tone1".."-tone5" (old Noto names), or as a bare "-light".."-dark" suffix
 * (Fluent), which counts only when `hasToneVariants(base)` says the base comes in several tones
 * (so "traffic-light" stays a traffic light).
 */
export function iconNameCaption(
  name: string,
  options: { isFlag?: boolean; hasToneVariants?: (base: string) => boolean } = {},
): string {
  const tones: string[] = [];
  // Tones can sit in the middle too ("man-dark-skin-tone-red-hair"): the rest become qualifiers.
  const pieces = name
    .replace(/-(light|medium-light|medium|medium-dark|dark)-skin-tone(?=-|$)|-(tone[1-5])$/g, (_, tone, numbered) => {
      tones.push(tone ?? TONE_NUMBER[numbered]!);
      return "|";
    })
    .split("|")
    .filter((piece) => piece !== "");
  let base = pieces[0] ?? name;
  if (tones.length === 0 && options.hasToneVariants) {
    const bare = /-(medium-light|medium-dark|light|medium|dark)$/.exec(base);
    if (bare && options.hasToneVariants(base.slice(0, bare.index))) {
      tones.push(bare[1]!);
      base = base.slice(0, bare.index);
    }
  }
  let phrase = wordsFromSlug(base);
  if (options.isFlag && phrase.startsWith("flag ") && !phrase.startsWith("flag of ")) {
    phrase = `flag of ${phrase.slice(5)}`;
  }
  const qualifiers = pieces.slice(1).map(wordsFromSlug);
  return withTones([phrase, ...qualifiers].join(", "), tones);
}

/**
 * "a"/"an" before a noun phrase that looks singular ("red flower" → "a red flower"). Deliberately
 * cautious: single words ("bread", "peru"), plurals, lists ("trinidad and tobago"), numbers and
 * phrases that already start with a determiner stay as they are.
 */
export function withArticle(phrase: string): string {
  const noun = phrase.split(",")[0]!;
  const words = noun.split(" ");
  const first = words[0] ?? "";
  // The head noun is usually the last word before a preposition: "map of europe" → "map".
  const head = noun.split(/ (?:of|with|in|on|at|for|from|by)\b/)[0]!;
  const last = head.split(" ").filter(Boolean).pop() ?? "";
  const determiners =
    /^(a|an|the|some|many|one|two|three|four|five|six|seven|eight|nine|ten|my|your|our|his|her|their)$/i;
  if (words.length < 2 || determiners.test(first) || /^\d/.test(first) || / and /.test(noun)) return phrase;
  if (/[^s]s$/i.test(last) && !/(ss|us|is|ics)$/i.test(last)) return phrase; // plural-looking
  return `${/^[aeiou]/i.test(first) ? "an" : "a"} ${phrase}`;
}

/** Lower-cases Title Case words ("Red Flower" → "red flower") but keeps acronyms ("LED", "USA"). */
export function lowerTitleCase(text: string): string {
  return text.replace(/\p{L}+/gu, (word) => (/^\p{Lu}\p{Ll}*$/u.test(word) ? word.toLowerCase() : word));
}

/** Caption identity for deduplication: case- and space-insensitive. */
export function captionKey(caption: string): string {
  return tidy(caption).toLowerCase();
}

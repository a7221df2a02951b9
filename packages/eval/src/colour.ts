// The colour test's measurement: the dominant hue of a picture drawn on white. Pure functions on
// 8-bit RGB bytes, so they are tested without a model.

export const COLOUR_NAMES = ["red", "orange", "yellow", "green", "blue", "purple"] as const;
export type ColourName = (typeof COLOUR_NAMES)[number];
/** "none": no pixel with a colour (a blank or grey picture). */
export type HueName = ColourName | "none";

/**
 * Upper ends of the hue bins in degrees; red wraps around 0° ([330°, 15°)). Set on the corpus's own
 * hearts: Twemoji's yellow (#FDCB58) sits at ~42°, so yellow starts at 40°; pinkish reds reach ~335°.
 */
const BIN_ENDS: readonly [number, ColourName][] = [
  [15, "red"],
  [40, "orange"],
  [70, "yellow"],
  [165, "green"],
  [255, "blue"],
  [330, "purple"],
  [360, "red"],
];

/**
 * Pixels below this saturation are background: white and near-white (the corpus is drawn on white)
 * and greys, whose hue is noise. Pale tints of a colour fall here too, which is what we want: the
 * test asks for the colour the model paints, not for its anti-aliased edges.
 */
export const MIN_SATURATION = 0.25;
/** Pixels darker than this (outlines, shadows) have no reliable hue either. */
export const MIN_VALUE = 0.2;
/**
 * A picture whose coloured pixels weigh less than this share of its pixel count has no dominant hue:
 * a few stray pixels on white are not a drawing.
 */
export const MIN_COLOURED_SHARE = 0.01;

/** The hue bin of an angle in degrees (any real; taken modulo 360). */
export function hueName(degrees: number): ColourName {
  const h = ((degrees % 360) + 360) % 360;
  for (const [end, name] of BIN_ENDS) if (h < end) return name;
  return "red";
}

/** HSV of an 8-bit RGB pixel: hue in degrees [0, 360), saturation and value in [0, 1]. */
export function rgbToHsv(r: number, g: number, b: number): { h: number; s: number; v: number } {
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const delta = max - min;
  const v = max / 255;
  const s = max === 0 ? 0 : delta / max;
  let h = 0;
  if (delta > 0) {
    if (max === r) h = 60 * (((g - b) / delta + 6) % 6);
    else if (max === g) h = 60 * ((b - r) / delta + 2);
    else h = 60 * ((r - g) / delta + 4);
  }
  return { h, s, v };
}

/** The saturation-weighted amount of each colour in a picture (RGB bytes, `channels` per pixel). */
export function hueWeights(pixels: ArrayLike<number>, channels = 3): Record<ColourName, number> {
  const weights = Object.fromEntries(COLOUR_NAMES.map((c) => [c, 0])) as Record<ColourName, number>;
  for (let i = 0; i + 2 < pixels.length; i += channels) {
    const { h, s, v } = rgbToHsv(pixels[i]!, pixels[i + 1]!, pixels[i + 2]!);
    if (s < MIN_SATURATION || v < MIN_VALUE) continue;
    weights[hueName(h)] += s;
  }
  return weights;
}

/** The colour with the most saturation-weighted pixels, or "none" when too little is coloured. */
export function dominantHue(pixels: ArrayLike<number>, channels = 3): HueName {
  const weights = hueWeights(pixels, channels);
  let best: HueName = "none";
  let bestWeight = 0;
  let total = 0;
  for (const name of COLOUR_NAMES) {
    total += weights[name];
    if (weights[name] > bestWeight) {
      best = name;
      bestWeight = weights[name];
    }
  }
  const pixelCount = Math.floor(pixels.length / channels);
  return total >= MIN_COLOURED_SHARE * pixelCount ? best : "none";
}

export interface ColourRow {
  prompt: string;
  colour: ColourName;
  /** The dominant hue of each sample, in order. */
  hues: HueName[];
  /** A strict majority of the samples has the named colour. */
  pass: boolean;
  /**
   * The same measure of the corpus's own pictures with the prompt as caption: what the model was
   * shown, so a miss the training pictures share is told from one they do not.
   */
  corpusHues: HueName[];
}

/** One prompt's verdict from its samples' dominant hues. */
export function colourRow(
  prompt: string,
  colour: ColourName,
  hues: readonly HueName[],
  corpusHues: readonly HueName[] = [],
): ColourRow {
  return { prompt, colour, hues: [...hues], pass: isMajority(hues, colour), corpusHues: [...corpusHues] };
}

/** More than half of `hues` are `colour`. */
export function isMajority(hues: readonly HueName[], colour: ColourName): boolean {
  const matching = hues.filter((h) => h === colour).length;
  return hues.length > 0 && matching * 2 > hues.length;
}

export interface ColourFigure {
  passed: number;
  total: number;
  /** Colours whose corpus pictures pass the same test: the measure's own ceiling on this corpus. */
  corpusPassed: number;
  rows: ColourRow[];
}

export function colourFigure(rows: readonly ColourRow[]): ColourFigure {
  return {
    passed: rows.filter((r) => r.pass).length,
    total: rows.length,
    corpusPassed: rows.filter((r) => isMajority(r.corpusHues, r.colour)).length,
    rows: [...rows],
  };
}

/** The colour test's prompts: "red heart" … "purple heart". */
export const COLOUR_PROMPTS: readonly { prompt: string; colour: ColourName }[] = COLOUR_NAMES.map((colour) => ({
  prompt: `${colour} heart`,
  colour,
}));

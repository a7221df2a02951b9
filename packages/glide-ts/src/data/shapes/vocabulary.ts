// The words of the synthetic `shapes` corpus and what each one draws: colours with their RGB,
// shapes, sizes and places. The corpus builder draws from them, the caption probe prompts with them
// and classifies samples against them, so the three agree by construction.

export const SHAPE_COLOURS = {
  red: [220, 30, 30],
  orange: [245, 130, 20],
  yellow: [240, 205, 20],
  green: [30, 160, 50],
  blue: [30, 80, 220],
  purple: [130, 40, 180],
  pink: [240, 110, 180],
  brown: [120, 70, 30],
  black: [25, 25, 25],
  gray: [140, 140, 140],
} as const satisfies Record<string, readonly [number, number, number]>;
export type ShapeColour = keyof typeof SHAPE_COLOURS;
export const SHAPE_COLOUR_NAMES = Object.keys(SHAPE_COLOURS) as ShapeColour[];

export const SHAPE_NAMES = ["circle", "square", "triangle", "star", "heart", "diamond", "ring", "cross"] as const;
export type ShapeName = (typeof SHAPE_NAMES)[number];

/** Side of the shape's bounding square, as a share of the picture's side. */
export const SHAPE_SIZES = { small: 0.36, big: 0.6 } as const;
export type ShapeSize = keyof typeof SHAPE_SIZES;
export const SHAPE_SIZE_NAMES = Object.keys(SHAPE_SIZES) as ShapeSize[];

export const PLACE_NAMES = ["middle", "left", "right", "top", "bottom"] as const;
export type PlaceName = (typeof PLACE_NAMES)[number];

/** The words a caption uses for a place. */
export const PLACE_PHRASES: Record<PlaceName, string> = {
  middle: "in the middle",
  left: "on the left",
  right: "on the right",
  top: "at the top",
  bottom: "at the bottom",
};

/**
 * Colour–shape pairs never drawn (alone or in a scene), so that composition can be measured: the
 * model has seen each word, never the two together.
 */
export const HELD_OUT_PAIRS: readonly (readonly [ShapeColour, ShapeName])[] = [
  ["blue", "star"],
  ["yellow", "heart"],
  ["green", "circle"],
  ["purple", "square"],
];

export function isHeldOut(colour: ShapeColour, shape: ShapeName): boolean {
  return HELD_OUT_PAIRS.some(([c, s]) => c === colour && s === shape);
}

/** The centre of a shape of `size` at `place`, in units of the picture's side (0…1). */
export function placeCentre(place: PlaceName, size: ShapeSize): [number, number] {
  // The shape's edge keeps a margin of 0.04 of the side from the picture's edge.
  const offset = 0.5 - SHAPE_SIZES[size] / 2 - 0.04;
  switch (place) {
    case "middle":
      return [0.5, 0.5];
    case "left":
      return [0.5 - offset, 0.5];
    case "right":
      return [0.5 + offset, 0.5];
    case "top":
      return [0.5, 0.5 - offset];
    case "bottom":
      return [0.5, 0.5 + offset];
  }
}

/**
 * The place whose region holds a point: "middle" within 0.08 of the centre on both axes (halfway to
 * where a big shape at a side has its centre), else the side it leans to most.
 */
export function placeOfPoint(x: number, y: number): PlaceName {
  const dx = x - 0.5;
  const dy = y - 0.5;
  if (Math.max(Math.abs(dx), Math.abs(dy)) < 0.08) return "middle";
  if (Math.abs(dx) >= Math.abs(dy)) return dx < 0 ? "left" : "right";
  return dy < 0 ? "top" : "bottom";
}

// The pictures of the synthetic `shapes` corpus: one coloured shape at a size and place, or two
// small shapes side by side or one above the other, each with a caption whose words explain its
// pixels. Deterministic for a seed; the held-out colour–shape pairs are never drawn.
import { Rng } from "../../util/rng.ts";
import { type PlacedShape, placeShape } from "./geometry.ts";
import {
  isHeldOut,
  PLACE_NAMES,
  PLACE_PHRASES,
  type PlaceName,
  SHAPE_COLOUR_NAMES,
  SHAPE_NAMES,
  SHAPE_SIZE_NAMES,
  type ShapeColour,
  type ShapeName,
  type ShapeSize,
} from "./vocabulary.ts";

/** How a two-object caption relates the object it names first to the one it names second. */
export type ShapeRelation = "left of" | "to the right of" | "above" | "below";

/**
 * The words a caption uses, for the tests and the caption probe to check pixels against: one
 * object with the size and place words the caption says (absent where its template leaves them
 * out, though the picture still has a size and place), or two objects in the order the caption
 * names them and the relation between them.
 */
export type ShapeSceneWords = SingleShapeWords | ShapePairWords;
export interface SingleShapeWords {
  kind: "single";
  colour: ShapeColour;
  shape: ShapeName;
  size?: ShapeSize;
  place?: PlaceName;
}
export interface ShapePairWords {
  kind: "pair";
  first: { colour: ShapeColour; shape: ShapeName };
  relation: ShapeRelation;
  second: { colour: ShapeColour; shape: ShapeName };
}

export interface ShapeScene {
  /** Filename-safe and unique in a corpus: `shapes-000123`. */
  id: string;
  caption: string;
  /** Drawn in order (the last on top); on white. */
  shapes: PlacedShape[];
  words: ShapeSceneWords;
}

export interface ShapeScenesOptions {
  count: number;
  seed: number;
  /** Share of two-object scenes (default 0.35). */
  sceneShare?: number;
  /**
   * Share of one-object captions that name the object's place. Unset: the caption is one of five
   * templates, two of which name it (0.4; the shipped models' corpus).
   */
  placeShare?: number;
}

/** Centre moves of up to ±JITTER and side scales of 1 ± SCALE_JITTER keep every word true. */
const JITTER = 0.03;
const SCALE_JITTER = 0.1;

export function generateShapeScenes(options: ShapeScenesOptions): ShapeScene[] {
  const { count, seed } = options;
  const sceneShare = options.sceneShare ?? 0.35;
  const rng = new Rng(seed);
  const pick = <T>(items: readonly T[]): T => items[rng.int(items.length)]!;
  const drawablePair = (): [ShapeColour, ShapeName] => {
    for (;;) {
      const colour = pick(SHAPE_COLOUR_NAMES);
      const shape = pick(SHAPE_NAMES);
      if (!isHeldOut(colour, shape)) return [colour, shape];
    }
  };
  const jitter = (placed: PlacedShape): PlacedShape => ({
    ...placed,
    cx: placed.cx + (2 * rng.uniform() - 1) * JITTER,
    cy: placed.cy + (2 * rng.uniform() - 1) * JITTER,
    side: placed.side * (1 + (2 * rng.uniform() - 1) * SCALE_JITTER),
  });

  const scenes: ShapeScene[] = [];
  for (let i = 0; i < count; i++) {
    const id = `shapes-${String(i).padStart(6, "0")}`;
    if (rng.uniform() >= sceneShare) {
      const [colour, shape] = drawablePair();
      const size = pick(SHAPE_SIZE_NAMES);
      const place = pick(PLACE_NAMES);
      const where = PLACE_PHRASES[place];
      const naming: [string, SingleShapeWords][] = [
        [`a ${size} ${colour} ${shape} ${where}`, { kind: "single", colour, shape, size, place }],
        [`a ${colour} ${shape} ${where}`, { kind: "single", colour, shape, place }],
      ];
      const notNaming: [string, SingleShapeWords][] = [
        [`a ${size} ${colour} ${shape}`, { kind: "single", colour, shape, size }],
        [`a ${colour} ${shape}`, { kind: "single", colour, shape }],
        [`${colour} ${shape}`, { kind: "single", colour, shape }],
      ];
      const [caption, words] =
        options.placeShare === undefined
          ? pick([...naming, ...notNaming])
          : pick(rng.uniform() < options.placeShare ? naming : notNaming);
      scenes.push({ id, caption, shapes: [jitter(placeShape(shape, colour, size, place))], words });
      continue;
    }
    const first = drawablePair();
    let second = drawablePair();
    while (second[0] === first[0] && second[1] === first[1]) second = drawablePair();
    const sideBySide = rng.uniform() < 0.5;
    const [firstPlace, secondPlace] = sideBySide ? (["left", "right"] as const) : (["top", "bottom"] as const);
    const a = { colour: first[0], shape: first[1] };
    const b = { colour: second[0], shape: second[1] };
    // Either object may be named first.
    const words = sideBySide
      ? pick<ShapePairWords>([
          { kind: "pair", first: a, relation: "left of", second: b },
          { kind: "pair", first: b, relation: "to the right of", second: a },
        ])
      : pick<ShapePairWords>([
          { kind: "pair", first: a, relation: "above", second: b },
          { kind: "pair", first: b, relation: "below", second: a },
        ]);
    const caption = `a ${words.first.colour} ${words.first.shape} ${words.relation} a ${words.second.colour} ${words.second.shape}`;
    scenes.push({
      id,
      caption,
      words,
      shapes: [
        jitter(placeShape(first[1], first[0], "small", firstPlace)),
        jitter(placeShape(second[1], second[0], "small", secondPlace)),
      ],
    });
  }
  return scenes;
}

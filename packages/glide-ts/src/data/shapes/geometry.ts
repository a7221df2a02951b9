// The outlines of the corpus shapes as polygons, in units of the shape's bounding square (centred
// on 0, side 1, y down), filled with the even-odd rule (the ring is two circles). One description
// serves the SVG the corpus renders and the pure-TypeScript rasterizer the caption probe and the
// tests compare samples against.
import {
  type PlaceName,
  placeCentre,
  SHAPE_COLOURS,
  SHAPE_SIZES,
  type ShapeColour,
  type ShapeName,
  type ShapeSize,
} from "./vocabulary.ts";

export type Polygon = readonly (readonly [number, number])[];

function regular(count: number, radius: (i: number) => number, turn = -Math.PI / 2): Polygon {
  return Array.from({ length: count }, (_, i) => {
    const angle = turn + (2 * Math.PI * i) / count;
    return [radius(i) * Math.cos(angle), radius(i) * Math.sin(angle)] as const;
  });
}

function heart(): Polygon {
  // The classic curve x = 16 sin³t, y = −(13 cos t − 5 cos 2t − 2 cos 3t − cos 4t), scaled to side 1.
  const points: [number, number][] = [];
  for (let i = 0; i < 72; i++) {
    const t = (2 * Math.PI * i) / 72;
    const x = 16 * Math.sin(t) ** 3;
    const y = -(13 * Math.cos(t) - 5 * Math.cos(2 * t) - 2 * Math.cos(3 * t) - Math.cos(4 * t));
    points.push([x / 33, (y - 2.5) / 33]);
  }
  return points;
}

const ARM = 0.17;
const OUTLINES: Record<ShapeName, readonly Polygon[]> = {
  circle: [regular(64, () => 0.5)],
  ring: [regular(64, () => 0.5), regular(64, () => 0.28)],
  square: [
    [
      [-0.42, -0.42],
      [0.42, -0.42],
      [0.42, 0.42],
      [-0.42, 0.42],
    ],
  ],
  triangle: [
    [
      [0, -0.47],
      [0.5, 0.43],
      [-0.5, 0.43],
    ],
  ],
  diamond: [
    [
      [0, -0.5],
      [0.4, 0],
      [0, 0.5],
      [-0.4, 0],
    ],
  ],
  star: [regular(10, (i) => (i % 2 === 0 ? 0.52 : 0.21)).map(([x, y]) => [x, y + 0.04] as const)],
  cross: [
    [
      [-ARM, -0.5],
      [ARM, -0.5],
      [ARM, -ARM],
      [0.5, -ARM],
      [0.5, ARM],
      [ARM, ARM],
      [ARM, 0.5],
      [-ARM, 0.5],
      [-ARM, ARM],
      [-0.5, ARM],
      [-0.5, -ARM],
      [-ARM, -ARM],
    ],
  ],
  heart: [heart()],
};

/** One shape placed in a picture: centre and side in units of the picture's side. */
export interface PlacedShape {
  shape: ShapeName;
  colour: ShapeColour;
  cx: number;
  cy: number;
  side: number;
}

export function placeShape(shape: ShapeName, colour: ShapeColour, size: ShapeSize, place: PlaceName): PlacedShape {
  const [cx, cy] = placeCentre(place, size);
  return { shape, colour, cx, cy, side: SHAPE_SIZES[size] };
}

/** The shape's polygons in picture units (0…1). */
export function shapePolygons(placed: PlacedShape): Polygon[] {
  return OUTLINES[placed.shape].map((polygon) =>
    polygon.map(([x, y]) => [placed.cx + x * placed.side, placed.cy + y * placed.side] as const),
  );
}

/** Even-odd inside test of a point against a set of polygons. */
export function insidePolygons(polygons: readonly Polygon[], x: number, y: number): boolean {
  let inside = false;
  for (const polygon of polygons) {
    for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
      const [xi, yi] = polygon[i]!;
      const [xj, yj] = polygon[j]!;
      if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
  }
  return inside;
}

const hex = (rgb: readonly number[]) => `#${rgb.map((v) => v.toString(16).padStart(2, "0")).join("")}`;

/** An SVG of the shapes on white, viewBox 0 0 100 100. */
export function sceneSvg(shapes: readonly PlacedShape[]): string {
  const paths = shapes.map((placed) => {
    const d = shapePolygons(placed)
      .map((polygon) => `M${polygon.map(([x, y]) => `${(x * 100).toFixed(3)} ${(y * 100).toFixed(3)}`).join("L")}Z`)
      .join("");
    return `<path d="${d}" fill="${hex(SHAPE_COLOURS[placed.colour])}" fill-rule="evenodd"/>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100" width="100" height="100"><rect width="100" height="100" fill="#ffffff"/>${paths.join("")}</svg>`;
}

/**
 * The scene as RGB bytes (side × side × 3) on white, each pixel the mean of `samples`² points, so
 * edges are anti-aliased like a renderer's.
 */
export function rasterizeScene(shapes: readonly PlacedShape[], side: number, samples = 4): Uint8Array {
  const out = new Uint8Array(side * side * 3).fill(255);
  const polygons = shapes.map(shapePolygons);
  for (let py = 0; py < side; py++) {
    for (let px = 0; px < side; px++) {
      const rgb = [0, 0, 0];
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const x = (px + (sx + 0.5) / samples) / side;
          const y = (py + (sy + 0.5) / samples) / side;
          let colour: readonly number[] = [255, 255, 255];
          for (let k = shapes.length - 1; k >= 0; k--) {
            if (insidePolygons(polygons[k]!, x, y)) {
              colour = SHAPE_COLOURS[shapes[k]!.colour];
              break;
            }
          }
          for (let c = 0; c < 3; c++) rgb[c]! += colour[c]!;
        }
      }
      const i = (py * side + px) * 3;
      for (let c = 0; c < 3; c++) out[i + c] = Math.round(rgb[c]! / (samples * samples));
    }
  }
  return out;
}

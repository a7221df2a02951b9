// The released CLIP's shapes (`clip_official_shapes`, its `file` a JSON with the reference config
// and, per released checkpoint, its parameter count and every key with its shape): this project's
// released configuration must equal the reference's, and the towers it builds must have exactly
// those keys, in that order, with those shapes — so the released checkpoints load as they are.
import { readFile } from "node:fs/promises";
import { type ClipTower, clipParameterShapes, releasedClipConfig } from "glide-ts";
import { countCheck, exactCheck } from "../compare.ts";
import { stringField } from "../manifest.ts";
import { type CaseKind, type OutputCheck, ParityCaseError } from "../types.ts";

/** The released checkpoints' names (as `glide download` knows them) and their towers. */
const RELEASED: Record<string, ClipTower> = { "clip/text-enc": "text_encoder", "clip/image-enc": "image_encoder" };

interface ReleasedShapes {
  params?: unknown;
  keys?: Record<string, number[]>;
}

export const clipShapesKind: CaseKind = {
  kind: "clip_shapes",
  description: "the released CLIP configuration and every key and shape of clip/text-enc and clip/image-enc",
  claims: (name) => name === "clip_official_shapes",

  async run(c, ctx) {
    const path = ctx.resolve(stringField(c, "file"));
    const file = JSON.parse(await readFile(path, "utf-8")) as Record<string, unknown>;
    const ours = releasedClipConfig() as unknown as Record<string, unknown>;
    const reference = (file.config ?? {}) as Record<string, unknown>;
    const keys = [...new Set([...Object.keys(ours), ...Object.keys(reference)])];
    const checks: OutputCheck[] = [
      countCheck(
        "config",
        keys.map((k) => ours[k]),
        keys.map((k) => reference[k]),
      ),
    ];
    const shapes = clipParameterShapes(releasedClipConfig());
    for (const [name, tower] of Object.entries(RELEASED)) {
      const released = file[name] as ReleasedShapes | undefined;
      if (!released?.keys) throw new ParityCaseError(`${path}: no keys for '${name}'`);
      const built = shapes[tower];
      const expected = Object.entries(released.keys);
      checks.push(
        countCheck(
          `${name} keys`,
          [...built.keys()],
          expected.map(([k]) => k),
        ),
      );
      const shapeText = (s: readonly number[] | undefined) => (s ? s.join("×") : "none");
      checks.push(
        countCheck(
          `${name} shapes`,
          expected.map(([k]) => shapeText(built.get(k))),
          expected.map(([, s]) => shapeText(s)),
        ),
      );
      const count = [...built.values()].reduce((n, s) => n + s.reduce((a, b) => a * b, 1), 0);
      if (typeof released.params === "number") checks.push(exactCheck(`${name} params`, count, released.params));
    }
    return checks;
  },
};

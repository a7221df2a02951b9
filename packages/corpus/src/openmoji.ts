// OpenMoji (npm `openmoji`): data/openmoji.json annotates every emoji; color/svg/<HEXCODE>.svg draws it.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { annotationCaption } from "./captions.ts";
import { packageDir } from "./package-files.ts";
import type { CorpusItem, License, SourceCatalog } from "./types.ts";
import { safeId } from "./types.ts";

interface OpenmojiEntry {
  hexcode: string;
  annotation: string;
  group: string;
  openmoji_author?: string;
}

const LICENSES: Record<string, License> = {
  "CC-BY-SA-4.0": {
    title: "CC BY-SA 4.0",
    spdx: "CC-BY-SA-4.0",
    url: "https://creativecommons.org/licenses/by-sa/4.0/",
  },
};

export async function loadOpenmoji(): Promise<SourceCatalog> {
  const dir = packageDir("openmoji");
  const pkg = JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as { version: string; license: string };
  const license = LICENSES[pkg.license];
  if (!license)
    throw new Error(`openmoji ${pkg.version} declares licence ${pkg.license}, which this builder does not know`);
  const entries = JSON.parse(await readFile(join(dir, "data", "openmoji.json"), "utf8")) as OpenmojiEntry[];
  const items: CorpusItem[] = [];
  const excluded: SourceCatalog["excluded"] = [];
  for (const entry of entries) {
    const svgPath = join(dir, "color", "svg", `${entry.hexcode}.svg`);
    if (!existsSync(svgPath)) {
      excluded.push({ origin: entry.hexcode, reason: "no SVG in the package" });
      continue;
    }
    items.push({
      source: "openmoji",
      id: safeId(entry.hexcode),
      caption: annotationCaption(entry.annotation),
      svgPath,
      cropToContent: false,
      license,
      origin: `color/svg/${entry.hexcode}.svg`,
      author: entry.openmoji_author || undefined,
    });
  }
  return {
    source: "openmoji",
    title: `OpenMoji ${pkg.version}`,
    author: "OpenMoji contributors (HfG Schwäbisch Gmünd)",
    homepage: "https://openmoji.org/",
    license,
    items,
    excluded,
  };
}

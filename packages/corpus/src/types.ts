// What a corpus source provides: items to render, each with its caption and licence.

export const SOURCE_NAMES = ["shapes", "openmoji", "noto", "fluent-emoji", "twemoji", "openclipart"] as const;
export type SourceName = (typeof SOURCE_NAMES)[number];

export interface License {
  /** Human-readable name, e.g. "CC BY-SA 4.0". */
  title: string;
  /** SPDX identifier where one exists. */
  spdx: string;
  url: string;
}

export interface CorpusItem {
  source: SourceName;
  /** Unique within the source, filename-safe ([a-z0-9_-]): the file name of the rendered image. */
  id: string;
  caption: string;
  /** The SVG text, or where to read it. */
  svg?: string;
  svgPath?: string;
  /** Crop to the drawing's bounding box (clip art drawn on a page) instead of the whole canvas. */
  cropToContent: boolean;
  license: License;
  /** Where it came from inside the package: a file path or an icon name. */
  origin: string;
  author?: string;
}

export interface SourceCatalog {
  source: SourceName;
  /** e.g. "OpenMoji 17.0.0". */
  title: string;
  author: string;
  homepage: string;
  license: License;
  items: CorpusItem[];
  /** Entries the source holds but that were left out, and why (e.g. GPL-licensed clip art). */
  excluded: { origin: string; reason: string }[];
  /** Items share captions on purpose (each picture differs): keep them all, not one per caption. */
  captionsRepeat?: boolean;
  /** A line for ATTRIBUTION.md about where the pictures and captions come from, where the usual one does not fit. */
  notice?: string;
}

/** A source that is not installed here (e.g. Debian's openclipart-svg): skipped with this message. */
export class SourceUnavailable extends Error {
  override name = "SourceUnavailable";
}

/** A filename-safe id: lower case, runs of other characters → "-". */
export function safeId(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

// Iconify emoji sets (npm @iconify-json/noto, fluent-emoji, twemoji): icons.json holds each icon's
// SVG body and size, info.json the set's author and licence; icon names become captions.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { iconNameCaption, SKIN_TONES } from "./captions.ts";
import { packageDir } from "./package-files.ts";
import type { CorpusItem, SourceCatalog, SourceName } from "./types.ts";
import { safeId } from "./types.ts";

interface IconifyIcon {
  body: string;
  left?: number;
  top?: number;
  width?: number;
  height?: number;
  hidden?: boolean;
}

interface IconifyAlias {
  parent: string;
  hFlip?: boolean;
  vFlip?: boolean;
  rotate?: number;
  hidden?: boolean;
}

export interface IconifySet {
  prefix: string;
  icons: Record<string, IconifyIcon>;
  aliases?: Record<string, IconifyAlias>;
  left?: number;
  top?: number;
  width?: number;
  height?: number;
}

interface IconifyInfo {
  name: string;
  author: { name: string; url: string };
  license: { title: string; spdx: string; url: string };
}

/** A standalone SVG document for an icon, applying an alias's flips and quarter-turn rotation. */
export function iconSvg(set: IconifySet, icon: IconifyIcon, transform: Omit<IconifyAlias, "parent"> = {}): string {
  const left = icon.left ?? set.left ?? 0;
  const top = icon.top ?? set.top ?? 0;
  const width = icon.width ?? set.width ?? 16;
  const height = icon.height ?? set.height ?? 16;
  const transforms: string[] = [];
  const cx = left + width / 2;
  const cy = top + height / 2;
  if (transform.rotate) transforms.push(`rotate(${90 * transform.rotate} ${cx} ${cy})`);
  if (transform.hFlip || transform.vFlip) {
    const sx = transform.hFlip ? -1 : 1;
    const sy = transform.vFlip ? -1 : 1;
    transforms.push(`translate(${cx} ${cy}) scale(${sx} ${sy}) translate(${-cx} ${-cy})`);
  }
  const body = transforms.length > 0 ? `<g transform="${transforms.join(" ")}">${icon.body}</g>` : icon.body;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" ` +
    `width="${width}" height="${height}" viewBox="${left} ${top} ${width} ${height}">${body}</svg>`
  );
}

/**
 * The visible icons of a set, plus aliases that flip or rotate their parent (a distinct image).
 * Hidden icons (kept by Iconify only for old names) and plain aliases (another name for the same
 * image) are left out.
 */
export async function loadIconifySet(
  source: SourceName & ("noto" | "fluent-emoji" | "twemoji"),
): Promise<SourceCatalog> {
  const dir = packageDir(`@iconify-json/${source}`, "icons.json");
  const set = JSON.parse(await readFile(join(dir, "icons.json"), "utf8")) as IconifySet;
  const info = JSON.parse(await readFile(join(dir, "info.json"), "utf8")) as IconifyInfo;
  const pkg = JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as { version: string };
  const chars = JSON.parse(await readFile(join(dir, "chars.json"), "utf8")) as Record<string, string>;
  const license = { title: info.license.title, spdx: info.license.spdx, url: info.license.url };
  const visible = new Map<string, { icon: IconifyIcon; transform: Omit<IconifyAlias, "parent"> }>();
  for (const [name, icon] of Object.entries(set.icons)) if (!icon.hidden) visible.set(name, { icon, transform: {} });
  for (const [name, alias] of Object.entries(set.aliases ?? {})) {
    const parent = set.icons[alias.parent];
    const { parent: _, hidden, ...transform } = alias;
    if (parent && !hidden && (transform.hFlip || transform.vFlip || transform.rotate)) {
      visible.set(name, { icon: parent, transform });
    }
  }
  // Regional-indicator pairs and tag sequences starting with a black flag are flags.
  const flags = new Set(
    Object.entries(chars)
      .filter(([code]) => /^(1f1e[6-9a-f]|1f1f[0-9a-f]|1f3f4-e00)/.test(code))
      .map(([, name]) => name),
  );
  const hasToneVariants = (base: string) => SKIN_TONES.filter((t) => visible.has(`${base}-${t}`)).length >= 3;
  const items: CorpusItem[] = [];
  for (const [name, { icon, transform }] of [...visible].sort(([a], [b]) => (a < b ? -1 : 1))) {
    items.push({
      source,
      id: safeId(name),
      caption: iconNameCaption(name, { isFlag: flags.has(name), hasToneVariants }),
      svg: iconSvg(set, icon, transform),
      cropToContent: false,
      license,
      origin: `${set.prefix}:${name}`,
      author: info.author.name,
    });
  }
  return {
    source,
    title: `${info.name} (@iconify-json/${source} ${pkg.version})`,
    author: info.author.name,
    homepage: info.author.url,
    license,
    items,
    excluded: [],
  };
}

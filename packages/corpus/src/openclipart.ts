// Debian's openclipart-svg: ~7,500 public-domain drawings under /usr/share/openclipart/svg, sorted into
// topic folders, each with Dublin Core metadata (title, keywords, creator, licence) inside the SVG.
import { createHash } from "node:crypto";
import type { Dirent } from "node:fs";
import { readdir, readFile, realpath, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { lowerTitleCase, tidy, withArticle, wordsFromSlug } from "./captions.ts";
import type { CorpusItem, License, SourceCatalog } from "./types.ts";
import { SourceUnavailable, safeId } from "./types.ts";

export const OPENCLIPART_DIR = "/usr/share/openclipart/svg";

const PUBLIC_DOMAIN: License = {
  title: "Public Domain (Creative Commons Public Domain Dedication)",
  spdx: "LicenseRef-PublicDomain",
  url: "https://creativecommons.org/licenses/publicdomain/",
};

/** Licence URIs found in the files that mean public domain; anything else (a few GPL files) is left out. */
const PUBLIC_DOMAIN_URIS = new Set([
  "",
  "http://web.resource.org/cc/PublicDomain",
  "http://creativecommons.org/licenses/publicdomain/",
  "http://creativecommons.org/publicdomain/zero/1.0/",
]);

export interface ClipartMetadata {
  title: string;
  keywords: string[];
  creator: string;
  license: string;
}

/** Reads the Dublin Core metadata of an openclipart SVG (regular expressions: the files are flat RDF). */
export function clipartMetadata(svg: string): ClipartMetadata {
  const work = /<cc:Work\b[\s\S]*?<\/cc:Work>/.exec(svg)?.[0] ?? svg;
  const title = decodeEntities(/<dc:title>([^<]*)<\/dc:title>/.exec(work)?.[1] ?? "");
  const subject = /<dc:subject>([\s\S]*?)<\/dc:subject>/.exec(work)?.[1] ?? "";
  const keywords = [...subject.matchAll(/<rdf:li>([^<]*)<\/rdf:li>/g)]
    .map((m) => decodeEntities(m[1]!))
    .filter(Boolean);
  const creator = decodeEntities(/<dc:creator>[\s\S]*?<dc:title>([^<]*)<\/dc:title>/.exec(work)?.[1] ?? "");
  const license = /<cc:license\s+rdf:resource="([^"]*)"/.exec(work)?.[1] ?? "";
  return { title: tidy(title), keywords, creator: tidy(creator), license };
}

function decodeEntities(text: string): string {
  return text
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_, n) => String.fromCodePoint(Number(n)))
    .replace(/&amp;/g, "&");
}

/** Titles naming a collection rather than the drawing ("Lemon SVG theme", "Part of the Flat Icon Collection …"). */
const COLLECTION_TITLE = /^(part of the .*collection.*|.*\btheme|various cliparts?|.*icons?(et)?|.*collection.*)$/i;
/** Keywords and folder names that say nothing about the picture. */
const NOISE_WORDS = new Set(
  "hash icon icons theme themes computer unsorted clipart clip art svg image picture drawing lemon_theme_icon special misc mapsym media action actions apps stock devices mimetypes filesystems filesystem application subnational sign signs_and_symbols symbol".split(
    " ",
  ),
);

export interface ClipartCaptionInput {
  title: string;
  keywords: string[];
  creator: string;
  /** Folders under svg/, outermost first. */
  folders: string[];
  /** File name without ".svg". */
  stem: string;
  /** The title is shared by many files (a collection name): describe the file name instead. */
  genericTitle: boolean;
}

/**
 * "Red Flower" → "a red flower"; a drawing titled after its collection is described by its file
 * name instead ("laptop_charge" → "laptop charge"); up to two keywords or the folder name not
 * already in the phrase are appended for context: "acquila, bird".
 */
export function clipartCaption(input: ClipartCaptionInput): string {
  const special = describeStem(input.stem);
  let subject = special ?? "";
  if (!subject) {
    const title = input.title.replace(/^clipart by .*? - /i, "");
    const usable = !input.genericTitle && !COLLECTION_TITLE.test(title) && /\p{L}{2}/u.test(title);
    const fromTitle = cleanPhrase(title);
    subject = usable ? fromTitle : cleanPhrase(input.stem);
    // A file name of codes ("sm_012", "70a003") says less than even a collection's title.
    if (!/\p{L}{3}/u.test(subject)) subject = /\p{L}{3}/u.test(fromTitle) ? fromTitle : cleanPhrase(input.stem);
  }
  const creatorWords = new Set(input.creator.toLowerCase().split(/\W+/).filter(Boolean));
  const have = new Set(
    subject
      .toLowerCase()
      .split(/[^\p{L}\p{N}]+/u)
      .map(singular),
  );
  const context: string[] = [];
  // Keywords first; the innermost folder names only when no keyword adds anything.
  const candidates = [...input.keywords, "", ...[...input.folders].reverse()];
  for (const candidate of candidates) {
    if (context.length === 2 || (candidate === "" && context.length > 0)) break;
    const raw = wordsFromSlug(candidate.toLowerCase());
    if (raw === "" || NOISE_WORDS.has(candidate.toLowerCase()) || NOISE_WORDS.has(raw)) continue;
    // Icon theme folders ("flat-theme") say what the picture is: an icon.
    const phrase = raw.replace(/^.* theme$/, "icon");
    const words = phrase.split(" ");
    if (words.some((w) => creatorWords.has(w)) || !/\p{L}{2}/u.test(phrase)) continue;
    if (words.every((w) => have.has(singular(w)))) continue;
    for (const w of words) have.add(singular(w));
    context.push(phrase);
  }
  const head = special ?? withArticle(subject);
  return [head, ...context].join(", ");
}

/** Title or file name → plain words: "Dog 04 Drawn With Straight Lines" → "dog drawn with straight lines". */
function cleanPhrase(text: string): string {
  let phrase = text
    .replace(/([a-z])([A-Z])/g, "$1 $2") // camelCase
    .replace(/#\d+/g, "") // "blue man#202"
    .replace(/[-_.]+/g, " ")
    .replace(/\((b ?(and|&) ?w|bw)\)|\bbw\b/gi, ", black and white")
    .replace(/[()[\]]/g, ", ")
    .replace(/\b0\d+\b/g, "") // zero-padded numbering: "dog 04"
    .replace(/\b\d*[a-z]+\d+[a-z]*\d*\b/gi, (w) => (/^\d*[a-z]+\d+$/i.test(w) ? w.replace(/\d+$/, "") : "")) // "boat1" → "boat"; "74pt17step" dropped
    .replace(/\s+\d+\s*$/, ""); // trailing number: "jigsaw red 10"
  phrase = lowerTitleCase(tidy(phrase.replace(/\s*,\s*/g, ", ").replace(/(, )+/g, ", ")));
  return phrase.replace(/^,\s*|,\s*$/g, "").trim();
}

const SUITS: Record<string, string> = { c: "clubs", d: "diamonds", h: "hearts", s: "spades" };
const RANKS: Record<string, string> = { a: "ace", j: "jack", q: "queen", k: "king" };

/** File names that encode the picture better than any title: stars and playing cards. */
function describeStem(stem: string): string | undefined {
  const star = /^star_(\d+)pt/.exec(stem);
  if (star) return `a star with ${Number(star[1])} points`;
  const card = /^([a-z]+)_([cdhs])_(a|j|q|k|\d+)$/.exec(stem);
  if (card) {
    const rank = RANKS[card[3]!] ?? card[3]!;
    return `the ${rank} of ${SUITS[card[2]!]!}, ${card[1]} playing card`;
  }
  return undefined;
}

function singular(word: string): string {
  return word.length > 3 && word.endsWith("s") && !word.endsWith("ss") ? word.slice(0, -1) : word;
}

interface ClipartFile {
  path: string;
  relativePath: string;
  svg: string;
  metadata: ClipartMetadata;
}

/** Every distinct drawing (copies and symlinks in several folders count once, under their first path). */
export async function loadOpenclipart(root = OPENCLIPART_DIR): Promise<SourceCatalog> {
  try {
    if (!(await stat(root)).isDirectory()) throw new Error("not a folder");
  } catch {
    throw new SourceUnavailable(
      `openclipart: ${root} not found (install Debian's openclipart-svg: apt-get install openclipart-svg)`,
    );
  }
  const paths = (await listSvgs(root)).sort();
  const byContent = new Map<string, ClipartFile>();
  const seenReal = new Set<string>();
  for (const path of paths) {
    const real = await realpath(path);
    if (seenReal.has(real)) continue;
    seenReal.add(real);
    const svg = await readFile(path, "utf8");
    const hash = createHash("sha1").update(svg).digest("hex");
    if (byContent.has(hash)) continue;
    byContent.set(hash, {
      path,
      relativePath: relative(root, path).split(sep).join("/"),
      svg,
      metadata: clipartMetadata(svg),
    });
  }
  const files = [...byContent.values()];
  const titleCounts = new Map<string, number>();
  for (const f of files) {
    const t = f.metadata.title.toLowerCase();
    titleCounts.set(t, (titleCounts.get(t) ?? 0) + 1);
  }
  const items: CorpusItem[] = [];
  const excluded: SourceCatalog["excluded"] = [];
  const usedIds = new Set<string>();
  for (const file of files) {
    const { metadata, relativePath } = file;
    if (!PUBLIC_DOMAIN_URIS.has(metadata.license)) {
      excluded.push({ origin: relativePath, reason: `licence ${metadata.license} is not public domain` });
      continue;
    }
    const parts = relativePath.replace(/\.svg$/i, "").split("/");
    const stem = parts.pop()!;
    // File names differing only in punctuation ("viewmag+", "viewmag-") would share an id.
    let id = safeId(relativePath.replace(/\.svg$/i, "").replace(/\//g, "--"));
    if (usedIds.has(id)) id = `${id}-${createHash("sha1").update(relativePath).digest("hex").slice(0, 8)}`;
    usedIds.add(id);
    items.push({
      source: "openclipart",
      id,
      caption: clipartCaption({
        ...metadata,
        folders: parts,
        stem,
        genericTitle: (titleCounts.get(metadata.title.toLowerCase()) ?? 0) >= 5,
      }),
      svgPath: file.path,
      cropToContent: true,
      license: PUBLIC_DOMAIN,
      origin: relativePath,
      author: metadata.creator || undefined,
    });
  }
  return {
    source: "openclipart",
    title: "Open Clip Art Library (Debian openclipart-svg)",
    author: "Open Clip Art Library contributors",
    homepage: "https://openclipart.org/",
    license: PUBLIC_DOMAIN,
    items,
    excluded,
  };
}

async function listSvgs(dir: string): Promise<string[]> {
  const found: string[] = [];
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return found;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await listSvgs(path)));
    else if (/\.svg$/i.test(entry.name) && (entry.isFile() || entry.isSymbolicLink())) found.push(path);
  }
  return found;
}

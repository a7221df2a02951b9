// Which tar shards a WebDataset spec names: a path, a list, brace ranges ("train-{000..009}.tar",
// the WebDataset convention) and wildcards in the file name ("shards/train-*.tar").
import { readdir, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { DatasetError } from "./dataset.ts";

/** Every shard the spec names, checked to exist; patterns' matches are sorted by name. */
export async function resolveShards(spec: string | readonly string[]): Promise<string[]> {
  const patterns = (typeof spec === "string" ? [spec] : [...spec]).flatMap(expandBraces);
  if (patterns.length === 0) throw new DatasetError("no tar shards given");
  const shards: string[] = [];
  for (const pattern of patterns) {
    if (/[*?[]/.test(basename(pattern))) {
      const matches = await matchWildcard(pattern);
      if (matches.length === 0) throw new DatasetError(`no tar shards match ${pattern}`);
      shards.push(...matches);
    } else {
      try {
        if (!(await stat(pattern)).isFile()) throw new Error("not a file");
      } catch (error) {
        throw new DatasetError(`cannot read tar shard ${pattern}: ${(error as Error).message}`);
      }
      shards.push(pattern);
    }
  }
  return shards;
}

/** "a{1..3}b" → a1b a2b a3b (zero padding kept: {08..10} → 08 09 10); "{x,y}" → x y. */
export function expandBraces(pattern: string): string[] {
  const match = /\{([^{}]*)\}/.exec(pattern);
  if (!match) return [pattern];
  const head = pattern.slice(0, match.index);
  const tail = pattern.slice(match.index + match[0].length);
  const body = match[1]!;
  let options: string[];
  const range = /^(\d+)\.\.(\d+)$/.exec(body);
  if (range) {
    const [from, to] = [Number(range[1]), Number(range[2])];
    const width = range[1]!.length;
    options = [];
    for (let i = from; i <= to; i++) options.push(String(i).padStart(width, "0"));
  } else {
    options = body.split(",");
  }
  return options.flatMap((option) => expandBraces(head + option + tail));
}

async function matchWildcard(pattern: string): Promise<string[]> {
  const dir = dirname(pattern);
  const regex = new RegExp(
    `^${basename(pattern)
      .replace(/[.+^${}()|\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
  );
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    throw new DatasetError(`cannot read shard folder ${dir}: ${(error as Error).message}`);
  }
  return names
    .filter((name) => regex.test(name))
    .sort()
    .map((name) => join(dir, name));
}

// Reads one WebDataset tar shard as a stream of samples: consecutive files sharing a key
// ("dir/000123.png" + "dir/000123.txt" → key "dir/000123") form one sample.
import { createReadStream } from "node:fs";
import { PassThrough, pipeline } from "node:stream";
import { createGunzip } from "node:zlib";
import tar from "tar-stream";
import { DatasetError } from "./dataset.ts";

const IMAGE_EXTS = new Set(["png", "jpg", "jpeg", "webp"]);

/** One sample's files as stored: image bytes and caption text, either possibly missing. */
export interface RawSample {
  key: string;
  image?: Uint8Array;
  caption?: string;
}

/** Splits a member name at the first dot of its file name: "a/b.c.png" → ["a/b", "c.png"]. */
export function splitMemberName(name: string): { key: string; ext: string } {
  const slash = name.lastIndexOf("/");
  const dot = name.indexOf(".", slash + 1);
  if (dot < 0) return { key: name, ext: "" };
  return { key: name.slice(0, dot), ext: name.slice(dot + 1).toLowerCase() };
}

/**
 * The samples of a shard in stored order, after the first `skip` (whose bodies are drained unread).
 * A truncated or corrupt archive throws a DatasetError naming the shard.
 */
export async function* readShard(path: string, skip = 0): AsyncGenerator<RawSample> {
  const extract = tar.extract();
  const gzipped = /\.(tgz|tar\.gz)$/i.test(path);
  let streamError: Error | undefined;
  const source = createReadStream(path);
  pipeline(source, gzipped ? createGunzip() : new PassThrough(), extract, (error) => {
    if (error) streamError = error;
  });
  let current: RawSample | undefined;
  let index = 0;
  try {
    for await (const entry of extract) {
      const { name, type } = entry.header;
      if (type !== "file" && type !== "contiguous-file") {
        entry.resume();
        continue;
      }
      const { key, ext } = splitMemberName(name);
      if (current === undefined || key !== current.key) {
        if (current !== undefined) {
          if (index >= skip) yield current;
          index++;
        }
        current = { key };
      }
      const wanted = index >= skip && (IMAGE_EXTS.has(ext) || ext === "txt");
      if (!wanted) {
        entry.resume();
        continue;
      }
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks);
      if (ext === "txt") current.caption = body.toString("utf8");
      else if (current.image === undefined) current.image = body;
    }
    if (current !== undefined && index >= skip) yield current;
  } catch (error) {
    throw new DatasetError(`cannot read tar shard ${path}: ${(streamError ?? (error as Error)).message}`);
  } finally {
    source.destroy();
    extract.destroy();
  }
  if (streamError) throw new DatasetError(`cannot read tar shard ${path}: ${streamError.message}`);
}

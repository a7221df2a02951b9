// The CLIP vocabulary file as the tokenizer takes it: bpe_simple_vocab_16e6.txt.gz (or the plain
// text) from bytes, or from a location the platform reads (a path in Node, a URL in a browser).
// Decompression uses the standard DecompressionStream (Node 18+, every current browser).
import { platform } from "../platform/platform.ts";
import { ClipError } from "./errors.ts";
import { ClipTokenizer } from "./tokenizer.ts";

const GZIP_MAGIC = [0x1f, 0x8b];

/** The vocabulary's text from the file's bytes, gunzipped when they are gzip. */
export async function clipVocabularyText(bytes: Uint8Array, label = "CLIP vocabulary"): Promise<string> {
  if (bytes[0] !== GZIP_MAGIC[0] || bytes[1] !== GZIP_MAGIC[1]) return new TextDecoder().decode(bytes);
  try {
    const stream = new Blob([new Uint8Array(bytes)]).stream().pipeThrough(new DecompressionStream("gzip"));
    return await new Response(stream).text();
  } catch (error) {
    throw new ClipError(`${label}: not a readable gzip file (${(error as Error).message})`);
  }
}

/** A tokenizer from the vocabulary file's bytes, or from its location. */
export async function loadClipTokenizer(source: string | Uint8Array): Promise<ClipTokenizer> {
  const label = typeof source === "string" ? source : "CLIP vocabulary bytes";
  let bytes: Uint8Array;
  if (typeof source === "string") {
    try {
      bytes = await platform().files.readBytes(source);
    } catch (error) {
      throw new ClipError(`${label}: cannot read the CLIP vocabulary (${(error as Error).message})`);
    }
  } else {
    bytes = source;
  }
  try {
    return ClipTokenizer.fromVocabulary(await clipVocabularyText(bytes, label));
  } catch (error) {
    if (error instanceof ClipError && !error.message.startsWith(label))
      throw new ClipError(`${label}: ${error.message}`);
    throw error;
  }
}

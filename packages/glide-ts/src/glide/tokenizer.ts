/**
 * GLIDE's caption tokenizer: GPT-2 byte-level BPE (50257 tokens) over the lower-cased caption,
 * padded to `text_ctx` with the end token, plus a mask of the real tokens.
 *
 * It reproduces the reference `Encoder` of glide-text2im (glide_text2im/tokenizer/bpe.py):
 * - the caption is only lower-cased (Python's `str.lower`): no strip, no whitespace folding, no
 *   ftfy or HTML unescaping; `<|endoftext|>` inside a caption is ordinary text;
 * - it is split into pieces by GPT-2's pattern, where `\s` means Unicode White_Space as in
 *   Python's `regex` module (JavaScript's `\s` differs: it includes U+FEFF and lacks U+0085);
 * - each piece's UTF-8 bytes are merged by GPT-2's merge list: the lowest-ranked listed pair,
 *   all of its occurrences left to right, until no listed pair is left.
 *
 * The vocabulary is js-tiktoken's `r50k_base` (GPT-2's tokens by id). It has no merge list, so
 * the merge that made each token is recovered from the ids (see `recoverMergeSplits`).
 */

import r50kBase from "js-tiktoken/ranks/r50k_base";
import { GlideError } from "../errors.ts";
import { bpeMerge } from "../util/bpe.ts";
import { checkNonNegativeInteger } from "../validate.ts";

/** GPT-2's `<|endoftext|>`: pads captions to `text_ctx`; the last id of the vocabulary. */
export const END_TOKEN = 50256;
/** Size of the vocabulary, end token included (the reference `n_vocab`); defined with the configuration. */
export { N_VOCAB } from "./config.ts";

/**
 * GPT-2's pre-tokenizer pattern with `\s` spelled as `\p{White_Space}`, which is what `\s` means
 * in Python's `regex` module; `'s|'t|…` are matched case-sensitively but the text is lower-case.
 */
const PIECE_PATTERN =
  /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\p{White_Space}\p{L}\p{N}]+|\p{White_Space}+(?!\P{White_Space})|\p{White_Space}+/gu;

/** A surrogate that is not half of a pair: Python cannot UTF-8-encode it either. */
const LONE_SURROGATE = /\p{Surrogate}/u;

const MAX_CACHED_PIECES = 65536;

/**
 * Tokens are keyed by their bytes as a "binary string": one char per byte, codes 0–255.
 * `splitAt[id]` is where the merge that created token `id` joins its two halves (a byte offset);
 * single bytes have 0.
 */
interface Vocabulary {
  ids: Map<string, number>;
  splitAt: Uint16Array;
  pieceCache: Map<string, number[]>;
}

let vocabulary: Vocabulary | undefined;

function getVocabulary(): Vocabulary {
  vocabulary ??= loadVocabulary();
  return vocabulary;
}

function loadVocabulary(): Vocabulary {
  const ids = new Map<string, number>();
  for (const line of r50kBase.bpe_ranks.split("\n")) {
    if (line === "") continue;
    const [, offsetText, ...tokens] = line.split(" ");
    const offset = Number.parseInt(offsetText ?? "", 10);
    tokens.forEach((token, i) => {
      ids.set(atob(token), offset + i);
    });
  }
  const end = r50kBase.special_tokens["<|endoftext|>"];
  if (ids.size !== END_TOKEN || end !== END_TOKEN) {
    throw new Error(
      `js-tiktoken r50k_base: expected ${END_TOKEN} BPE tokens and <|endoftext|> = ${END_TOKEN}, ` +
        `got ${ids.size} tokens and <|endoftext|> = ${end}`,
    );
  }
  for (let byte = 0; byte < 256; byte++) {
    if (!ids.has(String.fromCharCode(byte))) {
      throw new Error(`js-tiktoken r50k_base: byte ${byte} has no token`);
    }
  }
  return { ids, splitAt: recoverMergeSplits(ids), pieceCache: new Map() };
}

/**
 * GPT-2's merge list, recovered from token ids. Token ids 256… are the merges in list order, so
 * the merge that made a token of id r joined two tokens made before it: merging the token's own
 * bytes with only the tokens of id < r (always the lowest-id adjacent pair whose concatenation is
 * such a token) stops at exactly those two halves. Checked against the reference vocab.bpe: all
 * 50000 merges are recovered.
 */
function recoverMergeSplits(ids: Map<string, number>): Uint16Array {
  const splitAt = new Uint16Array(END_TOKEN);
  for (const [token, id] of ids) {
    if (token.length < 2) continue;
    const parts = Array.from(token);
    while (parts.length > 2) {
      let best = id;
      let at = -1;
      for (let i = 0; i < parts.length - 1; i++) {
        const joined = ids.get(parts[i]! + parts[i + 1]!);
        if (joined !== undefined && joined < best) {
          best = joined;
          at = i;
        }
      }
      if (at < 0) throw new Error(`js-tiktoken r50k_base: token ${id} cannot be built from earlier tokens`);
      parts.splice(at, 2, parts[at]! + parts[at + 1]!);
    }
    splitAt[id] = parts[0]!.length;
  }
  return splitAt;
}

/** The rank of the merge `left + right` in GPT-2's merge list, or Infinity if it isn't one. */
function mergeRank(vocab: Vocabulary, left: string, right: string): number {
  const id = vocab.ids.get(left + right);
  return id !== undefined && vocab.splitAt[id] === left.length ? id : Number.POSITIVE_INFINITY;
}

/** BPE of one piece (a binary string of its UTF-8 bytes), as the reference `Encoder.bpe`. */
function encodePiece(vocab: Vocabulary, piece: string): number[] {
  const whole = vocab.ids.get(piece);
  if (whole !== undefined) return [whole];
  const cached = vocab.pieceCache.get(piece);
  if (cached !== undefined) return cached;

  const word = bpeMerge(Array.from(piece), (left, right) => mergeRank(vocab, left, right));
  const ids = word.map((part) => vocab.ids.get(part)!);
  if (vocab.pieceCache.size >= MAX_CACHED_PIECES) vocab.pieceCache.clear();
  vocab.pieceCache.set(piece, ids);
  return ids;
}

const utf8 = new TextEncoder();

function utf8BinaryString(text: string): string {
  let binary = "";
  for (const byte of utf8.encode(text)) binary += String.fromCharCode(byte);
  return binary;
}

/** A prompt or caption that cannot be tokenized. */
export class PromptError extends GlideError {
  override name = "PromptError";
}

/** Why `text` cannot be tokenized (an unpaired UTF-16 surrogate has no UTF-8 form), or null. */
export function unencodableText(text: string): string | null {
  const surrogate = LONE_SURROGATE.exec(text);
  if (surrogate === null) return null;
  return `it holds an unpaired UTF-16 surrogate at index ${surrogate.index}; expected text that can be encoded as UTF-8`;
}

/** GPT-2 BPE ids of the lower-cased caption (the reference `tokenizer.encode`); no padding. */
export function encodeText(text: string): number[] {
  const problem = unencodableText(text);
  if (problem !== null) throw new PromptError(`the prompt cannot be read: ${problem}`);
  const vocab = getVocabulary();
  const ids: number[] = [];
  for (const match of text.toLowerCase().matchAll(PIECE_PATTERN)) {
    for (const id of encodePiece(vocab, utf8BinaryString(match[0]))) ids.push(id);
  }
  return ids;
}

/**
 * The first `textCtx` ids, padded with END_TOKEN to `textCtx`, and a mask that is true for the real
 * tokens (the reference `padded_tokens_and_mask`).
 */
export function paddedTokensAndMask(ids: number[], textCtx: number): { tokens: number[]; mask: boolean[] } {
  checkNonNegativeInteger(textCtx, "text_ctx");
  const kept = ids.slice(0, textCtx);
  const padding = textCtx - kept.length;
  return {
    tokens: [...kept, ...new Array<number>(padding).fill(END_TOKEN)],
    mask: [...new Array<boolean>(kept.length).fill(true), ...new Array<boolean>(padding).fill(false)],
  };
}

/** A caption as the text encoder takes it: `textCtx` token ids and the mask of real tokens. */
export function tokenizeCaption(text: string, textCtx: number): { tokens: number[]; mask: boolean[] } {
  return paddedTokensAndMask(encodeText(text), textCtx);
}

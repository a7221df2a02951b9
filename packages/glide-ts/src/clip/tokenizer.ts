// CLIP's BPE tokenizer (the reference's SimpleTokenizer): cleaned, lower-cased text split into
// pieces, each piece's UTF-8 bytes spelled with GPT-2's byte symbols, `</w>` attached to the last
// symbol, and merged by the vocabulary's ranked merge list. 49,408 ids: 256 byte symbols, the same
// with `</w>`, 48,894 merges, then <|startoftext|> and <|endoftext|>. The vocabulary file
// (bpe_simple_vocab_16e6.txt) is given as text: it is downloaded, not part of this project.
import { bpeMerge } from "../util/bpe.ts";
import { byteSymbols, VOCABULARY_SYMBOLS } from "./byte-symbols.ts";
import { cleanClipText } from "./clean-text.ts";
import { ClipError } from "./errors.ts";

export const CLIP_VOCABULARY_FILE = "bpe_simple_vocab_16e6.txt.gz";
export const CLIP_MERGES = 48894;
export const CLIP_VOCAB_SIZE = 512 + CLIP_MERGES + 2;
export const CLIP_START_TOKEN = CLIP_VOCAB_SIZE - 2;
export const CLIP_END_TOKEN = CLIP_VOCAB_SIZE - 1;
const START_TEXT = "<|startoftext|>";
const END_TEXT = "<|endoftext|>";
const END_OF_WORD = "</w>";

/** The reference's pattern with `\s` as Unicode White_Space; the special tokens are matched literally. */
const PIECE = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\p{White_Space}\p{L}\p{N}]+/giu;

const MAX_CACHED_PIECES = 65536;

/** A text as the CLIP text tower takes it. */
export interface ClipTokens {
  /** `[start] + ids[: maxLength − 2] + [end]`, then zeros up to maxLength. */
  tokens: number[];
  /** Tokens before the padding, start and end included (the position read is textLen − 1). */
  textLen: number;
}

export class ClipTokenizer {
  private readonly utf8 = new TextEncoder();
  private readonly cache = new Map<string, number[]>();

  private constructor(
    private readonly ids: ReadonlyMap<string, number>,
    private readonly ranks: ReadonlyMap<string, number>,
  ) {}

  /** From the text of bpe_simple_vocab_16e6.txt (a version line, then one merge "a b" per line). */
  static fromVocabulary(text: string): ClipTokenizer {
    const lines = text.split("\n");
    if (lines.length < CLIP_MERGES + 1) {
      throw new ClipError(
        `CLIP vocabulary: expected a version line and ${CLIP_MERGES} merges, got ${lines.length} lines`,
      );
    }
    // As the reference's dict(zip(vocab, range(…))): a repeated entry keeps its last id.
    const ids = new Map<string, number>();
    let next = 0;
    const add = (symbol: string) => ids.set(symbol, next++);
    for (const symbol of VOCABULARY_SYMBOLS) add(symbol);
    for (const symbol of VOCABULARY_SYMBOLS) add(symbol + END_OF_WORD);
    const ranks = new Map<string, number>();
    for (let i = 1; i <= CLIP_MERGES; i++) {
      const parts = lines[i]!.split(" ");
      if (parts.length !== 2 || parts[0] === "" || parts[1] === "") {
        throw new ClipError(
          `CLIP vocabulary: line ${i + 1} is not a merge of two symbols: ${JSON.stringify(lines[i])}`,
        );
      }
      ranks.set(`${parts[0]} ${parts[1]}`, i - 1);
      add(parts[0]! + parts[1]!);
    }
    add(START_TEXT);
    add(END_TEXT);
    return new ClipTokenizer(ids, ranks);
  }

  /** The ids of a text (the reference's `encode`): no start or end token, no padding. */
  encode(text: string): number[] {
    const out: number[] = [];
    for (const match of cleanClipText(text).matchAll(PIECE)) {
      for (const id of this.encodePiece(match[0])) out.push(id);
    }
    return out;
  }

  /** The reference's padded_tokens_and_len. */
  pad(ids: readonly number[], maxLength: number): ClipTokens {
    if (!Number.isInteger(maxLength) || maxLength < 2) {
      throw new ClipError(`CLIP text length must be an integer of at least 2, got ${maxLength}`);
    }
    const tokens = [CLIP_START_TOKEN, ...ids.slice(0, maxLength - 2), CLIP_END_TOKEN];
    const textLen = tokens.length;
    while (tokens.length < maxLength) tokens.push(0);
    return { tokens, textLen };
  }

  tokenize(text: string, maxLength: number): ClipTokens {
    return this.pad(this.encode(text), maxLength);
  }

  private encodePiece(piece: string): number[] {
    if (piece === START_TEXT) return [CLIP_START_TOKEN];
    if (piece === END_TEXT) return [CLIP_END_TOKEN];
    const cached = this.cache.get(piece);
    if (cached) return cached;
    const word = this.merge(byteSymbols(piece, this.utf8));
    const ids = word.map((symbol) => this.ids.get(symbol)!);
    if (this.cache.size >= MAX_CACHED_PIECES) this.cache.clear();
    this.cache.set(piece, ids);
    return ids;
  }

  /** BPE: merge the lowest-ranked listed pair, every occurrence left to right, until none is left. */
  private merge(symbols: string[]): string[] {
    symbols[symbols.length - 1] += END_OF_WORD;
    return bpeMerge(symbols, (left, right) => this.ranks.get(`${left} ${right}`) ?? Number.POSITIVE_INFINITY);
  }
}

// GPT-2's byte-to-symbol table, which CLIP's BPE also uses: the printable bytes (! … ~, ¡ … ¬,
// ® … ÿ) stand for themselves, every other byte for the code point 256 + its rank among them.

const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);

function buildTable(): string[] {
  const table = new Array<string>(256);
  let next = 256;
  for (let b = 0; b < 256; b++) table[b] = String.fromCodePoint(printable(b) ? b : next++);
  return table;
}

/** Symbol of each byte value. */
export const BYTE_SYMBOLS: readonly string[] = buildTable();

/** The symbols in the vocabulary's order: the printable bytes' first, then the others', each by byte value. */
export const VOCABULARY_SYMBOLS: readonly string[] = [
  ...BYTE_SYMBOLS.filter((_, b) => printable(b)),
  ...BYTE_SYMBOLS.filter((_, b) => !printable(b)),
];

/** The symbols that stand for the UTF-8 bytes of `text`, one per byte. */
export function byteSymbols(text: string, encoder: TextEncoder): string[] {
  return Array.from(encoder.encode(text), (b) => BYTE_SYMBOLS[b]!);
}

// The byte-pair merge loop both tokenizers share (GPT-2's for GLIDE, CLIP's): repeatedly merge the
// lowest-ranked adjacent pair, every occurrence left to right, until no listed pair is left.

/** `rank(left, right)`: the pair's merge rank, Infinity when it is not a listed merge. */
export function bpeMerge(symbols: string[], rank: (left: string, right: string) => number): string[] {
  let word = symbols;
  while (word.length > 1) {
    let best = Number.POSITIVE_INFINITY;
    let first = "";
    let second = "";
    for (let i = 0; i < word.length - 1; i++) {
      const r = rank(word[i]!, word[i + 1]!);
      if (r < best) {
        best = r;
        first = word[i]!;
        second = word[i + 1]!;
      }
    }
    if (best === Number.POSITIVE_INFINITY) break;
    const merged: string[] = [];
    for (let i = 0; i < word.length; ) {
      if (i < word.length - 1 && word[i] === first && word[i + 1] === second) {
        merged.push(first + second);
        i += 2;
      } else {
        merged.push(word[i]!);
        i += 1;
      }
    }
    word = merged;
  }
  return word;
}

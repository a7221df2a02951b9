// CLIP's BPE tokenizer against the reference's outputs, and its vocabulary file handling.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { gunzipSync } from "node:zlib";
import { cleanClipText } from "../../packages/glide-ts/src/clip/clean-text.ts";
import { ClipError } from "../../packages/glide-ts/src/clip/errors.ts";
import {
  CLIP_END_TOKEN,
  CLIP_START_TOKEN,
  CLIP_VOCAB_SIZE,
  ClipTokenizer,
} from "../../packages/glide-ts/src/clip/tokenizer.ts";
import { clipVocabularyText, loadClipTokenizer } from "../../packages/glide-ts/src/clip/vocabulary.ts";
import { clipFixturePath, fixtureTokenizer, VOCABULARY } from "./fixtures.ts";

interface Case {
  text: string;
  ids: number[];
  padded: number[];
  text_len: number;
  cleaned: string;
}
const fixture = JSON.parse(readFileSync(clipFixturePath("clip_tokenizer.json"), "utf-8")) as {
  max_text_len: number;
  cases: Case[];
};

test("the reference's ids, padded ids, lengths and cleaned texts", async () => {
  const tokenizer = await fixtureTokenizer();
  assert.ok(fixture.cases.length >= 10);
  for (const c of fixture.cases) {
    assert.equal(cleanClipText(c.text), c.cleaned, JSON.stringify(c.text));
    const ids = tokenizer.encode(c.text);
    assert.deepEqual(ids, c.ids, JSON.stringify(c.text));
    assert.deepEqual(tokenizer.tokenize(c.text, fixture.max_text_len), { tokens: c.padded, textLen: c.text_len });
  }
});

test("the vocabulary's size and special tokens", async () => {
  const tokenizer = await fixtureTokenizer();
  assert.equal(CLIP_VOCAB_SIZE, 49408);
  assert.deepEqual(tokenizer.encode("<|startoftext|><|endoftext|>"), [CLIP_START_TOKEN, CLIP_END_TOKEN]);
  assert.deepEqual(tokenizer.tokenize("", 5), { tokens: [CLIP_START_TOKEN, CLIP_END_TOKEN, 0, 0, 0], textLen: 2 });
  const long = tokenizer.tokenize("one two three four five six", 4);
  assert.equal(long.textLen, 4);
  assert.deepEqual(long.tokens.slice(1, 3), tokenizer.encode("one two"));
  assert.equal(long.tokens[3], CLIP_END_TOKEN);
  assert.throws(() => tokenizer.pad([], 1), ClipError);
});

test("the vocabulary from gzip bytes, from its plain text, or from its path is the same", async () => {
  const gz = new Uint8Array(readFileSync(VOCABULARY));
  const text = gunzipSync(gz).toString("utf-8");
  assert.equal(await clipVocabularyText(gz), text);
  const fromText = ClipTokenizer.fromVocabulary(text);
  const fromPlainBytes = await loadClipTokenizer(new TextEncoder().encode(text));
  const fromPath = await fixtureTokenizer();
  const sample = "A café, two ﬁsh & 3 dogs!";
  for (const t of [fromText, fromPlainBytes]) assert.deepEqual(t.encode(sample), fromPath.encode(sample));
});

test("a vocabulary that is not one fails with a ClipError naming it", async () => {
  assert.throws(() => ClipTokenizer.fromVocabulary("#version: 0.2\ni n\n"), /expected a version line and 48894 merges/);
  const lines = ["#version", ...Array.from({ length: 48894 }, () => "a b")];
  lines[7] = "abc";
  assert.throws(() => ClipTokenizer.fromVocabulary(lines.join("\n")), /line 8 is not a merge/);
  const gz = new Uint8Array(readFileSync(VOCABULARY)).slice(0, 1000);
  await assert.rejects(loadClipTokenizer(gz), (e: unknown) => e instanceof ClipError && /gzip/.test(String(e)));
  await assert.rejects(loadClipTokenizer("/no/such/vocab.txt.gz"), /\/no\/such\/vocab\.txt\.gz: cannot read/);
});

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { Tiktoken } from "js-tiktoken/lite";
import r50kBase from "js-tiktoken/ranks/r50k_base";
import { isUserError } from "../../packages/glide-ts/src/errors.ts";
import {
  END_TOKEN,
  encodeText,
  N_VOCAB,
  paddedTokensAndMask,
  tokenizeCaption,
} from "../../packages/glide-ts/src/glide/tokenizer.ts";
import { fixturePath } from "../fixtures.ts";

interface TokenizerCase {
  text: string;
  ids: number[];
  padded: number[];
  mask: boolean[];
}

interface TokenizerFixture {
  text_ctx: number;
  n_vocab: number;
  end_token: number;
  cases: TokenizerCase[];
}

const fixture: TokenizerFixture = JSON.parse(readFileSync(fixturePath("tokenizer.json"), "utf8"));

test("fixture vocabulary size and end token match", () => {
  assert.equal(N_VOCAB, fixture.n_vocab);
  assert.equal(END_TOKEN, fixture.end_token);
  assert.ok(fixture.cases.length > 0);
});

test("every case of tokenizer.json matches the reference", async (t) => {
  for (const c of fixture.cases) {
    await t.test(JSON.stringify(c.text).slice(0, 60), () => {
      assert.deepEqual(encodeText(c.text), c.ids, "ids");
      const padded = paddedTokensAndMask(c.ids, fixture.text_ctx);
      assert.deepEqual(padded.tokens, c.padded, "padded");
      assert.deepEqual(padded.mask, c.mask, "mask");
      assert.deepEqual(tokenizeCaption(c.text, fixture.text_ctx), { tokens: c.padded, mask: c.mask });
    });
  }
});

test("the fixture covers non-ASCII, repeated spaces, the empty caption and truncation", () => {
  const texts = fixture.cases.map((c) => c.text);
  assert.ok(texts.some((text) => [...text].some((ch) => ch.codePointAt(0)! > 0x7f)));
  assert.ok(texts.some((text) => text.includes("  ")));
  assert.ok(texts.includes(""));
  assert.ok(fixture.cases.some((c) => c.ids.length > fixture.text_ctx));
});

test("a caption longer than text_ctx keeps its first text_ctx tokens, all real", () => {
  const caption = "a painting of a fox in the snow, ".repeat(10);
  const ids = encodeText(caption);
  assert.ok(ids.length > 40);
  for (const textCtx of [1, 16, 40]) {
    const { tokens, mask } = tokenizeCaption(caption, textCtx);
    assert.deepEqual(tokens, ids.slice(0, textCtx));
    assert.deepEqual(mask, new Array(textCtx).fill(true));
  }
  assert.deepEqual(paddedTokensAndMask([5, 6, 7, 8], 2), { tokens: [5, 6], mask: [true, true] });
});

test("a caption exactly text_ctx long has no padding", () => {
  const ids = encodeText("a corgi wearing a red bowtie");
  assert.deepEqual(paddedTokensAndMask(ids, ids.length), { tokens: ids, mask: new Array(ids.length).fill(true) });
});

test("the empty caption is all padding with the mask all false", () => {
  assert.deepEqual(encodeText(""), []);
  for (const textCtx of [fixture.text_ctx, 128]) {
    const { tokens, mask } = tokenizeCaption("", textCtx);
    assert.deepEqual(tokens, new Array(textCtx).fill(END_TOKEN));
    assert.deepEqual(mask, new Array(textCtx).fill(false));
  }
  assert.deepEqual(tokenizeCaption("", 0), { tokens: [], mask: [] });
});

test("paddedTokensAndMask leaves its input alone and rejects a bad text_ctx", () => {
  const ids = [1, 2, 3];
  paddedTokensAndMask(ids, 8).tokens[0] = 99;
  paddedTokensAndMask(ids, 2);
  assert.deepEqual(ids, [1, 2, 3]);
  for (const bad of [-1, 1.5, Number.NaN]) {
    assert.throws(() => paddedTokensAndMask(ids, bad), /text_ctx must be a non-negative integer/);
  }
});

// Expected ids below were computed with the reference glide_text2im Encoder.
test("the caption is only lower-cased: no strip, no whitespace folding", () => {
  assert.deepEqual(encodeText("IT'S A DOG'S LIFE"), [270, 338, 257, 3290, 338, 1204]);
  assert.deepEqual(encodeText("it's a dog's life"), [270, 338, 257, 3290, 338, 1204]);
  assert.deepEqual(encodeText("a corgi"), [64, 1162, 12397]);
  assert.deepEqual(encodeText(" a corgi"), [257, 1162, 12397]);
  assert.deepEqual(encodeText("tab\there\n\nx  "), [8658, 197, 1456, 198, 198, 87, 220, 220]);
  assert.deepEqual(encodeText(" ΟΔΟΣ"), [7377, 123, 138, 112, 26517, 35558]);
  assert.deepEqual(encodeText("İ"), [72, 136, 229]);
});

test("<|endoftext|> inside a caption is ordinary text", () => {
  assert.deepEqual(encodeText("hello <|endoftext|>"), [31373, 1279, 91, 437, 1659, 5239, 91, 29]);
});

test("whitespace is Unicode White_Space as in Python's regex (U+0085 is, U+FEFF is not)", () => {
  // JavaScript's \s (and so js-tiktoken's own encoder) gets these two wrong.
  assert.deepEqual(encodeText("a \u0085b"), [64, 220, 126, 227, 65]);
  assert.deepEqual(encodeText("a \ufeffb"), [64, 27332, 119, 123, 65]);
  assert.deepEqual(encodeText("dog\u0085\u0085 cat"), [9703, 126, 227, 126, 227, 3797]);
});

test("agrees with js-tiktoken's r50k_base on ordinary captions", () => {
  const reference = new Tiktoken(r50kBase);
  const captions = [
    "an oil painting of a corgi wearing a party hat",
    "a surrealist dream-like oil painting by salvador dalí of a cat playing checkers",
    "a hedgehog using a calculator, 3d render, 4k, trending on artstation!!!",
    "zwölf boxkämpfer jagen viktor quer über den großen sylter deich",
    "东京的夜景 — 🌃✨ 1,000,000 lights",
    "x".repeat(300),
  ];
  for (const caption of captions) assert.deepEqual(encodeText(caption), reference.encode(caption));
});

test("an unpaired surrogate is refused with a clear message", () => {
  assert.throws(
    () => encodeText("dog \ud83d cat"),
    (error: Error) => isUserError(error) && /unpaired UTF-16 surrogate at index 4/.test(error.message),
  );
  assert.doesNotThrow(() => encodeText("dog \ud83d\udc15 cat"));
});

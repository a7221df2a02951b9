// CLIP's text cleaning: Python's html.unescape, ftfy's repairs as far as they are reproduced, and
// the whitespace and case folding.
import assert from "node:assert/strict";
import { test } from "node:test";
import { cleanClipText } from "../../packages/glide-ts/src/clip/clean-text.ts";
import { fixText } from "../../packages/glide-ts/src/clip/fix-text.ts";
import { unescapeCompleteReferences, unescapeHtml } from "../../packages/glide-ts/src/clip/html-unescape.ts";

test("html.unescape: numeric and named references as Python decodes them", () => {
  const cases: [string, string][] = [
    ["&amp; &lt;b&gt; &quot;", '& <b> "'],
    ["&amp &copy 2024", "& © 2024"],
    ["&ampx", "&x"],
    ["&notit; &notin;", "¬it; ∉"],
    ["&#39;&#x27;&#X41;", "''A"],
    ["&#0;&#128;&#x9f;&#13;", "\ufffd€Ÿ\r"],
    ["a&#1;b&#x7f;c", "abc"],
    ["&#xD800;&#1114112;", "\ufffd\ufffd"],
    ["&bogus; & &#; &apos;", "&bogus; & &#; '"],
    ["&AMP; &AMP", "& &"],
  ];
  for (const [text, expected] of cases) assert.equal(unescapeHtml(text), expected, text);
});

test("ftfy's pass decodes complete references only", () => {
  assert.equal(unescapeCompleteReferences("&amp;amp; &amp &#x41 &#65;"), "&amp; &amp &#x41 A");
  assert.equal(unescapeCompleteReferences("&NTILDE; &ETH; &eth;"), "Ñ Ð ð");
  assert.equal(unescapeCompleteReferences("&nosuch;"), "&nosuch;");
});

test("fixText: ligatures, widths, quotes, C1 controls, escapes and control characters", () => {
  assert.equal(fixText("ﬁne ﬂour ĳs"), "fine flour ijs");
  assert.equal(fixText("ＦＵＬＬ　ｗｉｄｔｈ！ ｶﾀｶﾅ"), "FULL width! カタカナ");
  assert.equal(fixText("‘single’ “double” ‛rev‟"), "'single' \"double\" 'rev\"");
  assert.equal(fixText("\x93quoted\x94 \x80"), '"quoted" €');
  assert.equal(fixText("\x1b[31mred\x1b[0m"), "red");
  assert.equal(fixText("a\x00b\x07c\ufeffd\u200be"), "abcd\u200be");
  assert.equal(fixText("line\r\nbreak\rhere"), "line\nbreak\nhere");
  assert.equal(fixText("e\u0301"), "é");
  assert.equal(fixText("lone \ud800 surrogate"), "lone \ufffd surrogate");
  assert.equal(fixText("&amp;amp;amp;"), "&");
  assert.equal(fixText("<b>&amp;</b>"), "<b>&amp;</b>", "text with '<' is taken for HTML and not unescaped");
});

test("cleaning folds whitespace, trims and lower-cases", () => {
  assert.equal(cleanClipText("  A\u00a0\u2003B\t\n C  "), "a b c");
  assert.equal(cleanClipText("<B>&amp;amp;</B>"), "<b>&</b>");
  assert.equal(cleanClipText(""), "");
});

// The eval report's colour-test lines count the corpus pictures' hues instead of listing each one.
import assert from "node:assert/strict";
import { test } from "node:test";
import { hueCounts } from "../../packages/eval/src/format-report.ts";

test("corpus hues are counted, the commonest first", () => {
  const hues = [...Array(58).fill("red"), "orange", "red", "none"];
  assert.equal(hueCounts(hues), "59 red, 1 orange, 1 none of 61");
  assert.equal(hueCounts(["blue"]), "1 blue of 1");
});

// Captions made readable from emoji names, CLDR annotations and clip-art metadata.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { annotationCaption, iconNameCaption, withArticle, wordsFromSlug } from "../../packages/corpus/src/captions.ts";
import { clipartCaption, clipartMetadata } from "../../packages/corpus/src/openclipart.ts";
import { fixSvgNamespaces } from "../../packages/corpus/src/svg-fixes.ts";

describe("captions", () => {
  test("slugs and CLDR annotations", () => {
    assert.equal(wordsFromSlug("weary-face"), "weary face");
    assert.equal(wordsFromSlug("red__apple-"), "red apple");
    assert.equal(annotationCaption("grinning face"), "grinning face");
    assert.equal(annotationCaption("woman tipping hand: light skin tone"), "woman tipping hand, light skin tone");
    assert.equal(
      annotationCaption("couple with heart: man, man, dark skin tone, medium skin tone"),
      "couple with heart, man, man, dark and medium skin tones",
    );
    assert.equal(annotationCaption("kiss: dark skin tone, dark skin tone"), "kiss, dark skin tone");
    assert.equal(annotationCaption("flag: Germany"), "flag of Germany");
    assert.equal(annotationCaption("keycap: 1"), "keycap 1");
    assert.equal(annotationCaption("five o’clock"), "five o'clock");
    assert.equal(annotationCaption("Japanese “vacancy” button"), 'Japanese "vacancy" button');
  });

  test("Iconify names: skin tones in every spelling, flags", () => {
    assert.equal(iconNameCaption("waving-hand-medium-light-skin-tone"), "waving hand, medium-light skin tone");
    assert.equal(
      iconNameCaption("women-wrestling-medium-skin-tone-light-skin-tone"),
      "women wrestling, medium and light skin tones",
    );
    assert.equal(iconNameCaption("man-dark-skin-tone-red-hair"), "man, red hair, dark skin tone");
    assert.equal(iconNameCaption("breast-feeding-tone1"), "breast feeding, light skin tone");
    const fluent = new Set(["man-deaf", "man-deaf-light", "man-deaf-medium", "man-deaf-dark", "traffic-light"]);
    const hasToneVariants = (base: string) => ["light", "medium", "dark"].every((t) => fluent.has(`${base}-${t}`));
    assert.equal(iconNameCaption("man-deaf-medium-dark", { hasToneVariants }), "man deaf, medium-dark skin tone");
    assert.equal(iconNameCaption("traffic-light", { hasToneVariants }), "traffic light", "not a tone");
    assert.equal(iconNameCaption("flag-united-kingdom", { isFlag: true }), "flag of united kingdom");
    assert.equal(iconNameCaption("flag-in-hole", { isFlag: false }), "flag in hole");
  });

  test("articles only where they read well", () => {
    assert.equal(withArticle("red flower"), "a red flower");
    assert.equal(withArticle("ice cream cone"), "an ice cream cone");
    assert.equal(withArticle("map of europe"), "a map of europe");
    assert.equal(withArticle("french fries"), "french fries", "plural");
    assert.equal(withArticle("bread"), "bread", "a single word may be a mass noun or a name");
    assert.equal(withArticle("trinidad and tobago"), "trinidad and tobago");
    assert.equal(withArticle("the moon tonight"), "the moon tonight");
    assert.equal(withArticle("45 rpm record"), "45 rpm record");
  });

  test("openclipart: title, or file name under a collection title, with keywords for context", () => {
    const base = { keywords: [], creator: "", folders: [], genericTitle: false };
    assert.equal(clipartCaption({ ...base, title: "Red Flower", stem: "red_flower_01" }), "a red flower");
    assert.equal(
      clipartCaption({
        ...base,
        title: "Acquila",
        keywords: ["architetto francesco rollandin", "bird"],
        creator: "Architetto Francesco Rollandin",
        folders: ["animals", "birds"],
        stem: "acquila_architetto_franc_01",
      }),
      "acquila, bird",
      "the author's name is not a keyword",
    );
    assert.equal(
      clipartCaption({
        ...base,
        title: "Dog 04 Drawn With Straight Lines",
        keywords: ["mammal", "dog", "animal"],
        stem: "dog_04",
      }),
      "a dog drawn with straight lines, mammal, animal",
    );
    assert.equal(
      clipartCaption({
        ...base,
        title: "Lemon SVG theme",
        keywords: ["icon", "hash", "computer"],
        folders: ["computer", "icons", "lemon-theme", "devices"],
        stem: "laptop_charge",
      }),
      "a laptop charge, icon",
    );
    assert.equal(
      clipartCaption({
        ...base,
        title: "gramastar",
        genericTitle: true,
        keywords: ["stars", "shapes"],
        stem: "star_74pt17step",
      }),
      "a star with 74 points, shapes",
    );
    assert.equal(
      clipartCaption({ ...base, title: "card", genericTitle: true, keywords: ["card", "white"], stem: "white_h_q" }),
      "the queen of hearts, white playing card",
    );
    assert.equal(
      clipartCaption({ ...base, title: "stick man", genericTitle: true, stem: "sm_012" }),
      "a stick man",
      "a file name of codes falls back to the title",
    );
    assert.equal(clipartCaption({ ...base, title: "Hamburger (B and W)", stem: "x" }), "hamburger, black and white");
  });

  test("openclipart metadata and SVG namespace repairs", () => {
    const svg = `<svg width="10" height="10"><metadata><rdf:RDF><cc:Work rdf:about=""><dc:title>Fish &amp; Chips</dc:title>
      <dc:subject><rdf:Bag><rdf:li>food</rdf:li><rdf:li></rdf:li></rdf:Bag></dc:subject>
      <dc:creator><cc:Agent><dc:title>Someone</dc:title></cc:Agent></dc:creator>
      <cc:license rdf:resource="http://web.resource.org/cc/PublicDomain"/></cc:Work></rdf:RDF></metadata>
      <use xlink:href="#a"/></svg>`;
    assert.deepEqual(clipartMetadata(svg), {
      title: "Fish & Chips",
      keywords: ["food"],
      creator: "Someone",
      license: "http://web.resource.org/cc/PublicDomain",
    });
    const fixed = fixSvgNamespaces(svg);
    const root = /<svg[^>]*>/.exec(fixed)![0];
    for (const ns of ['xmlns="http://www.w3.org/2000/svg"', "xmlns:xlink=", "xmlns:rdf=", "xmlns:cc=", "xmlns:dc="]) {
      assert.ok(root.includes(ns), `${ns} declared on the root: ${root}`);
    }
    const declared = '<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>';
    assert.equal(fixSvgNamespaces(declared), declared, "a well-formed file is left alone");
    const badDeclaration = `<?xml version="1" standalone="no"?>\r\n${declared}`;
    assert.equal(fixSvgNamespaces(badDeclaration).trim(), declared, "a malformed XML declaration is dropped");
  });
});

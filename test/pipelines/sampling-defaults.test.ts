// A checkpoint's recommended sampling (`glide convert --sampler/--steps/--guidance`): written into
// its metadata, read back by loadModel, and used by text → image for what the caller leaves out.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { convertToSafetensors } from "../../packages/glide-ts/src/io/checkpoint-file.ts";
import { readSafetensors } from "../../packages/glide-ts/src/io/safetensors.ts";
import { DEFAULT_EDIT_GUIDANCE, edit } from "../../packages/glide-ts/src/pipelines/edit.ts";
import { PipelineError } from "../../packages/glide-ts/src/pipelines/errors.ts";
import { loadModel, parseSamplingMetadata } from "../../packages/glide-ts/src/pipelines/load-model.ts";
import { samplingChoice, samplingFormDefaults } from "../../packages/glide-ts/src/pipelines/sampling-defaults.ts";
import { DEFAULT_GUIDANCE, textToImage } from "../../packages/glide-ts/src/pipelines/text-to-image.ts";
import { fixtureFiles, fixtureModel, tempDir } from "./helpers.ts";

const RECOMMENDED = { sampler: "ddim", steps: 4, guidance: 2.5 };

async function recommendingModel() {
  const { checkpoint, config } = fixtureFiles("text2im");
  const converted = join(tempDir(), "recommends.safetensors");
  await convertToSafetensors(checkpoint, converted, { sampling: RECOMMENDED });
  return { converted, config, loaded: await loadModel({ checkpoint: converted, config }) };
}

test("convert writes the recommended sampling into the metadata; loadModel reads it; a second convert keeps it", async () => {
  const { converted, config, loaded } = await recommendingModel();
  assert.deepEqual(JSON.parse((await readSafetensors(converted)).metadata.sampling!), RECOMMENDED);
  assert.deepEqual(loaded.model.recommendedSampling, RECOMMENDED);
  const again = join(tempDir(), "again.safetensors");
  await convertToSafetensors(converted, again);
  assert.deepEqual((await loadModel({ checkpoint: again, config })).model.recommendedSampling, RECOMMENDED);
  // A checkpoint without the metadata recommends nothing.
  assert.equal((await fixtureModel("text2im")).recommendedSampling, null);
});

test("text → image uses the recommendation for what the caller leaves out, and the caller's choice over it", async () => {
  const { model } = (await recommendingModel()).loaded;
  const run = (options: object) => textToImage({ prompt: "a red heart", model, seed: 3, ...options });

  const defaults = (await run({})).settings.base!;
  assert.deepEqual([defaults.sampler, defaults.steps, defaults.guidanceScale], ["ddim", 4, 2.5]);
  // The recommended steps go with the recommended sampler only.
  const otherSampler = (await run({ sampler: "dpm++2m", steps: 3 })).settings.base!;
  assert.deepEqual([otherSampler.sampler, otherSampler.steps, otherSampler.guidanceScale], ["dpm++2m", 3, 2.5]);
  const ownGuidance = (await run({ guidanceScale: 1.5, steps: 2 })).settings.base!;
  assert.deepEqual([ownGuidance.sampler, ownGuidance.steps, ownGuidance.guidanceScale], ["ddim", 2, 1.5]);

  // The same picture as asking for those settings by name.
  const named = await run({ sampler: "ddim", steps: 4, guidanceScale: 2.5 });
  assert.deepEqual((await run({})).images[0]!.data, named.images[0]!.data);
});

test("samplingChoice: the model's recommendation, else the pipelines' defaults; editing keeps its own guidance", async () => {
  const { model } = (await recommendingModel()).loaded;
  const plain = await fixtureModel("text2im");
  assert.deepEqual(samplingChoice(plain, {}, DEFAULT_GUIDANCE, true), {
    sampler: "dpm++2m",
    steps: undefined,
    guidance: DEFAULT_GUIDANCE,
  });
  assert.deepEqual(samplingChoice(model, {}, DEFAULT_EDIT_GUIDANCE, false), {
    sampler: "ddim",
    steps: 4,
    guidance: DEFAULT_EDIT_GUIDANCE,
  });
  const image = { width: 16, height: 16, channels: 4 as const, data: new Uint8Array(16 * 16 * 4).fill(255) };
  for (let i = 0; i < 16 * 8 * 4; i += 4) image.data[i + 3] = 0; // the top half transparent: redrawn
  const edited = await edit({ prompt: "a red heart", model, image, seed: 1 });
  assert.deepEqual(
    [edited.settings.base!.sampler, edited.settings.base!.steps, edited.settings.base!.guidanceScale],
    ["ddim", 4, DEFAULT_EDIT_GUIDANCE],
  );
});

test("bad sampling metadata is a PipelineError naming the checkpoint and what is wrong", () => {
  const config = { diffusion_steps: 1000 } as Parameters<typeof parseSamplingMetadata>[1];
  const cases: [string, RegExp][] = [
    ["not json", /x\.safetensors: its 'sampling' metadata is not JSON/],
    ['{"sampler":"euler","steps":10,"guidance":3}', /names no known sampler .*"euler"/],
    ['{"sampler":"ddim","steps":0,"guidance":3}', /has steps 0, not an integer from 1 to 1000/],
    ['{"sampler":"ddim","steps":1001,"guidance":3}', /has steps 1001/],
    ['{"sampler":"ddim","steps":2.5,"guidance":3}', /has steps 2\.5/],
    ['{"sampler":"ddim","steps":10,"guidance":"3"}', /has guidance "3", not a number from -100 to 100/],
    ['{"sampler":"ddim","steps":10,"guidance":1000}', /has guidance 1000/],
    ["null", /names no known sampler/],
  ];
  for (const [text, message] of cases) {
    assert.throws(
      () => parseSamplingMetadata(text, config, "x.safetensors"),
      (error: unknown) => error instanceof PipelineError && message.test(error.message),
      text,
    );
  }
  assert.deepEqual(parseSamplingMetadata('{"sampler":"ddpm","steps":100,"guidance":6}', config, "x"), {
    sampler: "ddpm",
    steps: 100,
    guidance: 6,
  });
});

test("a form's defaults: the recommended sampler with its steps and guidance, else the pipelines' own", () => {
  const guidance = { text: DEFAULT_GUIDANCE, edit: DEFAULT_EDIT_GUIDANCE };
  const recommended = samplingFormDefaults({ sampler: "ddpm", steps: 50, guidance: 6 }, guidance);
  assert.deepEqual(recommended.defaults, {
    sampler: "ddpm",
    steps: 50,
    guidance: 6,
    editGuidance: DEFAULT_EDIT_GUIDANCE,
  });
  assert.equal(recommended.samplerSteps.ddpm, 50, "the recommended sampler shows the recommended steps");
  assert.equal(recommended.samplerSteps["dpm++2m"], 25, "the others their own defaults");
  const plain = samplingFormDefaults(null, guidance);
  assert.deepEqual(plain.defaults, {
    sampler: "dpm++2m",
    steps: 25,
    guidance: DEFAULT_GUIDANCE,
    editGuidance: DEFAULT_EDIT_GUIDANCE,
  });
  assert.equal(plain.samplerSteps.ddpm, 100);
});

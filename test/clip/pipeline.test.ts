// CLIP guidance through the pipelines and loadClip, on the fixtures' tiny base model and CLIP.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { clipGradient, clipTextEmbeddings } from "../../packages/glide-ts/src/clip/guidance.ts";
import { withGradient } from "../../packages/glide-ts/src/diffusion/condition.ts";
import { createDiffusion } from "../../packages/glide-ts/src/diffusion/gaussian.ts";
import { epsVarianceModel } from "../../packages/glide-ts/src/diffusion/guidance.ts";
import { sample } from "../../packages/glide-ts/src/diffusion/sample.ts";
import { createSampler } from "../../packages/glide-ts/src/diffusion/samplers/index.ts";
import { GlideError } from "../../packages/glide-ts/src/errors.ts";
import { GlideModel } from "../../packages/glide-ts/src/glide/model.ts";
import { StateDictMismatchError } from "../../packages/glide-ts/src/io/check-state-dict.ts";
import { loadCheckpointFile } from "../../packages/glide-ts/src/io/checkpoint-file.ts";
import { writeSafetensors } from "../../packages/glide-ts/src/io/safetensors.ts";
import { PipelineError } from "../../packages/glide-ts/src/pipelines/errors.ts";
import { loadClip, towerStateDict } from "../../packages/glide-ts/src/pipelines/load-clip.ts";
import { unetNetwork } from "../../packages/glide-ts/src/pipelines/network.ts";
import { releaseSessions } from "../../packages/glide-ts/src/pipelines/sessions.ts";
import { textFeeds } from "../../packages/glide-ts/src/pipelines/text-features.ts";
import { textToImage } from "../../packages/glide-ts/src/pipelines/text-to-image.ts";
import { Rng } from "../../packages/glide-ts/src/util/rng.ts";
import { clipFixturePath, clipManifest, fixtureBase, fixtureClip, VOCABULARY } from "./fixtures.ts";

const scratch = mkdtempSync(join(tmpdir(), "glide-clip-pipeline-"));
after(() => rmSync(scratch, { recursive: true, force: true }));
const prompt = "an oil painting of a corgi";

test("textToImage with CLIP guidance is the diffusion loop with the CLIP gradient at every step", async () => {
  const model = await fixtureBase();
  const clip = await fixtureClip();
  const result = await textToImage({
    prompt,
    model,
    sampler: "ddpm",
    steps: 10,
    guidanceScale: 1,
    clipGuidance: { model: clip, scale: 3 },
    seed: 5,
    threads: 1,
  });
  assert.equal(result.settings.base?.clipGuidanceScale, 3);

  // The same run spelled out with the layers below the pipeline.
  const session = { threads: 1 };
  const rng = new Rng(5);
  const conditioning = await textFeeds(model, [prompt], [0], session);
  const network = unetNetwork(model, { batch: 1, conditioning, session });
  const [text, guidance] = [await clip.compileText(1, session), await clip.compileGuidance(1, session)];
  const gradient = clipGradient({
    model: clip,
    textEmbeddings: await clipTextEmbeddings(clip, [prompt], text),
    scale: 3,
    guidanceGraph: guidance,
  });
  const base = createDiffusion({ noiseSchedule: "squaredcos_cap_v2", diffusionSteps: 1000 });
  const shape = [1, 3, 16, 16];
  const start = rng.normalArray(3 * 16 * 16);
  const manual = await sample({
    sampler: createSampler(base, { name: "ddpm", steps: 10 }),
    model: withGradient(epsVarianceModel(network), gradient),
    shape,
    rng,
    start,
  });
  await Promise.all([text.release(), guidance.release()]);
  assert.ok(
    manual.every((v, i) => Object.is(v, result.samples[i])),
    "bit-identical to the pipeline's samples",
  );

  const unguided = await textToImage({
    prompt,
    model,
    sampler: "ddpm",
    steps: 10,
    guidanceScale: 1,
    seed: 5,
    threads: 1,
  });
  assert.equal(unguided.settings.base?.clipGuidanceScale, null);
  assert.ok(
    unguided.samples.some((v, i) => v !== result.samples[i]),
    "the guidance changes the image",
  );
  const off = await textToImage({
    prompt,
    model,
    sampler: "ddpm",
    steps: 10,
    guidanceScale: 1,
    clipGuidance: { model: clip, scale: 0 },
    seed: 5,
    threads: 1,
  });
  assert.ok(
    off.samples.every((v, i) => Object.is(v, unguided.samples[i])),
    "scale 0 is no guidance",
  );
});

for (const sampler of ["ddim", "plms", "dpm++2m"]) {
  test(`CLIP guidance with ${sampler} and classifier-free guidance: deterministic, and it changes the image`, async () => {
    const model = await fixtureBase();
    const clip = await fixtureClip();
    const run = (scale: number) =>
      textToImage({
        prompt,
        model,
        sampler,
        steps: 5,
        guidanceScale: 3,
        clipGuidance: { model: clip, scale },
        seed: 2,
        threads: 1,
      });
    const a = await run(10);
    const again = await run(10);
    const plain = await run(0);
    // The score form shifts x₀ after its clipping, as the reference's condition_score: no [-1, 1] bound.
    assert.ok(a.samples.every((v) => Number.isFinite(v) && Math.abs(v) < 2));
    assert.ok(again.samples.every((v, i) => Object.is(v, a.samples[i])));
    assert.ok(plain.samples.some((v, i) => v !== a.samples[i]));
    assert.equal(a.settings.base?.guidanceScale, 3);
    assert.equal(a.settings.base?.clipGuidanceScale, 10);
  });
}

test("CLIP guidance that cannot fit the model is refused before sampling", async () => {
  const clip = await fixtureClip();
  const config = { ...(await fixtureBase()).config, image_size: 32, channel_mult: "1,1,1" };
  const wide = new GlideModel(config, { init: 0 });
  await assert.rejects(
    textToImage({ prompt, model: wide, clipGuidance: { model: clip, scale: 3 }, seed: 1 }),
    (e: unknown) => e instanceof PipelineError && /takes 16×16 images, the model makes 32×32/.test(e.message),
  );
  const base = await fixtureBase();
  await assert.rejects(
    textToImage({ prompt, model: base, clipGuidance: { model: clip, scale: Number.NaN }, seed: 1 }),
    /CLIP guidance scale must be a number ≥ 0, got NaN/,
  );
  await assert.rejects(
    textToImage({ prompt, model: base, clipGuidance: { model: clip, scale: -1 }, seed: 1 }),
    /CLIP guidance scale must be a number ≥ 0, got -1/,
  );
  await releaseSessions(clip);
});

test("loadClip: one file per tower (released layout) or both in one, with the vocabulary as bytes or a path", async () => {
  const config = clipManifest().cases.clip.config;
  const { stateDict } = await loadCheckpointFile(clipFixturePath("clip.pt"));
  const files: Record<string, string> = {};
  for (const tower of ["text_encoder", "image_encoder"] as const) {
    files[tower] = join(scratch, `${tower}.safetensors`);
    await writeSafetensors(files[tower]!, towerStateDict(stateDict, tower, "clip.pt"));
  }
  const perTower = await loadClip({
    textEncoder: files.text_encoder,
    imageEncoder: new Uint8Array(readFileSync(files.image_encoder!)),
    vocabulary: new Uint8Array(readFileSync(VOCABULARY)),
    config,
  });
  // A fresh model: one that has built sessions keeps its weights in a file, not in its parameters.
  const combined = await loadClip({ checkpoint: clipFixturePath("clip.pt"), vocabulary: VOCABULARY, config });
  assert.equal(perTower.textParams.count(), combined.textParams.count());
  assert.deepEqual(perTower.encodePrompts([prompt]), combined.encodePrompts([prompt]));
  const w = (m: typeof combined) => m.imageParams.params.get("blocks.input.w_t")!;
  assert.deepEqual(
    (w(perTower).attrs as { value: Float32Array }).value,
    (w(combined).attrs as { value: Float32Array }).value,
  );
});

test("loadClip: what is missing or does not fit is a user error naming it", async () => {
  const config = clipManifest().cases.clip.config;
  await assert.rejects(
    loadClip({ textEncoder: "x.pt", vocabulary: VOCABULARY }),
    /no checkpoint for the image_encoder/,
  );
  await assert.rejects(
    loadClip({ checkpoint: clipFixturePath("clip.pt"), vocabulary: VOCABULARY, config: { n_heads: 1 } }),
    (e: unknown) => e instanceof PipelineError && /unknown CLIP configuration key 'n_heads'/.test(e.message),
  );
  // The released configuration does not fit the tiny fixture's shapes.
  await assert.rejects(
    loadClip({ checkpoint: clipFixturePath("clip.pt"), vocabulary: VOCABULARY }),
    (e: unknown) => e instanceof StateDictMismatchError && /CLIP text_encoder/.test(e.message),
  );
  await assert.rejects(
    loadClip({ checkpoint: clipFixturePath("clip.pt"), vocabulary: join(scratch, "none.gz"), config }),
    (e: unknown) => e instanceof GlideError && /none\.gz: cannot read the CLIP vocabulary/.test(e.message),
  );
});

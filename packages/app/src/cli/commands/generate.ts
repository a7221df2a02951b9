// `glide generate PROMPT`: text → image with the base model, then the upsampler.

import type { Command } from "commander";
import { DEFAULT_GUIDANCE, DEFAULT_UPSAMPLE_SAMPLER, GlideError, textToImage } from "glide-ts";
import { addClipOptions, type ClipCommandOptions, clipGuidance, prepareClip } from "../clip-options.ts";
import { checkOutputPath, modelFileInputs } from "../output-path.ts";
import {
  addModelOptions,
  addOutputOptions,
  addSamplingOptions,
  addUpsamplerOptions,
  addUpsampleSamplingOptions,
  announceDevice,
  loadModels,
  pipelineOptions,
  randomSeed,
  report,
  type SamplingCommandOptions,
  seconds,
  warnLongPrompt,
  writeImages,
} from "../sampling-options.ts";

export function registerGenerate(program: Command): void {
  const command = program
    .command("generate")
    .description("generate images from a text prompt (base model, then the 4× upsampler)")
    .argument("<prompt>", "what to draw")
    .addHelpText(
      "after",
      `
Without --checkpoint the --model family draws: "glide-ts" (the default) uses the models shipped in
models/ (32×32, upsampled to 128×128; no download); "glide" uses OpenAI's released "base" and
"upsample" (64×64 → 256×256) from the download cache ($GLIDE_CACHE, else ~/.cache/glide-ts; fetch
them with \`glide download base upsample\`: ≈1.5 GB + 1.6 GB).

Examples:
  glide generate "red heart" --seed 7
  glide generate "an oil painting of a corgi" --model glide --seed 7
  glide generate "a blue heart" -n 4 --sampler ddpm --steps 100 --out hearts.png
  glide generate "a castle" --checkpoint my.pt --config my-config.json --no-upsample --json
  glide generate "a corgi in a field" --model glide --clip-guidance 3 --seed 7   (after \`glide download base upsample clip-image-enc clip-text-enc\`)`,
    );
  addModelOptions(command, "base model");
  addUpsamplerOptions(command);
  addSamplingOptions(command, DEFAULT_GUIDANCE);
  addClipOptions(command);
  addUpsampleSamplingOptions(command, DEFAULT_UPSAMPLE_SAMPLER);
  addOutputOptions(command, "glide-SEED.png");
  command.action(async (prompt: string, options: SamplingCommandOptions & ClipCommandOptions) => {
    if (prompt.trim() === "") {
      throw new GlideError('the prompt is empty: describe the picture, e.g. glide generate "a red heart"');
    }
    const seed = options.seed ?? randomSeed();
    const out = await checkOutputPath(options.out ?? `glide-${seed}.png`, options.batch ?? 1, modelFileInputs(options));
    const clipFiles = await prepareClip(options);
    await announceDevice(options);
    const loadStart = performance.now();
    const models = await loadModels(options, "generate");
    const clip = await clipGuidance(clipFiles, options, models.base.model.config.image_size);
    const loadSeconds = seconds(loadStart);
    warnLongPrompt(prompt, [models.base, models.upsampler]);
    const result = await textToImage({
      prompt,
      model: models.base.model,
      upsampler: models.upsampler?.model ?? null,
      clipGuidance: clip,
      ...pipelineOptions(options, seed),
    });
    const written = await writeImages(out, result, models);
    report(options, { command: "generate", prompt, models, result, written, loadSeconds });
  });
}

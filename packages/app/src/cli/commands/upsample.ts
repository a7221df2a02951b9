// `glide upsample IMAGE PROMPT`: a picture (resized to the upsampler's low-res size, e.g. 64×64)
// upsampled 4× with the text-conditional upsampler.

import type { Command } from "commander";
import { DEFAULT_UPSAMPLE_SAMPLER, loadUpsamplerFor, upsample } from "glide-ts";
import { checkOutputPath, modelFileInputs } from "../output-path.ts";
import { stageProgress } from "../progress.ts";
import {
  addFitOption,
  addModelOptions,
  addOutputOptions,
  addUpsampleSamplingOptions,
  announceDevice,
  randomSeed,
  report,
  type SamplingCommandOptions,
  seconds,
  warnLongPrompt,
  writeImages,
} from "../sampling-options.ts";

export function registerUpsample(program: Command): void {
  const command = program
    .command("upsample")
    .description("upsample a picture 4× (e.g. 64×64 → 256×256), guided by a text prompt")
    .argument("<image>", "the picture (PNG or JPEG; resized to the upsampler's input size)")
    .argument("<prompt>", "what the picture shows")
    .addHelpText(
      "after",
      `
Without --checkpoint the --model family upsamples: "glide-ts" (the default) with the shipped
32→128 upsampler; "glide" with OpenAI's released 64→256 "upsample" from the download cache
(\`glide download upsample\`: ≈1.6 GB).

Examples:
  glide upsample small.png "an oil painting of a corgi" --out large.png
  glide upsample small.png "a fox" --sampler ddpm --steps 100 --temp 1`,
    );
  addModelOptions(command, "upsampler");
  addUpsampleSamplingOptions(command, DEFAULT_UPSAMPLE_SAMPLER, "");
  addFitOption(command);
  addOutputOptions(command, "upsample-SEED.png");
  command.action(
    async (
      image: string,
      prompt: string,
      options: SamplingCommandOptions & { temp?: number; keepLowRes?: boolean },
    ) => {
      const seed = options.seed ?? randomSeed();
      const out = await checkOutputPath(options.out ?? `upsample-${seed}.png`, options.batch ?? 1, [
        { label: "image", path: image },
        ...modelFileInputs(options),
      ]);
      await announceDevice(options);
      const loadStart = performance.now();
      const upsampler = await loadUpsamplerFor({
        family: options.model,
        checkpoint: options.checkpoint,
        preset: options.preset,
        config: options.config,
      });
      const loadSeconds = seconds(loadStart);
      warnLongPrompt(prompt, [upsampler]);
      const result = await upsample({
        image,
        prompt,
        fit: options.fit,
        upsampler: upsampler.model,
        sampler: options.sampler,
        steps: options.steps,
        temperature: options.temp,
        keepLowRes: options.keepLowRes,
        seed,
        batchSize: options.batch ?? 1,
        threads: options.threads,
        device: options.device,
        precision: options.precision,
        onProgress: stageProgress(process.stderr, options.quiet === true, { upsample: options.sampler }),
      });
      const written = await writeImages(out, result, { upsampler });
      report(
        {
          ...options,
          upsampleSampler: options.sampler,
          upsampleTemp: options.temp,
          sampler: undefined,
          guidance: undefined,
        },
        { command: "upsample", prompt, models: { upsampler }, result, written, loadSeconds, extra: { image } },
      );
    },
  );
}

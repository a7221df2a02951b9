// `glide edit IMAGE MASK PROMPT`: redraw the masked part of a picture to fit the prompt.

import type { Command } from "commander";
import { DEFAULT_EDIT_GUIDANCE, edit, MASK_RULE } from "glide-ts";
import { addClipOptions, type ClipCommandOptions, clipGuidance, prepareClip } from "../clip-options.ts";
import { checkOutputPath, modelFileInputs } from "../output-path.ts";
import {
  addFitOption,
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

export function registerEdit(program: Command): void {
  const command = program
    .command("edit")
    .description("redraw the masked region of a picture to fit a text prompt (inpainting)")
    .argument("<image>", "the picture (PNG or JPEG, any size)")
    .argument(
      "<mask>",
      "the picture's size: its fully transparent pixels are redrawn, or, without transparency, its black ones; the rest is kept (e.g. the picture itself with holes)",
    )
    .argument("<prompt>", "what the redrawn region should show")
    .addHelpText(
      "after",
      `
The mask rule (the same for glide serve's /v1/images/edits and the web page): ${MASK_RULE}.
The picture and the mask are made square (--fit) and resized to the model's resolution. An inpainting model ("base-inpaint") gets the
known region as an input; any other text-to-image model keeps it by re-noising it at every step.
Without --checkpoint the --model family edits: "glide-ts" (the default) with the shipped 32×32
text-to-image model (the known region re-noised at every step) and its 128×128 upsampler; "glide"
with OpenAI's released "base-inpaint" and "upsample-inpaint" from the download cache
(\`glide download base-inpaint upsample-inpaint\`: ≈1.5 GB + 1.6 GB).

Examples:
  glide edit photo.png mask.png "a corgi in a field" --seed 1
  glide edit holes.png holes.png "a vase of flowers"      (transparent pixels are redrawn)
  glide edit photo.jpg mask.png "a hat" --checkpoint base.pt --no-upsample --json`,
    );
  addModelOptions(command, "base model (inpaint or text2im)");
  addUpsamplerOptions(command);
  addSamplingOptions(command, DEFAULT_EDIT_GUIDANCE, false);
  addClipOptions(command);
  addUpsampleSamplingOptions(command, "ddpm");
  addFitOption(command);
  addOutputOptions(command, "edit-SEED.png");
  command.action(
    async (image: string, mask: string, prompt: string, options: SamplingCommandOptions & ClipCommandOptions) => {
      const seed = options.seed ?? randomSeed();
      const out = await checkOutputPath(options.out ?? `edit-${seed}.png`, options.batch ?? 1, [
        { label: "image", path: image },
        { label: "mask", path: mask },
        ...modelFileInputs(options),
      ]);
      const clipFiles = await prepareClip(options);
      await announceDevice(options);
      const loadStart = performance.now();
      const models = await loadModels(options, "edit");
      const clip = await clipGuidance(clipFiles, options, models.base.model.config.image_size);
      const loadSeconds = seconds(loadStart);
      warnLongPrompt(prompt, [models.base, models.upsampler]);
      const result = await edit({
        image,
        mask,
        prompt,
        fit: options.fit,
        model: models.base.model,
        upsampler: models.upsampler?.model ?? null,
        clipGuidance: clip,
        ...pipelineOptions(options, seed),
      });
      const written = await writeImages(out, result, models);
      report(options, { command: "edit", prompt, models, result, written, loadSeconds, extra: { image, mask } });
    },
  );
}

// `glide convert IN OUT.safetensors [--force]`: a torch.save checkpoint (or any safetensors file)
// to float32 (or float16) safetensors, key order kept, configuration kept, written atomically.
import { type Command, Option } from "commander";
import { convertToSafetensors, GlideError, SAMPLER_NAMES } from "glide-ts";
import { catalogFiles } from "glide-ts/internals";
import { OptionValueError } from "../errors.ts";
import { sameFileAs } from "../output-path.ts";
import { parseCount, parseSeed } from "../parse.ts";
import { parseGuidance } from "../sampling-options.ts";

export function registerConvert(program: Command): void {
  program
    .command("convert")
    .description(
      "convert a checkpoint (.pt, .safetensors, a training checkpoint) to safetensors, keeping its key order",
    )
    .argument("<input>", "a torch.save .pt file (or a .safetensors file)")
    .argument("<output>", "the .safetensors file to write")
    .option("--force", "overwrite the output if it exists")
    .addOption(
      new Option("--dtype <type>", "stored dtype (float16 halves the size)")
        .choices(["float32", "float16"])
        .default("float32"),
    )
    .addOption(
      new Option("--sampler <name>", "recommend this sampler with the weights (with --steps and --guidance)").choices(
        SAMPLER_NAMES,
      ),
    )
    .option("--steps <n>", "the recommended sampler's steps", parseCount("--steps"))
    .option("--guidance <scale>", "the recommended classifier-free guidance scale", parseGuidance)
    .option(
      "--embedding-init-seed <seed>",
      "store only the token-embedding rows training changed from their initial values under this init seed " +
        "(the seed the model was first trained with); readers make the others again",
      parseSeed,
    )
    .action(async (input: string, output: string, options: ConvertFlags) => {
      // --force overwrites files, but never a named model's weights or digests.
      const named = await sameFileAs(output, catalogFiles());
      if (named) throw new GlideError(`${output} is the ${named.label} '${named.path}'; choose another output`);
      const s = await convertToSafetensors(input, output, {
        force: options.force,
        dtype: options.dtype,
        sampling: recommendedSampling(options),
        embeddingInitSeed: options.embeddingInitSeed,
      });
      const rows = s.embeddingRows
        ? `; token embedding: ${s.embeddingRows.stored} of ${s.embeddingRows.total} rows stored, the rest are their initial values`
        : "";
      process.stdout.write(
        `${s.output}: ${s.tensors} tensors, ${s.parameters} parameters, ${s.dtype} (from ${s.sourceDtypes.join(", ")})${rows}\n`,
      );
    });
}

interface ConvertFlags {
  force?: boolean;
  dtype: "float32" | "float16";
  sampler?: string;
  steps?: number;
  guidance?: number;
  embeddingInitSeed?: number;
}

/** --sampler, --steps and --guidance go together: the settings measured best for these weights. */
function recommendedSampling(flags: ConvertFlags): { sampler: string; steps: number; guidance: number } | undefined {
  const { sampler, steps, guidance } = flags;
  if (sampler === undefined && steps === undefined && guidance === undefined) return undefined;
  if (sampler === undefined || steps === undefined || guidance === undefined) {
    throw new OptionValueError(
      "--sampler, --steps and --guidance recommend sampling settings together: give all three",
    );
  }
  return { sampler, steps, guidance };
}

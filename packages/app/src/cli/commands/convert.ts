// `glide convert IN OUT.safetensors [--force]`: a torch.save checkpoint (or any safetensors file)
// to float32 (or float16) safetensors, key order kept, configuration kept, written atomically.
import { type Command, Option } from "commander";
import { convertToSafetensors, GlideError } from "glide-ts";
import { catalogFiles } from "glide-ts/internals";
import { sameFileAs } from "../output-path.ts";

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
    .action(async (input: string, output: string, options: { force?: boolean; dtype: "float32" | "float16" }) => {
      // --force overwrites files, but never a named model's weights or digests.
      const named = await sameFileAs(output, catalogFiles());
      if (named) throw new GlideError(`${output} is the ${named.label} '${named.path}'; choose another output`);
      const s = await convertToSafetensors(input, output, { force: options.force, dtype: options.dtype });
      process.stdout.write(
        `${s.output}: ${s.tensors} tensors, ${s.parameters} parameters, ${s.dtype} (from ${s.sourceDtypes.join(", ")})\n`,
      );
    });
}

// `glide convert IN OUT.safetensors [--force]`: a torch.save checkpoint (or any safetensors file)
// to float32 safetensors, key order kept, written atomically.
import type { Command } from "commander";
import { convertToSafetensors } from "../../io/checkpoint-file.ts";

export function registerConvert(program: Command): void {
  program
    .command("convert")
    .description("convert a checkpoint (.pt) to float32 safetensors, keeping its key order")
    .argument("<input>", "a torch.save .pt file (or a .safetensors file)")
    .argument("<output>", "the .safetensors file to write")
    .option("--force", "overwrite the output if it exists")
    .action(async (input: string, output: string, options: { force?: boolean }) => {
      const s = await convertToSafetensors(input, output, { force: options.force });
      process.stdout.write(
        `${s.output}: ${s.tensors} tensors, ${s.parameters} parameters, float32 (from ${s.sourceDtypes.join(", ")})\n`,
      );
    });
}

// The `glide` command line: one module per command under ./commands, thin shells over the library.
import "glide-ts";
import { Command, CommanderError } from "commander";
import packageJson from "../../package.json" with { type: "json" };
import { registerConvert } from "./commands/convert.ts";
import { registerData } from "./commands/data.ts";
import { registerDownload } from "./commands/download.ts";
import { registerEdit } from "./commands/edit.ts";
import { registerEval } from "./commands/eval.ts";
import { registerGenerate } from "./commands/generate.ts";
import { registerInfo } from "./commands/info.ts";
import { registerModels } from "./commands/models.ts";
import { registerServe } from "./commands/serve.ts";
import { registerTrain } from "./commands/train.ts";
import { registerUpsample } from "./commands/upsample.ts";
import { registerWorker } from "./commands/worker.ts";

export function buildProgram(): Command {
  const program = new Command("glide")
    .description("GLIDE text-guided diffusion: generate, edit, upsample, train")
    .version(packageJson.version)
    // Commander puts its "(Did you mean …?)" on a line of its own: one line is enough.
    .configureOutput({ outputError: (text, write) => write(text.replace(/\n(?=\(Did you mean )/, " ")) })
    .exitOverride();
  registerGenerate(program);
  registerEdit(program);
  registerUpsample(program);
  registerModels(program);
  registerDownload(program);
  registerConvert(program);
  registerInfo(program);
  registerTrain(program);
  registerData(program);
  registerEval(program);
  registerServe(program);
  registerWorker(program);
  pointToHelp(program, "glide");
  return program;
}

/** After an option or argument error, a one-line pointer to the command's help instead of all of it. */
function pointToHelp(command: Command, path: string): void {
  command.showHelpAfterError(`(see \`${path} --help\`)`);
  for (const sub of command.commands) pointToHelp(sub, `${path} ${sub.name()}`);
}

/** Runs the CLI; a user's mistake prints one line and exits 1 (set GLIDE_DEBUG=1 for the stack). */
export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`glide: ${message}\n`);
    if (process.env.GLIDE_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    process.exitCode = 1;
  }
}

// --queue redis://HOST:PORT[/DB], shared by `glide serve` (puts jobs there) and `glide worker` (takes them).
import { type Command, Option } from "commander";
import { redisOptions } from "../server/queue/redis-connection.ts";
import { OptionValueError } from "./errors.ts";

function parseQueueUrl(value: string): string {
  try {
    redisOptions(value);
  } catch (error) {
    throw new OptionValueError(`${(error as Error).message}.`);
  }
  return value;
}

export function addQueueOption(command: Command, description: string, required: boolean): void {
  const option = new Option("--queue <url>", description).argParser(parseQueueUrl);
  command.addOption(required ? option.makeOptionMandatory() : option);
}

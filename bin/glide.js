#!/usr/bin/env node
// The `glide` command: the sources are TypeScript, so register the tsx loader, then run the CLI.
import { register } from "tsx/esm/api";

register();
// `glide … | head` closes the pipe early: that is not an error.
process.stdout.on("error", (error) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});
const { main } = await import("../src/cli/main.ts");
await main(process.argv);

#!/usr/bin/env node
// The `glide` command. In a checkout the sources are TypeScript: register the tsx loader and the
// workspace packages' source condition, and run them. An installed package runs its build (dist/)
// with plain node.
import { existsSync } from "node:fs";
import { register as registerHooks } from "node:module";

// `glide … | head` closes the pipe early: that is not an error.
process.stdout.on("error", (error) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});
const source = new URL("../src/cli/main.ts", import.meta.url);
let main;
if (existsSync(source)) {
  const { register } = await import("tsx/esm/api");
  register();
  // Registered after tsx, so it runs first and tsx resolves with the condition added.
  registerHooks("./source-condition.js", import.meta.url);
  ({ main } = await import(source.href));
} else {
  ({ main } = await import("../dist/cli/main.js"));
}
await main(process.argv);

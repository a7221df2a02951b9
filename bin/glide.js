#!/usr/bin/env node
// The `glide` command. In a checkout the sources are TypeScript: register the tsx loader and run
// them. An installed package runs its build (dist/) with plain node.
import { existsSync } from "node:fs";

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
  ({ main } = await import(source.href));
} else {
  ({ main } = await import("../dist/cli/main.js"));
}
await main(process.argv);

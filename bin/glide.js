#!/usr/bin/env node
// The `glide` command: the sources are TypeScript, so register the tsx loader, then run the CLI.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli/main.ts");
await main(process.argv);

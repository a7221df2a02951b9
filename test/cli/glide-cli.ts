// Runs the real `glide` command (bin/glide.js) as a child process, for the CLI tests.

import { spawnSync } from "node:child_process";

export { FIXTURES } from "../fixtures.ts";

export interface GlideRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function glide(...args: string[]): GlideRun {
  const run = spawnSync(process.execPath, ["packages/app/bin/glide.js", ...args], {
    encoding: "utf-8",
    env: { ...process.env, GLIDE_DEBUG: "" },
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

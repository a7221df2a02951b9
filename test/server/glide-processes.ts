// Shared by the scale-out tests: `glide serve --queue` and `glide worker` as child processes
// (bin/glide.js, the fixture model), what their logs say of the jobs, and BullMQ's event stream.
import { type ChildProcess, spawn } from "node:child_process";
import type { Redis } from "ioredis";
import { redisKeys } from "../../packages/app/src/server/queue/redis-connection.ts";
import { fixtureFiles } from "../pipelines/helpers.ts";

export interface Glide {
  child: ChildProcess;
  stdout: string;
  exited: Promise<number | null>;
}

/** Every process started by `glide`: killed by `killAll`. */
const children: Glide[] = [];

/** `glide …` as a child process (`env` added to this one's); resolves once its stdout matches `ready`. */
export async function glide(args: string[], ready: RegExp, env: NodeJS.ProcessEnv = {}): Promise<Glide> {
  const child = spawn(process.execPath, ["packages/app/bin/glide.js", ...args], {
    env: { ...process.env, GLIDE_API_KEYS: "", ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const run: Glide = { child, stdout: "", exited: new Promise((resolve) => child.on("exit", resolve)) };
  children.push(run);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (data: Buffer) => {
      run.stdout += data.toString();
      if (ready.test(run.stdout)) resolve();
    });
    void run.exited.then((code) => reject(new Error(`glide ${args[0]} exited (${code}) early:\n${run.stdout}`)));
  });
  return run;
}

/** `glide serve --queue` on a free port; resolves with it and its URL once it is listening. */
export async function queueServer(redisUrl: string): Promise<{ server: Glide; url: string }> {
  const server = await glide(["serve", "--queue", redisUrl, "--port", "0", "--queue-size", "8"], /ready: /);
  return { server, url: /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(server.stdout)![1]! };
}

/** `glide worker` on the fixture model, one slot; a job whose worker dies is taken again after 3 s. */
export function queueWorker(redisUrl: string): Promise<Glide> {
  const { checkpoint, config } = fixtureFiles("text2im");
  return glide(
    ["worker", "--queue", redisUrl, "--checkpoint", checkpoint, "--config", config, "--threads", "1"].concat([
      "--lock-duration",
      "3",
    ]),
    /ready: /,
  );
}

export async function killAll(): Promise<void> {
  for (const run of children) if (run.child.exitCode === null) run.child.kill("SIGKILL");
  await Promise.all(children.map((run) => run.exited));
}

export async function until(check: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The ids of the jobs a worker started, and of those it finished. */
export function jobsOf(worker: Glide): { started: string[]; ended: string[] } {
  const ids = (pattern: RegExp) => [...worker.stdout.matchAll(pattern)].map((m) => m[1]!);
  return { started: ids(/job (\S+) started/g), ended: ids(/job (\S+) (?:done|ended)/g) };
}

/** Every event of BullMQ's event stream, in order: what Redis saw happen to the jobs. */
export async function queueEvents(client: Redis): Promise<Record<string, string>[]> {
  const entries = await client.xrange(redisKeys.events, "-", "+");
  return entries.map(([, fields]) =>
    Object.fromEntries(fields.flatMap((_, i) => (i % 2 ? [] : [[fields[i], fields[i + 1]]]))),
  );
}

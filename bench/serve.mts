// npm run bench:serve — `glide serve` on loopback with the shipped default model:
//   - direct: the pipeline called in this process, one image after another (the baseline);
//   - serve: `glide serve` (one worker thread), N concurrent clients: images/s, p50/p95 latency, and
//     its overhead against direct (goal ≤ 5 %: the worker is never idle while clients wait);
//   - serve --queue on a local redis-server with two `glide worker` processes: the same figures;
//   - for both servers: a burst of 100 requests at once on a bounded queue (the excess gets 429), and
//     the server process' resident memory before and at its peak during the burst.
// Options: --clients N (4), --requests R (12), --steps S (10 base steps), --size 32|128 (32: the base
// model alone; 128 adds the upsampler at its defaults), --burst B (100), --queue-size Q (16), --threads T
// (onnxruntime threads of the local worker, default all cores; each Redis worker gets half).
// The machine may be shared: the figures are indicative; run it on a quiet machine to quote them.
import "../packages/glide-ts/src/platform/node.ts";
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { resolveServedModels } from "../packages/app/src/server/served-models.ts";
import { loadModel } from "../packages/glide-ts/src/pipelines/load-model.ts";
import { textToImage } from "../packages/glide-ts/src/pipelines/text-to-image.ts";
import { DEFAULT_UPSAMPLE_SAMPLER, DEFAULT_UPSAMPLE_STEPS } from "../packages/glide-ts/src/pipelines/upsample.ts";
import { startRedisServer } from "../test/server/redis-server.ts";

const args = process.argv.slice(2);
function option(name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(args[i + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
  return value;
}
const clients = option("clients", 4);
const requests = option("requests", 12);
const steps = option("steps", 10);
const side = option("size", 32);
const burst = option("burst", 100);
const queueSize = option("queue-size", 16);
const threads = option("threads", availableParallelism());
const workerThreads = Math.max(1, Math.floor(threads / 2));
if (side !== 32 && side !== 128) throw new Error("--size must be 32 or 128");
const upsample = side === 128;
const prompt = "a red heart";

interface Figures {
  imagesPerSecond: number;
  latencies: number[];
}

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};

async function direct(): Promise<Figures> {
  const sources = await resolveServedModels({ upsample });
  const model = (await loadModel(sources.generate.base)).model;
  const upsampler = upsample && sources.generate.upsampler ? (await loadModel(sources.generate.upsampler)).model : null;
  // The servers' jobs upsample with the defaults, so the direct calls do too.
  const run = (seed: number) => textToImage({ prompt, model, upsampler, steps, seed, threads });
  await run(0); // compiles the sessions, as the servers' warm-up request does
  const latencies: number[] = [];
  const start = performance.now();
  for (let i = 1; i <= requests; i++) {
    const t = performance.now();
    await run(i);
    latencies.push((performance.now() - t) / 1000);
  }
  return { imagesPerSecond: requests / ((performance.now() - start) / 1000), latencies };
}

interface Glide {
  child: ChildProcess;
  stdout: string;
}
const children: Glide[] = [];

function glide(command: string[], ready: RegExp): Promise<Glide> {
  const child = spawn(process.execPath, ["packages/app/bin/glide.js", ...command], {
    env: { ...process.env, GLIDE_API_KEYS: "" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const run: Glide = { child, stdout: "" };
  children.push(run);
  return new Promise((resolve, reject) => {
    child.stdout!.on("data", (data: Buffer) => {
      run.stdout += data.toString();
      if (ready.test(run.stdout)) resolve(run);
    });
    child.on("exit", (code) => reject(new Error(`glide ${command[0]} exited (${code}):\n${run.stdout}`)));
  });
}

async function stop(run: Glide): Promise<void> {
  if (run.child.exitCode !== null) return;
  const exited = new Promise((resolve) => run.child.once("exit", resolve));
  run.child.kill("SIGTERM");
  await exited;
}

const generate = (url: string, seed: number, stepCount = steps) =>
  fetch(`${url}/v1/images/generations`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ prompt, size: `${side}x${side}`, steps: stepCount, seed }),
  });

async function clientLoad(url: string): Promise<Figures> {
  const warm = await generate(url, 0);
  if (warm.status !== 200) throw new Error(`the warm-up request failed: ${warm.status} ${await warm.text()}`);
  let next = 1;
  const latencies: number[] = [];
  const start = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next <= requests) {
        const seed = next++;
        const t = performance.now();
        const response = await generate(url, seed);
        if (response.status !== 200) throw new Error(`request ${seed}: ${response.status} ${await response.text()}`);
        await response.arrayBuffer();
        latencies.push((performance.now() - t) / 1000);
      }
    }),
  );
  return { imagesPerSecond: requests / ((performance.now() - start) / 1000), latencies };
}

function residentMb(pid: number, field: "VmRSS" | "VmHWM"): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf-8");
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)![1]) / 1024;
}

interface BurstFigures {
  accepted: number;
  refused: number;
  other: number;
  rssBefore: number;
  rssPeak: number;
}

/** `burst` requests at once (2 steps each: the queue, not the sampling, is measured); RSS sampled meanwhile. */
async function burstLoad(url: string, pid: number): Promise<BurstFigures> {
  const rssBefore = residentMb(pid, "VmRSS");
  let rssPeak = rssBefore;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, residentMb(pid, "VmRSS"));
  }, 20);
  const statuses = await Promise.all(
    Array.from({ length: burst }, async (_, i) => {
      const response = await generate(url, 1000 + i, 2);
      await response.arrayBuffer();
      return response.status;
    }),
  );
  clearInterval(sampler);
  rssPeak = Math.max(rssPeak, residentMb(pid, "VmRSS"));
  const count = (status: number) => statuses.filter((s) => s === status).length;
  return { accepted: count(200), refused: count(429), other: burst - count(200) - count(429), rssBefore, rssPeak };
}

const urlOf = (serve: Glide) => /listening on (http:\/\/\S+) /.exec(serve.stdout)![1]!;

async function localServer(): Promise<{ figures: Figures; burst: BurstFigures }> {
  const serve = await glide(
    ["serve", "--port", "0", "--threads", String(threads), "--queue-size", String(queueSize)].concat(
      upsample ? [] : ["--no-upsample"],
    ),
    /ready: /,
  );
  try {
    const url = urlOf(serve);
    return { figures: await clientLoad(url), burst: await burstLoad(url, serve.child.pid!) };
  } finally {
    await stop(serve);
  }
}

async function redisServers(): Promise<{ figures: Figures; burst: BurstFigures }> {
  const redis = await startRedisServer();
  const started: Glide[] = [];
  try {
    const worker = () =>
      glide(
        ["worker", "--queue", redis.url, "--threads", String(workerThreads)].concat(upsample ? [] : ["--no-upsample"]),
        /ready: /,
      );
    started.push(await worker(), await worker());
    const serve = await glide(
      ["serve", "--queue", redis.url, "--port", "0", "--queue-size", String(queueSize)],
      /ready: /,
    );
    started.push(serve);
    const url = urlOf(serve);
    // Both workers are counted before the load starts.
    while (!/^glide_workers 2$/m.test(await (await fetch(`${url}/metrics`)).text()))
      await new Promise((r) => setTimeout(r, 200));
    return { figures: await clientLoad(url), burst: await burstLoad(url, serve.child.pid!) };
  } finally {
    for (const run of started.reverse()) await stop(run);
    await redis.stop();
  }
}

process.on("exit", () => {
  for (const run of children) if (run.child.exitCode === null) run.child.kill("SIGKILL");
});

console.log(
  `bench:serve — glide-ts default model, ${side}×${side} (${upsample ? `base + upsampler ${DEFAULT_UPSAMPLE_SAMPLER} ${DEFAULT_UPSAMPLE_STEPS[DEFAULT_UPSAMPLE_SAMPLER]}` : "base model alone"}), ${steps} dpm++2m steps`,
);
console.log(
  `${clients} concurrent clients, ${requests} requests per server; onnxruntime threads: ${threads} (direct, local worker), ${workerThreads} per Redis worker`,
);
console.log(
  `load average at start: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(", ")} (a shared machine: figures vary)\n`,
);

const baseline = await direct();
const local = await localServer();
const redis = await redisServers();

const seconds = (x: number) => x.toFixed(2).padStart(7);
const rows: [string, Figures, string][] = [
  ["direct (pipeline in-process)", baseline, "—"],
  ["glide serve (1 worker thread)", local.figures, overhead(local.figures)],
  ["glide serve --queue, 2 workers", redis.figures, overhead(redis.figures)],
];
function overhead(figures: Figures): string {
  const percent = (baseline.imagesPerSecond / figures.imagesPerSecond - 1) * 100;
  return `${percent >= 0 ? "+" : ""}${percent.toFixed(1)} %`;
}
console.log(
  `${"".padEnd(32)}${"images/s".padStart(9)}${"p50 s".padStart(8)}${"p95 s".padStart(8)}  time per image vs direct`,
);
for (const [name, figures, vs] of rows) {
  const p50 = seconds(quantile(figures.latencies, 0.5));
  const p95 = seconds(quantile(figures.latencies, 0.95));
  console.log(`${name.padEnd(32)}${figures.imagesPerSecond.toFixed(3).padStart(9)}${p50} ${p95}  ${vs}`);
}
console.log("(direct: latency of one call alone; servers: with the other clients' requests queued ahead)");
console.log(`\nburst of ${burst} requests at once, queue bounded at ${queueSize} waiting:`);
for (const [name, b] of [
  ["glide serve", local.burst],
  ["glide serve --queue (HTTP process only)", redis.burst],
] as const) {
  const other = b.other > 0 ? `, ${b.other} other` : "";
  console.log(
    `  ${name}: ${b.accepted} answered 200, ${b.refused} got 429${other}; server RSS ${b.rssBefore.toFixed(0)} MB before, peak ${b.rssPeak.toFixed(0)} MB`,
  );
}

// npm run bench:device -- --placement, or directly: which nodes of our graphs onnxruntime leaves on
// the CPU under the WebGPU provider (its verbose session log, read from a child process: onnxruntime
// writes it to the process's stderr). Each node left on the CPU costs copies between the devices.
// Graphs: the shipped base U-Net (batch 2, guided) and upsampler (batch 1, 32 → 128), and a training
// step of the tiny preset (batch 2) as the gradient graph (host optimizer) and the fused step graph.
import "../packages/glide-ts/src/platform/node.ts";
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-node";
import { GlideModel } from "../packages/glide-ts/src/glide/model.ts";
import { presetConfig } from "../packages/glide-ts/src/glide/presets.ts";
import type * as g from "../packages/glide-ts/src/graph/index.ts";
import { loadModel } from "../packages/glide-ts/src/pipelines/load-model.ts";
import { CompiledGraph } from "../packages/glide-ts/src/runtime/session.ts";
import { buildTrainingGraph, trainStepFor } from "../packages/glide-ts/src/train/objective-graph.ts";

const GRAPHS = {
  "shipped base U-Net (batch 2)": async () =>
    (await loadModel({ checkpoint: "packages/glide-ts/models/glide-ts-base32.safetensors" })).model.unetGraph(2)
      .outputs,
  "shipped upsampler U-Net (batch 1)": async () => {
    const model = (await loadModel({ checkpoint: "packages/glide-ts/models/glide-ts-upsample128.safetensors" })).model;
    return model.unetGraph(1, { lowResSize: model.config.image_size / 4 }).outputs;
  },
  "tiny training gradient graph (batch 2)": async () => trainingPlan().gradientOutputs,
  "tiny training step graph (batch 2)": async () => trainingPlan().outputs,
} satisfies Record<string, () => Promise<Record<string, g.Tensor>>>;
type GraphName = keyof typeof GRAPHS;

function trainingPlan() {
  const graph = buildTrainingGraph(new GlideModel(presetConfig("tiny"), { init: 1 }), { batch: 2 });
  return trainStepFor(graph, { clipGradNorm: 1, emaRate: 0.9999 });
}

export interface Placement {
  /** Nodes per execution provider. */
  nodes: Record<string, number>;
  /** The op types left on the CPU, with their counts. */
  onCpu: Record<string, number>;
  /** Copies of a GPU result to the host that onnxruntime inserted: each one waits for the GPU. */
  copiesToHost: number;
}

/** Parses onnxruntime's verbose "Node(s) placed on [EP]. Number of nodes: N" blocks (or "All nodes placed on"). */
export function parsePlacement(log: string): Placement {
  const nodes: Record<string, number> = {};
  const onCpu: Record<string, number> = {};
  let provider = "";
  let copiesToHost = 0;
  for (const line of log.split("\n")) {
    if (/AddCopyNode\] Add MemcpyToHost/.test(line)) copiesToHost++;
    const header = /(?:All nodes|Node\(s\)) placed on \[(\w+)\]\. Number of nodes: (\d+)/.exec(line);
    if (header) {
      provider = header[1]!;
      nodes[provider] = (nodes[provider] ?? 0) + Number(header[2]);
      continue;
    }
    const node = /VerifyEachNodeIsAssignedToAnEp\]\s+(\w+) \(/.exec(line);
    if (!node) provider = "";
    else if (provider === "CPUExecutionProvider") onCpu[node[1]!] = (onCpu[node[1]!] ?? 0) + 1;
  }
  return { nodes, onCpu, copiesToHost };
}

export function placementOf(name: GraphName): Placement | { error: string } {
  const script = fileURLToPath(import.meta.url);
  // The log goes to a file: read from a pipe, the end of it was sometimes missing.
  const logFile = join(mkdtempSync(join(tmpdir(), "glide-placement-")), "ort.log");
  const log = openSync(logFile, "w");
  const child = spawnSync(process.execPath, [...process.execArgv, script, "--child", name], {
    stdio: ["ignore", "ignore", log],
  });
  closeSync(log);
  const text = readFileSync(logFile, "utf-8");
  rmSync(dirname(logFile), { recursive: true });
  if (child.status !== 0) return { error: text.trim().split("\n").at(-1) ?? `exit ${child.status}` };
  return parsePlacement(text);
}

if (process.argv[2] === "--child") {
  // The process-wide log level bounds every session's; it is fixed when the first session is made.
  ort.env.logLevel = "verbose";
  const outputs = await GRAPHS[process.argv[3] as GraphName]();
  // Placement is settled when the session is created; WebGPU compiles its shaders on the first run.
  const compiled = await CompiledGraph.compile(outputs, { executionProvider: "webgpu", logLevel: 0, params: "inputs" });
  await compiled.release();
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const name of Object.keys(GRAPHS) as GraphName[]) {
    const placement = placementOf(name);
    if ("error" in placement) {
      console.log(`${name}: ${placement.error}`);
      continue;
    }
    const total = Object.values(placement.nodes).reduce((a, b) => a + b, 0);
    const cpu = placement.nodes.CPUExecutionProvider ?? 0;
    const ops = Object.entries(placement.onCpu)
      .sort((a, b) => b[1] - a[1])
      .map(([op, n]) => `${n} ${op}`)
      .join(", ");
    console.log(
      `${name}: ${cpu} of ${total} nodes on the CPU${ops ? ` (${ops})` : ""}, ` +
        `${placement.copiesToHost} cop${placement.copiesToHost === 1 ? "y" : "ies"} of a GPU result to the host`,
    );
  }
}

// Which workers are alive and what they serve: each `glide worker` keeps a key with its models and
// its slots, renewed every few seconds; a worker that dies (even by SIGKILL) drops out when the key
// expires. Servers read it for /readyz, /metrics and the sizes the models make.
import { hostname } from "node:os";
import type { Redis } from "ioredis";
import type { ServedModel } from "../worker-pool.ts";
import { redisKeys } from "./redis-connection.ts";

export interface WorkerRegistration {
  id: string;
  host: string;
  pid: number;
  /** Jobs it runs at once. */
  slots: number;
  served: ServedModel;
}

const RENEW_MS = 2000;
/** Three renewals may be missed (a loaded machine) before a worker counts as gone. */
const EXPIRE_MS = 3 * RENEW_MS + 1000;

export class WorkerHeartbeat {
  private timer: NodeJS.Timeout | undefined;
  readonly registration: WorkerRegistration;

  constructor(
    private readonly client: Redis,
    id: string,
    slots: number,
    served: ServedModel,
  ) {
    this.registration = { id, host: hostname(), pid: process.pid, slots, served };
  }

  async start(): Promise<void> {
    await this.renew();
    this.timer = setInterval(() => void this.renew().catch(() => undefined), RENEW_MS);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.client.del(redisKeys.worker(this.registration.id));
  }

  private async renew(): Promise<void> {
    await this.client.set(redisKeys.worker(this.registration.id), JSON.stringify(this.registration), "PX", EXPIRE_MS);
  }
}

/** The workers whose registration has not expired. */
export async function liveWorkers(client: Redis): Promise<WorkerRegistration[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, found] = await client.scan(cursor, "MATCH", redisKeys.workerPattern, "COUNT", 100);
    keys.push(...found);
    cursor = next;
  } while (cursor !== "0");
  if (keys.length === 0) return [];
  const values = await client.mget(keys);
  return values.flatMap((value) => (value === null ? [] : [JSON.parse(value) as WorkerRegistration]));
}

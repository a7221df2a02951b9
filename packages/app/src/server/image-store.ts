// Results asked for as `url`: PNG files under unguessable names in a private temporary folder,
// served (by @fastify/static) until they expire, then deleted.
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export class ImageStore {
  private readonly expiries = new Map<string, number>();
  private readonly sweeper: NodeJS.Timeout;

  private constructor(
    readonly dir: string,
    private readonly ttlMs: number,
  ) {
    this.sweeper = setInterval(() => void this.sweep(), Math.min(ttlMs, 60_000));
    this.sweeper.unref();
  }

  static async create(ttlSeconds: number): Promise<ImageStore> {
    return new ImageStore(await mkdtemp(join(tmpdir(), "glide-serve-")), ttlSeconds * 1000);
  }

  /** Stores a PNG; returns its file name. */
  async put(png: Uint8Array): Promise<string> {
    const name = `${randomUUID()}.png`;
    await writeFile(join(this.dir, name), png, { mode: 0o600 });
    this.expiries.set(name, Date.now() + this.ttlMs);
    return name;
  }

  /** Whether `name` is a stored image that has not expired. */
  has(name: string): boolean {
    const expiry = this.expiries.get(name);
    return expiry !== undefined && expiry > Date.now();
  }

  async sweep(now = Date.now()): Promise<void> {
    for (const [name, expiry] of this.expiries) {
      if (expiry > now) continue;
      this.expiries.delete(name);
      await unlink(join(this.dir, name)).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.expiries.clear();
    await rm(this.dir, { recursive: true, force: true });
  }
}
